"""Tests for ingest.clauses: handwritten Dutch and English contracts with the hard cases, real
CUAD contracts and the Dutch GIBIT agreement from the shared corpus, pages and tiling."""

from __future__ import annotations

import json
import os
import re
import statistics
from pathlib import Path

import pytest

from ingest.clauses import Clause, context_headings, in_definitions, segment

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CUAD = "cuad-dev"
GIBIT = (
    "dutch/vng-softwarecatalogus-aanbesteding/"
    "Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx"
)
ARBIT = "dutch/ARBIT-2010_BWBR0027935.md"
GIBIT_NOTES = (
    "dutch/vng-softwarecatalogus-aanbesteding/"
    "Bijlage 3.02 - Concept overeenkomst toelichting per artikel.pdf"
)

# Pages are separated by form feeds, as text extraction from a PDF delivers them. The table of
# contents, running header, page footers, the amount and date at line starts, the wrapped
# "12.3 miljoen", the list items a./b. and the cross-reference "2.1 Looptijd" in 4.2 must not
# open clauses; the annex restarts its numbering. The bare article headings (and article 1 with
# only its lead-in) join their first sub-clause, the annex title its first clause.
DUTCH = """OVEREENKOMST VOOR DE LEVERING VAN SOFTWARE

Ondergetekenden:
De Gemeente Voorbeeld, gevestigd te Utrecht, hierna "Opdrachtgever",
en Leverancier B.V., gevestigd te Delft, hierna "Leverancier",

Inhoudsopgave
Artikel 1 Begripsbepalingen .................... 2
Artikel 2 Looptijd ............................. 2
Artikel 3 Prijzen en betaling .................. 3
Artikel 4 Aansprakelijkheid .................... 3
Bijlage 1 Prijzen .............................. 4
\f
Overeenkomst softwarelevering – vertrouwelijk
Artikel 1 – Begripsbepalingen
In deze overeenkomst wordt verstaan onder:
1.1 Programmatuur: de door Leverancier te leveren software.
1.2 Dienst: het beheer van de Programmatuur, zoals nader omschreven in
artikel 3.2 van deze overeenkomst.
Artikel 2. Looptijd
2.1 De overeenkomst gaat in op 1 januari 2025 en eindigt op
31.12.2025 tenzij partijen anders overeenkomen.
2.2 Opdrachtgever kan de overeenkomst twee maal verlengen met telkens
12 maanden.
Pagina 2 van 4
\f
Overeenkomst softwarelevering – vertrouwelijk
ARTIKEL 3 PRIJZEN EN BETALING
3.1 De totale vergoeding bedraagt EUR
1.250.000 exclusief btw.
3.2 Betaling geschiedt binnen 30 dagen na ontvangst van de factuur, mits:
a. de factuur voldoet aan de eisen van de wet;
b. de Dienst is geaccepteerd.
Artikel 4 Aansprakelijkheid
4.1 De aansprakelijkheid van Leverancier is beperkt tot
12.3 miljoen euro per gebeurtenis.
4.2 Voor de toepassing van dit artikel geldt de termijn uit
2.1 Looptijd. Deze termijn geldt ook na het einde van de overeenkomst.
Pagina 3 van 4
\f
Overeenkomst softwarelevering – vertrouwelijk
BIJLAGE 1 - Prijzen
1. Licenties
De licentievergoeding bedraagt EUR 100.000 per jaar.
2. Beheer
De beheervergoeding bedraagt EUR 50.000 per jaar.
Pagina 4 van 4
"""

DUTCH_CLAUSES = [
    ("", "", 1),
    ("1", "Begripsbepalingen", 2),
    ("1.2", "", 2),  # a definition: its term is not its heading
    ("2", "Looptijd", 2),
    ("2.2", "", 2),
    ("3", "PRIJZEN EN BETALING", 3),
    ("3.2", "", 3),
    ("4", "Aansprakelijkheid", 3),
    ("4.2", "", 3),
    ("1", "Licenties", 4),
    ("2", "Beheer", 4),
]

# A table of contents without leaders (only trailing page numbers), "(a)" sub-items, "1." +
# lower case list items, "Section 4" and "12.3 million" at line starts, "Page N of M" footers,
# and a cross-reference line "1.1 Fees and Charges" after clause 5.
ENGLISH = """MASTER SERVICES AGREEMENT

This Master Services Agreement is entered into by Acme Ltd ("Supplier") and Beta Inc.

TABLE OF CONTENTS
1. Definitions 1
2. Services 2
3. Fees 2
4. Term and Termination 3
5. Limitation of Liability 3

1. Definitions.
In this Agreement the following terms have the following meanings:
(a) "Services" means the services described in Schedule A;
(b) "Fees" means the fees set out in Exhibit B.
2. Services. The Supplier shall provide the Services in accordance with
Section 4 and the service levels. The Supplier shall:
1. the Supplier shall appoint a service manager; and
2. the Supplier shall report monthly.
Page 1 of 3
\f
3. Fees. The Customer shall pay the Fees, which amount to USD
12.3 million per year, within 30 days.
4. Term and Termination.
4.1 Term. This Agreement starts on the Effective Date and continues for three years.
4.2 Termination. Either party may terminate this Agreement by written notice if
the other party commits a material breach.
5. Limitation of Liability. Neither party's liability shall exceed the Fees paid in the
twelve months before the claim, as set out in
1.1 Fees and Charges of the price list.
Page 2 of 3
\f
SCHEDULE A
Services
The Supplier hosts the platform and gives support during business hours.
EXHIBIT B - Fees
The Fees are USD 10,000 per month.
Page 3 of 3
"""

