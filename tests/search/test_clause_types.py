"""The clause-type classifier (search.clause_types): headings, term evidence, negatives, and
the names users type for a type."""

from __future__ import annotations

import pytest

from search.clause_types import (
    HEADING,
    THRESHOLD,
    classify,
    explain,
    find_type,
    join_types,
    split_types,
)


@pytest.mark.parametrize(
    ("heading", "text", "expected"),
    [
        (
            "Artikel 12 Aansprakelijkheid",
            "Opdrachtnemer vergoedt uitsluitend directe schade.",
            "liability",
        ),
        (
            "14. Limitation of Liability",
            "Neither party shall be responsible for lost profits.",
            "liability",
        ),
        (
            "Geheimhouding",
            "Partijen nemen de in dit artikel bedoelde plichten in acht.",
            "confidentiality",
        ),
        ("Governing Law", "This Agreement is subject to the laws of Delaware.", "governing_law"),
        (
            "Toepasselijk recht",
            "Op deze overeenkomst is uitsluitend Nederlands recht van toepassing.",
            "governing_law",
        ),
        ("Overmacht", "Geen van beide partijen is gehouden tot nakoming.", "force_majeure"),
    ],
)
def test_a_heading_that_names_a_concept_types_the_clause(
    heading: str, text: str, expected: str
) -> None:
    assert classify(heading, text)[0] == expected


def test_a_sub_clause_inherits_its_article_heading() -> None:
    text = "De vergoeding wordt betaald binnen dertig dagen na ontvangst van de factuur."
    assert "payment_terms" in classify("", text, context_heading="Betaling")
    # Its own heading wins over the inherited one: the context is only read without it.
    assert "payment_terms" not in classify(
        "Overmacht", "Geen nakoming.", context_heading="Betaling"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The aggregate liability of Supplier shall not exceed the fees paid. In no event "
            "shall either party be liable for consequential damages or indirect damages.",
            "liability",
        ),
        (
            "De totale aansprakelijkheid van Opdrachtnemer is beperkt tot directe schade; "
            "aansprakelijkheid voor gevolgschade is uitgesloten.",
            "liability",
        ),
        (
            "Each party shall keep the Confidential Information of the other in confidence and "
            "shall not disclose trade secrets to any third party.",
            "confidentiality",
        ),
        (
            "Opdrachtnemer verwerkt persoonsgegevens uitsluitend als verwerker in de zin van de "
            "AVG en meldt een datalek binnen 24 uur.",
            "data_protection",
        ),
    ],
)
def test_distinct_terms_in_the_text_type_an_unheaded_clause(text: str, expected: str) -> None:
    assert expected in classify("", text)


@pytest.mark.parametrize(
    ("heading", "text"),
    [
        ("", "This Agreement may be executed in counterparts, each of which is an original."),
        ("", "Partijen komen het volgende overeen."),
        ("", "The Supplier shall deliver on Monday; liability is addressed elsewhere."),
        ("Slotbepaling", "Deze overeenkomst treedt in werking op de dag van ondertekening."),
        ("", ""),
    ],
)
def test_a_passing_mention_or_no_evidence_gives_no_type(heading: str, text: str) -> None:
    assert classify(heading, text) == ()


def test_a_headed_clause_needs_more_text_evidence_for_another_type() -> None:
    definitions = (
        '"Confidential Information" means information marked as such. "Intellectual '
        'Property Rights" means patents and copyright.'
    )
    found = classify("Definitions", definitions)
    assert found[0] == "definitions"
    assert "confidentiality" not in found
    # Without the heading, the same two mentions would not reach the threshold either.
    assert "confidentiality" not in classify("", definitions)


def test_a_term_never_spans_a_sentence_end() -> None:
    # "limitation. Liability" is not the term "limitation of liability".
    evidence = explain("", "No limitation. Liability is described in annex 2.")
    assert all("limitation liability" not in e.text for e in evidence)


def test_explain_says_why() -> None:
    evidence = explain(
        "",
        "Leverancier houdt de geheimhouding in acht. Geheimhouding geldt ook voor "
        "vertrouwelijke informatie van derden.",
        context_heading="Geheimhouding",
    )
    first = evidence[0]
    assert first.concept == "confidentiality" and first.chosen
    assert first.context == ("geheimhouding",)
    assert first.text == ("geheimhouding", "vertrouwelijke informatie")
    assert first.repeats == 1
    assert first.score >= THRESHOLD and first.score > HEADING


def test_the_heading_a_text_starts_with_counts_once() -> None:
    """A merged bare heading ("Artikel 5 Aansprakelijkheid" on the text's first line) is the
    heading's evidence, not the text's as well."""
    text = "Artikel 5 Aansprakelijkheid\nPartijen komen het volgende overeen."
    (liability,) = [e for e in explain("Artikel 5 Aansprakelijkheid", text) if e.chosen]
    assert liability.heading == ("aansprakelijkheid",) and liability.text == ()


def test_types_are_deterministic_and_capped() -> None:
    text = (
        "Liability, indemnification, insurance, confidentiality, governing law, warranty, "
        "force majeure and assignment: each is covered by limitation of liability, hold "
        "harmless, insurance policy, confidential information, applicable law, warranty "
        "period, act of god and successors and assigns."
    )
    first = classify("", text)
    assert first == classify("", text)
    assert 1 <= len(first) <= 4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("aansprakelijkheid", "liability"),
        ("Aansprakelijkheid", "liability"),
        ("liability", "liability"),
        ("beeindiging", "termination"),
        ("Beëindiging", "termination"),
        ("gevolgen_van_beëindiging", "post_termination"),
        ("Consequences-of-termination", "post_termination"),
        ("force_majeure", "force_majeure"),
        ("overmacht", "force_majeure"),
    ],
)
def test_a_type_is_found_by_id_or_label_in_either_language(name: str, expected: str) -> None:
    found = find_type(name)
    assert found is not None and found.id == expected


def test_an_unknown_type_name_is_none() -> None:
    assert find_type("kwaliteit") is None
    assert find_type("") is None


def test_types_round_trip_through_their_stored_form() -> None:
    assert split_types(join_types(("liability", "insurance"))) == ("liability", "insurance")
    assert split_types("") == () and split_types(None) == ()