ENGLISH_CLAUSES = [
    ("", "", 1),
    ("1", "Definitions", 1),
    ("2", "Services", 1),
    ("3", "Fees", 2),
    ("4", "Term and Termination", 2),
    ("4.2", "Termination", 2),
    ("5", "Limitation of Liability", 2),
    ("Schedule A", "Services", 3),
    ("Exhibit B", "Fees", 3),
]


BODIES = [
    "Deze bepaling geldt voor beide partijen.",
    "The parties agree to what follows here.",
    "Leverancier draagt zorg voor de uitvoering.",
    "Payment is due within thirty days of the invoice.",
]


# --- helpers -------------------------------------------------------------------------------


def corpus_path(relative: str) -> Path:
    """A corpus file or folder, skipping (or failing on CI) when the shared corpus lacks it."""
    path = CORPUS / relative
    if not path.exists():
        message = f"the shared corpus does not have {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def labels(clauses: list[Clause]) -> list[tuple[str, str]]:
    """(number, heading) of each clause."""
    return [(clause.number, clause.heading) for clause in clauses]


def assert_tiles(text: str, clauses: list[Clause]) -> None:
    """The clauses cover `text` in order, without gaps or overlaps, and their fields agree."""
    assert clauses, "no clauses"
    assert clauses[0].start == 0
    assert clauses[-1].end == len(text)
    for position, clause in enumerate(clauses):
        assert clause.position == position
        assert clause.start < clause.end
        assert clause.text == text[clause.start : clause.end]
        assert clause.page == text.count("\f", 0, clause.start + _lead(clause.text)) + 1
        assert len(clause.heading) <= 300
    for before, after in zip(clauses, clauses[1:], strict=False):
        assert before.end == after.start
    assert "".join(clause.text for clause in clauses) == text


def _lead(text: str) -> int:
    """Length of the white space a clause text starts with."""
    return len(text) - len(text.lstrip())


def find(clauses: list[Clause], number: str) -> Clause:
    """The first clause with `number`."""
    matches = [clause for clause in clauses if clause.number == number]
    assert matches, f"no clause {number!r} in {labels(clauses)}"
    return matches[0]


def cuad_text(name: str) -> str:
    """Plain text of a CUAD contract whose file name starts with `name`."""
    folder = corpus_path(f"{CUAD}/txt")
    paths = sorted(folder.glob(f"{name}*.txt"))
    assert paths, f"no CUAD text starting with {name!r}"
    return paths[0].read_text(encoding="utf-8")


def docx_text(path: Path, *, numbering: bool) -> str:
    """Paragraph text of a .docx joined with newlines; with `numbering`, the Word list numbers
    of the GIBIT "Article Level" styles ("Artikel 4.", "4.2.") are written out as Word shows
    them, since python-docx leaves automatic numbering out of the text."""
    docx = pytest.importorskip("docx")
    lines = []
    article = item = 0
    for paragraph in docx.Document(str(path)).paragraphs:
        text = paragraph.text
        if numbering and paragraph.style.name == "Article Level 1":
            article, item = article + 1, 0
            text = f"Artikel {article}. {text}"
        elif numbering and paragraph.style.name == "Article Level 2":
            item += 1
            text = f"{article}.{item}. {text}"
        lines.append(text)
    return "\n".join(lines)


# --- handwritten contracts -----------------------------------------------------------------


def test_dutch_contract_with_toc_amounts_dates_headers_and_annex() -> None:
    clauses = segment(DUTCH)
    assert [(c.number, c.heading, c.page) for c in clauses] == DUTCH_CLAUSES
    assert_tiles(DUTCH, clauses)
    assert find(clauses, "1").text.endswith(
        "1.1 Programmatuur: de door Leverancier te leveren software.\n"
    )
    assert find(clauses, "2").text.startswith("Artikel 2. Looptijd\n2.1 De overeenkomst")
    assert "31.12.2025" in find(clauses, "2").text
    assert "1.250.000" in find(clauses, "3").text
    assert "b. de Dienst" in find(clauses, "3.2").text
    assert "2.1 Looptijd" in find(clauses, "4.2").text
    assert "Inhoudsopgave" in clauses[0].text
    assert clauses[-2].text.startswith("BIJLAGE 1 - Prijzen\n1. Licenties\nDe licentievergoeding")


def test_english_contract_with_bare_toc_lists_and_cross_reference() -> None:
    clauses = segment(ENGLISH)
    assert [(c.number, c.heading, c.page) for c in clauses] == ENGLISH_CLAUSES
    assert_tiles(ENGLISH, clauses)
    assert "TABLE OF CONTENTS" in clauses[0].text
    assert '(b) "Fees"' in find(clauses, "1").text
    assert "2. the Supplier shall report monthly" in find(clauses, "2").text
    assert "12.3 million" in find(clauses, "3").text
    assert find(clauses, "4").text.startswith("4. Term and Termination.\n4.1 Term. This Agreement")
    assert "1.1 Fees and Charges" in find(clauses, "5").text


@pytest.mark.parametrize(("text", "expected"), [(DUTCH, DUTCH_CLAUSES), (ENGLISH, ENGLISH_CLAUSES)])
def test_windows_line_endings_give_the_same_clauses(
    text: str, expected: list[tuple[str, str, int]]
) -> None:
    crlf = text.replace("\n", "\r\n")
    clauses = segment(crlf)
    assert [(c.number, c.heading, c.page) for c in clauses] == expected
    assert_tiles(crlf, clauses)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ["Artikel 1 – Definities", "Artikel 2. Looptijd", "ARTIKEL 3 AANSPRAKELIJKHEID"],
            [("1", "Definities"), ("2", "Looptijd"), ("3", "AANSPRAKELIJKHEID")],
        ),
        (["Art. 1 Definities", "Art. 2 Looptijd"], [("1", "Definities"), ("2", "Looptijd")]),
        (["ARTICLE IV\nPayment", "ARTICLE V\nTerm"], [("IV", "Payment"), ("V", "Term")]),
        (
            ["Section 1. Definitions", "SECTION 2. TERM", "Section 3 – Fees"],
            [("1", "Definitions"), ("2", "TERM"), ("3", "Fees")],
        ),
        (
            ["Hoofdstuk 1 Algemeen", "Paragraaf 1.1 Toepassing", "Paragraaf 1.2 Looptijd"],
            [("Hoofdstuk 1", "Algemeen"), ("1.1", "Toepassing"), ("1.2", "Looptijd")],
        ),
        (
            ["7.2 Onderhoud", "7.2.1 Correctief onderhoud", "7.2.2 Preventief onderhoud"],
            [
                ("7.2", "Onderhoud"),
                ("7.2.1", "Correctief onderhoud"),
                ("7.2.2", "Preventief onderhoud"),
            ],
        ),
        (
            ["12.2 Garanties", "12.3Aansprakelijkheid", "12.4 Overmacht"],
            [("12.2", "Garanties"), ("12.3", "Aansprakelijkheid"), ("12.4", "Overmacht")],
        ),
        (
            [
                "1. Term. This Agreement runs for a year.",
                "2. Termination. Either party may end it.",
            ],
            [("1", "Term"), ("2", "Termination")],
        ),
        (
            ["Schedule A", "Annex 1 Service Levels", "Exhibit B - Prices", "Bijlage 2"],
            [
                ("Schedule A", ""),
                ("Annex 1", "Service Levels"),
                ("Exhibit B", "Prices"),
                ("Bijlage 2", ""),
            ],
        ),
    ],
)
def test_recognised_headings(lines: list[str], expected: list[tuple[str, str]]) -> None:
    text = "Overeenkomst tussen partijen.\n" + "".join(
        f"{line}\n{body}\n" for line, body in zip(lines, BODIES, strict=False)
    )
    clauses = segment(text)
    assert labels(clauses) == [("", ""), *expected]
    assert_tiles(text, clauses)


@pytest.mark.parametrize(
    "line",
    [
        "1.250.000 euro is het maximum.",
        "31.12.2025 is de einddatum.",
        "12.3 million is the cap.",
        "Page 3 of 12",
        "- 3 -",
        "1. the Supplier shall deliver.",
        "(a) Exclusions.",
        "Artikel 12 van de Algemene Voorwaarden is van toepassing.",
        "Section 5.2 applies to this clause.",
        "Exhibit A attached hereto.",
        "2.5 3.7 4.1",
    ],
)
def test_lines_that_do_not_open_clauses(line: str) -> None:
    text = (
        "1. Scope. The Supplier delivers the goods.\n"
        f"{line}\n"
        "The remainder of the paragraph.\n"
        "2. Price. The Customer pays the price.\n"
    )
    assert labels(segment(text)) == [("1", "Scope"), ("2", "Price")]


def test_cross_reference_out_of_sequence_is_not_a_clause() -> None:
    text = "".join(
        f"{number}.1 Heading {number}\nBody text of clause {number}, long enough.\n"
        for number in range(10, 15)
    )
    text = text.replace("Body text of clause 14", "See\n3.2 Definitions, which applies. Body")
    assert [clause.number for clause in segment(text)] == [f"{n}.1" for n in range(10, 15)]


def test_running_header_repeated_on_every_page_is_not_a_heading() -> None:
    page = (
        "Acme Confidential Report\n{n}. Clause {n}\nThe text of clause {n} goes here at length.\n"
    )
    text = "\f".join(page.format(n=n) for n in range(1, 6))
    clauses = segment(text)
    assert [(c.number, c.page) for c in clauses] == [("", 1)] + [(str(n), n) for n in range(1, 6)]
    assert clauses[0].text == "Acme Confidential Report\n"
    assert_tiles(text, clauses)


def test_unnumbered_headings_in_a_document_without_numbers() -> None:
    text = (
        "Samenwerkingsovereenkomst\n\n"
        "Partijen zijn het volgende overeengekomen.\n\n"
        "Begripsbepalingen\n"
        "In deze overeenkomst hebben begrippen met een hoofdletter de betekenis hieronder.\n\n"
        "Looptijd\n"
        "De overeenkomst geldt voor twee jaar en wordt daarna stilzwijgend verlengd.\n\n"
        "Geheimhouding\n"
        "Partijen houden vertrouwelijke informatie geheim, ook na het einde.\n"
    )
    clauses = segment(text)
    assert labels(clauses) == [
        ("", "Samenwerkingsovereenkomst"),
        ("", "Begripsbepalingen"),
        ("", "Looptijd"),
        ("", "Geheimhouding"),
    ]
    assert_tiles(text, clauses)


def test_text_without_structure_yields_bounded_sections() -> None:
    sentence = "dit is een zin zonder enige structuur die maar doorgaat en doorgaat. "
    text = "\n\n".join(sentence * 12 for _ in range(40)) + "\f" + sentence * 30
    clauses = segment(text, max_clause_chars=2000)
    assert len(clauses) > len(text) // 2000
    assert all(len(clause.text) <= 2000 for clause in clauses)
    assert {(clause.number, clause.heading) for clause in clauses} == {("", "")}
    assert clauses[-1].page == 2
    assert_tiles(text, clauses)
    cut_at_paragraphs = [c for c in clauses[:-1] if c.text.endswith("\n\n") or "\f" in c.text]
    assert len(cut_at_paragraphs) >= len(clauses) - 2


def test_long_clause_is_split_into_parts_with_the_same_number() -> None:
    paragraph = "The Supplier shall keep all information confidential at all times.\n"
    text = "1. Scope. Short.\n2. Confidentiality. " + paragraph * 200 + "3. Term. Short.\n"
    clauses = segment(text, max_clause_chars=3000)
    parts = [clause for clause in clauses if clause.number == "2"]
    assert len(parts) >= 5
    assert all(part.heading == "Confidentiality" for part in parts)
    assert all(len(clause.text) <= 3000 for clause in clauses)
    assert [clause.number for clause in clauses] == ["1", *["2"] * len(parts), "3"]
    assert_tiles(text, clauses)


def test_empty_and_blank_text() -> None:
    assert segment("") == []
    assert segment(" \n\f\n ") == []
    with pytest.raises(ValueError):
        segment("text", max_clause_chars=0)


def test_leading_white_space_goes_to_the_first_clause() -> None:
    text = "\n\n  1. Scope. Text.\n2. Price. Text.\n"
    clauses = segment(text)
    assert labels(clauses) == [("1", "Scope"), ("2", "Price")]
    assert_tiles(text, clauses)


# --- real contracts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "TRANSMONTAIGNEPARTNERSLLC",
            [
                ("I", "Services"),
                ("1.2", "Reimbursement and Allocation"),
                ("II", "Miscellaneous"),  # holds 2.1 Choice of Law, its first paragraph
                ("2.5", "Assignment"),
            ],
        ),
        (
            "EtonPharmaceuticalsInc",
            [
                ("11", "TERM AND TERMINATION"),
                ("11.2", "Termination for Breach"),
                ("14", "LIMITATION OF LIABILITY"),
                ("15", "MISCELLANEOUS"),  # holds 15.1 Governing Law, its first paragraph
                ("15.8", "Assignment"),
            ],
        ),
        (
            "Quaker Chemical",
            [("2", "Notices"), ("4", "Governing Law"), ("8", "Severability")],
        ),
        (
            "GopageCorp",
            [("6.2", "Termination"), ("11.7", "Assignment")],
        ),
        (
            "Sonos",
            [("15.0", "TERM AND TERMINATION"), ("15.3", "Termination for Convenience")],
        ),
    ],
)
def test_cuad_contracts(name: str, expected: list[tuple[str, str]]) -> None:
    text = cuad_text(name)
    clauses = segment(text)
    assert_tiles(text, clauses)
    found = set(labels(clauses))
    for clause in expected:
        assert clause in found
    assert all(len(clause.text) <= 6000 for clause in clauses)


def test_cuad_governing_law_clause_holds_the_annotated_span() -> None:
    text = cuad_text("GopageCorp")
    clause = next(c for c in segment(text) if c.heading.startswith("Governing Law"))
    assert clause.number == "11.11"
    assert "governed by" in clause.text


def test_cuad_annotated_spans_fall_inside_one_clause() -> None:
    data = json.loads(corpus_path(f"{CUAD}/cuad_dev.json").read_text(encoding="utf-8"))["data"]
    categories = {"Governing Law", "Anti-Assignment", "Cap On Liability", "Renewal Term"}
    inside = total = 0
    counts = []
    for document in data:
        context = document["paragraphs"][0]
        clauses = segment(context["context"])
        counts.append(len(clauses))
        for question in context["qas"]:
            if question["id"].split("__")[-1] not in categories:
                continue
            for answer in question["answers"]:
                start = answer["answer_start"]
                end = start + len(answer["text"])
                if start < 0:  # a few annotations were never located in the text
                    continue
                total += 1
                inside += any(c.start <= start and end <= c.end for c in clauses)
    assert total > 100
    assert inside / total > 0.95
    assert statistics.median(counts) >= 15


def test_gibit_agreement_unnumbered_article_headings() -> None:
    text = docx_text(corpus_path(GIBIT), numbering=False)
    clauses = segment(text)
    assert_tiles(text, clauses)
    headings = [clause.heading for clause in clauses]
    for heading in (
        "Voorwerp van de Overeenkomst",
        "Looptijd",
        "Verwerking van persoonsgegevens",
        "Contactpersonen en bevoegdheden",
    ):
        assert heading in headings
    term = clauses[headings.index("Looptijd")]
    assert "looptijd tot vier (4) jaar" in term.text
    assert term.number == ""


def test_gibit_agreement_with_word_numbering() -> None:
    text = docx_text(corpus_path(GIBIT), numbering=True)
    clauses = segment(text)
    assert_tiles(text, clauses)
    term = find(clauses, "4")
    assert term.heading == "Looptijd"
    assert "looptijd tot vier (4) jaar" in find(clauses, "4.2").text
    assert find(clauses, "11").heading == "Intellectuele eigendom"
    assert find(clauses, "12").heading == "Verwerking van persoonsgegevens"
    assert find(clauses, "12.2").text.startswith("12.2. De standaard Verwerkersovereenkomst")
    numbers = [clause.number for clause in clauses if clause.number]
    assert numbers == sorted(set(numbers), key=numbers.index)


def test_arbit_general_conditions_liability_article() -> None:
    text = corpus_path(ARBIT).read_text(encoding="utf-8")
    clauses = segment(text)
    assert_tiles(text, clauses)
    liability = find(clauses, "26")
    assert liability.heading == "Aansprakelijkheid"
    assert "1.250.000" in find(clauses, "26.2").text
    articles = [int(c.number) for c in clauses if re.fullmatch(r"\d+", c.number)]
    assert len(articles) >= 80


def test_gibit_explanation_pdf_pages_and_wrapped_headings() -> None:
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(str(corpus_path(GIBIT_NOTES)))
    text = "\f".join(page.extract_text() or "" for page in reader.pages)
    clauses = segment(text)
    assert_tiles(text, clauses)
    articles = [clause for clause in clauses if clause.number]
    assert list(dict.fromkeys(clause.number for clause in articles)) == [
        str(number) for number in range(1, 37)
    ]
    assert min(clause.page for clause in articles) == 5  # pages 2-4 hold the contents list
    liability = find(clauses, "16")
    assert (liability.heading, liability.page) == ("Aansprakelijkheid", 29)
    assert find(clauses, "8").heading == (
        "Gemeentelijke ICT-kwaliteitsnormen, Interoperabiliteitseisen, normen en standaarden"
    )
    assert all(len(clause.text) <= 6000 for clause in clauses)


def test_sub_clauses_take_their_article_heading_as_context() -> None:
    text = (
        "Artikel 4 Looptijd\n"
        "4.1 De overeenkomst gaat in op 1 januari.\n"
        "4.2 Zij kan worden verlengd.\n"
        "4.2.1 Telkens met een jaar.\n"
        "Artikel 5 Prijzen\n"
        "5.1 Prijzen zijn vast.\n"
    )
    clauses = segment(text)
    assert [c.number for c in clauses] == ["4", "4.2", "4.2.1", "5"]
    assert context_headings(clauses) == ["Looptijd"] * 3 + ["Prijzen"]
    assert [c.heading for c in clauses][1:3] == ["", ""], "the clauses themselves keep theirs"


# Markdown as converted regulations write it: a number and its title as two headings
# ("### 1", "#### Begrippen"), emphasis around a title, closing marks.
MARKDOWN = """# Algemene voorwaarden

Deze voorwaarden gelden voor elke opdracht van de gemeente.

### 1

#### Begrippen

1.1 Opdrachtgever: de gemeente.

1.2 Opdrachtnemer: de leverancier.

### 2

####*Looptijd*

2.1 De overeenkomst loopt vier jaar.

2.2 Verlenging is twee keer mogelijk.

## Artikel 3 Aansprakelijkheid ##

3.1 De aansprakelijkheid is beperkt tot de opdrachtsom.
"""


def test_markdown_headings_open_clauses_at_offsets_into_the_markdown() -> None:
    clauses = segment(MARKDOWN, markdown=True)
    assert_tiles(MARKDOWN, clauses)  # texts and offsets are the Markdown's, marks included
    # Each article's headings join its first sub-clause (a bare heading is no clause of its own).
    assert [(c.number, c.heading) for c in clauses] == [
        ("", "Algemene voorwaarden"),  # the title heads the text before the first article
        ("1", "Begrippen"),
        ("1.2", ""),  # a definition, found under "Begrippen"
        ("2", "Looptijd"),
        ("2.2", ""),
        ("3", "Aansprakelijkheid"),
    ]
    assert find(clauses, "2").text.startswith("### 2\n\n####*Looptijd*\n\n2.1 De overeenkomst")
    assert context_headings(clauses)[4] == "Looptijd"  # 2.2 is found under its article's title
    # Read as plain text, the split headings hide articles 1 and 2.
    assert [c.number for c in segment(MARKDOWN)] == ["", "1.1", "1.2", "2.1", "2.2", "3"]


DEFINITIONS = """Artikel 1 Definities
1.1 Broncode: het geheel van programma-instructies in hun oorspronkelijke taal.
1.2 Objectcode: Vertaling van de Broncode in uitvoerbare code.
1.3 "Affiliate" means any entity that controls a party.
1.4 "Services" shall have the meaning given in Schedule A.
Artikel 2 Escrow
2.1 Escrow: De leverancier deponeert de broncode bij een escrow-agent.
2.2 Governing Law: This Agreement is governed by Dutch law.
2.3 Confidentiality. Each party keeps the other's information confidential.
2.4 "Escrow": the deposit of source code with an agent.
"""


def test_a_definition_takes_its_article_heading_not_its_term() -> None:
    """A definition is no clause about what it defines: the term it opens with is not its
    heading, so "escrow" finds article 2 before the definition, which is found under the
    heading of its article. A run-in heading followed by a sentence stays a heading."""
    clauses = segment(DEFINITIONS)
    assert [(c.number, c.heading) for c in clauses] == [
        ("1", "Definities"),
        ("1.2", ""),  # "Term: Capital" inside a definitions article
        ("1.3", ""),  # '"Term" means'
        ("1.4", ""),  # '"Term" shall have the meaning'
        ("2", "Escrow"),
        ("2.2", "Governing Law"),  # "Heading: Sentence" outside a definitions article
        ("2.3", "Confidentiality"),
        ("2.4", ""),  # "Term": lower case, wherever it stands
    ]
    assert context_headings(clauses)[1:4] == ["Definities"] * 3
    # A definitions article's own heading stays, whatever follows its colon.
    english = segment(
        '1. Definitions: the following terms have these meanings.\n1.1 "Fees" means the fees.\n'
        "2. Services. The supplier hosts the platform.\n3. Fees. The customer pays monthly.\n"
    )
    assert [(c.number, c.heading) for c in english] == [
        ("1", "Definitions"),
        ("1.1", ""),
        ("2", "Services"),
        ("3", "Fees"),
    ]


def test_the_clauses_of_a_definitions_article_are_marked_as_definitions() -> None:
    """Search ranks them lower (search.planning.DEFINITION_WEIGHT): they say what a word
    means, not what was agreed; a definition outside such an article (2.4) is not marked."""
    clauses = segment(DEFINITIONS)
    marked = [in_definitions(h) for h in context_headings(clauses)]
    assert marked == [True, True, True, True, False, False, False, False]
    for heading in (
        "Begripsbepalingen",
        "Aanvullende begripsbepalingen",
        "DEFINITIONS AND INTERPRETATION",
        "ARTICLE 1 - DEFINITIONS",
        "Defined Terms",
        "Certain Definitions",
    ):
        assert in_definitions(heading), heading
    for heading in (
        "Aansprakelijkheid",
        "Escrow",
        "Term and Termination",
        "",
        "Definitieve oplevering",
        "Definitive Agreement",
        "Governing Law and Interpretation",
        "Applicable law; interpretation",
        "Prijzen met inbegrip van btw",
    ):
        assert not in_definitions(heading), heading


def test_a_markdown_subtitle_stays_apart_from_the_heading_above_it() -> None:
    """ "### Bijlage 1" then "####bij de Regeling ..." is a number and a subtitle, not a title:
    joined, "Bijlage 1 bij de Regeling" would read as a reference in running text."""
    text = (
        "Den Haag, 19 december 2007\n\n### Bijlage 1 \n\n####bij de Regeling Verhuur 2008\n\n"
        "1.  Partijen verplichten zich.\n\n2.  Het object.\n\n3.  De duur.\n"
    )
    clauses = segment(text, markdown=True)
    assert_tiles(text, clauses)
    # The annex number and its subtitle hold only headings, so they join the clause below.
    assert labels(clauses) == [label for label in labels(segment(text)) if label[0] != "Bijlage 1"]
    assert find(clauses, "1").text.startswith(
        "### Bijlage 1 \n\n####bij de Regeling Verhuur 2008\n\n1."
    )
    assert find(clauses, "1").heading == "", "a subtitle is no clause's heading"


# Converted regulations put chapter titles between articles ("### V" with its title), title
# headings without a number, and headings without a space after the marks.
MARKDOWN_CHAPTERS = """### Artikel 11

####Voorschot

11.1. Koper kan een garantie verlangen.

11.2. De garantie wordt afgegeven door een bank.

### V

####Tekortschieten in de nakoming, ontbinding

### Artikel 12

####Tekortschieten in de nakoming

12.1. Koper kan herstel of vervanging eisen.

12.2. Leverancier draagt de kosten.

## Hoofdstuk 3 Slotbepalingen

### Artikel 13

####beveiligingsprocedures en huisregels

13.1. Leverancier volgt de huisregels van Koper.

### Definities

In deze voorwaarden betekent Koper de gemeente.

### Artikel 14 Toepasselijk recht

Op de overeenkomst is Nederlands recht van toepassing.
"""


def heading_lines(clause: Clause) -> list[str]:
    """The Markdown heading lines of a clause's text."""
    return [line for line in clause.text.splitlines() if re.match(r" {0,3}#", line)]


def test_a_markdown_heading_never_ends_the_clause_above_it() -> None:
    clauses = segment(MARKDOWN_CHAPTERS, markdown=True)
    assert_tiles(MARKDOWN_CHAPTERS, clauses)
    for clause in clauses:
        last = [line for line in clause.text.splitlines() if line.strip()][-1]
        assert not last.startswith("#"), f"{clause.number} ends in a heading: {last!r}"
    assert find(clauses, "11.2").text.rstrip().endswith("afgegeven door een bank.")
    # The chapter title heads the article under it, which keeps its number and title.
    article = find(clauses, "12")
    assert article.heading == "Tekortschieten in de nakoming"
    assert article.text.startswith("### V\n\n####Tekortschieten in de nakoming, ontbinding\n\n")
    assert find(clauses, "13").text.startswith("## Hoofdstuk 3 Slotbepalingen\n\n### Artikel 13")
    # A lower-case title under an article number is still its title.
    assert find(clauses, "13").heading == "Beveiligingsprocedures en huisregels"
    # An unnumbered title heading opens a clause of its own when text follows it.
    assert ("", "Definities") in labels(clauses)
    assert "### Definities" not in find(clauses, "13").text
    assert context_headings(clauses)[labels(clauses).index(("12.2", ""))] == (
        "Tekortschieten in de nakoming"
    )
    # No clause holds only headings.
    assert all(len(heading_lines(c)) < len(c.text.strip().splitlines()) for c in clauses)


def test_a_markdown_article_heading_the_segmenter_cannot_number_still_names_its_clause() -> None:
    """Annex articles numbered "E1", "E2" are headings to the reader; each opens a clause
    numbered and headed by it, also when numbered paragraphs follow it directly."""
    text = (
        "### Bijlage 1 Algemene bepalingen\n\n"
        "#### *Artikel E1 Object*\n\nHet object is het kantoor.\n\n"
        "#### *Artikel E2 Duur*\n\n1. De duur is vijf jaar.\n\n2. Opzegging kan jaarlijks.\n\n"
        "3. Verlenging is mogelijk.\n\n#### *Artikel E3 Prijs*\n\nDe prijs is vast.\n"
    )
    clauses = segment(text, markdown=True)
    assert_tiles(text, clauses)
    assert [label for label in labels(clauses) if label[0].startswith("E")] == [
        ("E1", "Object"),
        ("E2", "Duur"),
        ("E3", "Prijs"),
    ]
    assert find(clauses, "E2").text.startswith("#### *Artikel E2 Duur*\n\n1. De duur")


def test_plain_text_segmentation_ignores_hash_lines() -> None:
    """Only Markdown is read for its headings: the same text as plain text keeps the chapter
    title at the end of the clause above it, as before."""
    clauses = segment(MARKDOWN_CHAPTERS)
    assert "Tekortschieten in de nakoming, ontbinding" in find(clauses, "11.2").text


def test_no_clause_of_the_dutch_markdown_regulations_ends_in_a_heading() -> None:
    paths = sorted(corpus_path("dutch").glob("*.md"))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        clauses = segment(text, markdown=True)
        for clause in clauses:
            lines = [line for line in clause.text.splitlines() if line.strip()]
            assert not re.match(r" {0,3}#", lines[-1]), (path.name, clause.number, lines[-1])


def test_the_dutch_markdown_regulations_lose_no_headed_clause_as_markdown() -> None:
    folder = corpus_path("dutch")
    paths = sorted(folder.glob("*.md"))
    assert len(paths) >= 8
    gained = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        plain, markdown = segment(text), segment(text, markdown=True)
        assert_tiles(text, markdown)
        headed = sum(1 for c in markdown if c.heading) - sum(1 for c in plain if c.heading)
        assert headed >= 0, path.name
        gained += headed
    assert gained > 0


def test_sub_clauses_of_articles_numbered_with_zero_or_roman_take_their_heading() -> None:
    text = (
        "ARTICLE V\nTERM AND TERMINATION\n"
        "5.1 Term. This Agreement runs for two years.\n"
        "5.2 Either party may terminate this Agreement on notice.\n"
        "6.0 CONFIDENTIALITY\n"
        "6.1 Each party keeps the information of the other secret.\n"
        "6.2 This survives termination.\n"
    )
    clauses = segment(text)
    assert labels(clauses) == [
        ("V", "TERM AND TERMINATION"),
        ("5.2", ""),
        ("6.0", "CONFIDENTIALITY"),
        ("6.2", ""),
    ]
    assert context_headings(clauses) == ["TERM AND TERMINATION"] * 2 + ["CONFIDENTIALITY"] * 2


# --- bare headings join the clause they head -----------------------------------------------


def body_words(clause: Clause) -> int:
    """Words of a clause beyond its keyword, number and heading (and page numbers): 0 for a
    bare heading such as "Artikel 26 Aansprakelijkheid"."""
    lines = [line for line in clause.text.splitlines() if not PAGE_LINE.fullmatch(line)]
    body = "\n".join(lines)
    title = re.findall(r"[^\W_]+", f"{clause.number} {clause.heading}")
    return len(re.findall(r"[^\W_]+", body)) - len(title) - bool(KEYWORD_START.match(body))


PAGE_LINE = re.compile(r"(?i)\s*(?:\d{1,4}|(?:page|pagina)\s*\d+(?:\s*(?:of|van)\s*\d+)?)?\s*")
KEYWORD_START = re.compile(
    r"(?i)\W*(?:artikel|article|section|bijlage|schedule|exhibit|annex|hoofdstuk|part)\b"
)


def test_bare_article_heading_joins_its_first_paragraph() -> None:
    text = (
        "### Artikel  26  \n\n####Aansprakelijkheid\n\n"
        "26.1. Indien een partij tekortschiet, is zij aansprakelijk voor de schade.\n\n"
        "26.2. De aansprakelijkheid is beperkt tot EUR 1.250.000 per gebeurtenis.\n\n"
        "### Artikel  27  \n\n####Overmacht\n\n"
        "Een partij is niet aansprakelijk voor een tekortkoming door overmacht.\n"
    )
    clauses = segment(text)
    assert labels(clauses) == [("26", "Aansprakelijkheid"), ("26.2", ""), ("27", "Overmacht")]
    assert clauses[0].text == text[: text.index("26.2.")]
    assert clauses[2].text.endswith("door overmacht.\n"), "a heading with its body stays as is"
    assert context_headings(clauses) == ["Aansprakelijkheid"] * 2 + ["Overmacht"]
    assert_tiles(text, clauses)


def test_heading_at_the_end_of_a_page_joins_the_paragraph_on_the_next() -> None:
    header = "Contract Acme – vertrouwelijk\n"
    text = "\f".join(
        [
            f"{header}Artikel 1 Levering\nLeverancier levert de goederen op de afgesproken"
            " plaats.\nArtikel 2 Aansprakelijkheid\nPagina 1 van 3\n",
            f"{header}2.1 Leverancier is aansprakelijk voor directe schade.\n"
            "2.2 Indirecte schade is uitgesloten.\nPagina 2 van 3\n",
            f"{header}Artikel 3 Slotbepalingen\nOp deze overeenkomst is Nederlands recht van"
            " toepassing.\nPagina 3 van 3\n",
        ]
    )
    clauses = segment(text)
    assert [(c.number, c.heading, c.page) for c in clauses] == [
        ("", "", 1),
        ("1", "Levering", 1),
        ("2", "Aansprakelijkheid", 1),
        ("2.2", "", 2),
        ("3", "Slotbepalingen", 3),
    ]
    assert "2.1 Leverancier is aansprakelijk" in find(clauses, "2").text
    assert_tiles(text, clauses)


def test_two_headings_in_a_row_join_the_clause_under_them() -> None:
    text = (
        "Hoofdstuk 3 Uitvoering\n"
        "Artikel 7 Levering\n"
        "7.1 Leverancier levert binnen dertig dagen.\n"
        "7.2 Levering geschiedt franco.\n"
        "Artikel 8 Garanties\n"
        "8.1 Algemeen\n"
        "8.1.1 Leverancier garandeert de werking.\n"
        "8.1.2 De garantie geldt een jaar.\n"
        "8.2 Leverancier herstelt gebreken kosteloos.\n"
    )
    clauses = segment(text)
    assert labels(clauses) == [
        ("7", "Levering"),
        ("7.2", ""),
        ("8", "Garanties"),
        ("8.1.2", ""),
        ("8.2", ""),
    ]
    assert clauses[0].text.startswith("Hoofdstuk 3 Uitvoering\nArtikel 7 Levering\n7.1 ")
    assert clauses[2].text.endswith("8.1 Algemeen\n8.1.1 Leverancier garandeert de werking.\n")
    assert context_headings(clauses) == ["Levering"] * 2 + ["Garanties"] * 3
    assert_tiles(text, clauses)


def test_part_and_chapter_titles_join_the_article_under_them_but_annexes_stay_apart() -> None:
    text = (
        "Deel II Bijzondere bepalingen\n"
        "Hoofdstuk 5 Levering\n"
        "Artikel 12 Plaats\n"
        "12.1 Leverancier levert op de locatie van Opdrachtgever.\n"
        "12.2 Levering geschiedt op werkdagen.\n"
        "Artikel 13 Tijdstip\n"
        "Levering geschiedt binnen dertig dagen na de bestelling.\n"
        "Schedule A\n"
        "Exhibit B Planning\n"
        "De planning volgt uit het plan van aanpak van Leverancier.\n"
    )
    clauses = segment(text)
    assert labels(clauses) == [
        ("12", "Plaats"),
        ("12.2", ""),
        ("13", "Tijdstip"),
        ("Schedule A", ""),
        ("Exhibit B", "Planning"),
    ]
    assert clauses[0].text.startswith("Deel II Bijzondere bepalingen\nHoofdstuk 5 Levering\n")
    assert_tiles(text, clauses)


def test_one_line_clauses_and_headings_of_nothing_stay_clauses() -> None:
    text = (
        "Artikel 1 Toepasselijkheid\n"
        "Deze voorwaarden gelden voor alle opdrachten.\n"
        "Artikel 2 Vervallen\n"
        "Artikel 3 Deze overeenkomst wordt beheerst door Nederlands recht.\n"
        "Artikel 4 Geschillen\n"
        "4.1 Geschillen gaan naar de rechter te Utrecht.\n"
        "Artikel 5 Slotbepaling\n"
    )
    clauses = segment(text)
    assert labels(clauses) == [
        ("1", "Toepasselijkheid"),
        ("2", "Vervallen"),
        ("3", ""),
        ("4", "Geschillen"),
        ("5", "Slotbepaling"),
    ]
    assert find(clauses, "3").text == (
        "Artikel 3 Deze overeenkomst wordt beheerst door Nederlands recht.\n"
    )
    assert_tiles(text, clauses)


def test_short_clause_ending_in_a_sentence_does_not_join_its_sub_clause() -> None:
    text = (
        "1. Scope. The Supplier delivers the goods and the services.\n"
        "2. Support. The Supplier gives support.\n"
        "2.1 Hours. Support is given on working days.\n"
        "3. Reserved.\n"
        "4. Price. The Customer pays the price within thirty days.\n"
    )
    assert labels(segment(text)) == [
        ("1", "Scope"),
        ("2", "Support"),
        ("2.1", "Hours"),
        ("3", "Reserved"),
        ("4", "Price"),
    ]


def test_real_contracts_have_hardly_any_bare_heading_clauses() -> None:
    arbit = segment(corpus_path(ARBIT).read_text(encoding="utf-8"))
    assert [labels([c]) for c in arbit if body_words(c) <= 0] == []
    gibit = segment(docx_text(corpus_path(GIBIT), numbering=True))
    articles = [c for c in gibit if "." not in c.number]
    assert len(articles) > 15
    assert [labels([c]) for c in articles if body_words(c) <= 0] == []
    bare = total = 0
    for path in sorted(corpus_path(f"{CUAD}/txt").glob("*.txt")):
        clauses = segment(path.read_text(encoding="utf-8"))
        total += len(clauses)
        bare += sum(1 for clause in clauses if body_words(clause) <= 0 and clause.number)
    # Left: one-line clauses ("4. Reserved."), redacted ones ("6.4 [ * * * ]"), empty annexes.
    assert bare < 0.02 * total
