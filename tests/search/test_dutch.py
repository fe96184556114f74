"""Dutch lemmas and compound splitting (search/dutch.py) and how analysis uses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import analysis, dutch
from search.query import parse_query

# Compounds from the Dutch corpus (model contracts and the tender dossier), split by hand.
COMPOUNDS = {
    "opzegtermijn": ("opzeggen", "termijn"),
    "betalingstermijn": ("betaling", "termijn"),
    "eigendomsrechten": ("eigendom", "recht"),
    "aansprakelijkheidsverzekering": ("aansprakelijkheid", "verzekering"),
    "verwerkersovereenkomst": ("verwerker", "overeenkomst"),
    "schadevergoeding": ("schaden", "vergoeding"),
    "persoonsgegevens": ("persoon", "gegevens"),
    "aanbestedingswet": ("aanbesteding", "wet"),
    "beveiligingsincident": ("beveiliging", "incident"),
    "garantietermijn": ("garantie", "termijn"),
    "processtap": ("proces", "stap"),
    "toetsgroep": ("toets", "groep"),
    "prijsvragen": ("prijs", "vraag"),
    "totaalscore": ("totaal", "score"),
    "functiehersteltijd": ("functie", "herstel", "tijd"),
    "conceptovereenkomst": ("concept", "overeenkomst"),
    # A verb stem with a long vowel before the head (loop of lopen), and plurals that change
    # their spelling (personen, systemen, criteria), are still parts.
    "looptijd": ("loop", "tijd"),
    "huurovereenkomst": ("huur", "overeenkomst"),
    "hulppersonen": ("hulp", "personen"),
    "referentiesystemen": ("referentie", "systemen"),
    "gunningscriteria": ("gunning", "criteria"),
    # A head the dictionary knows by its plural only (schaden), like schade|vergoeding.
    "gevolgschade": ("gevolg", "schaden"),
    "bedrijfsschade": ("bedrijf", "schaden"),
}
# Words that are not compounds, or derived words that read as one word.
NOT_SPLIT = [
    "overeenkomst",
    "overeenkomsten",
    "voorwaarden",
    "uitvoering",
    "aanbesteding",
    "verzekering",
    "leverancier",
    "werkzaamheden",
    "onderaannemer",
    "vennootschap",
    "programmatuur",
    "contractering",
    "aanvaarding",
    "vaststelling",
    "verrekenen",
    "verstrekkende",
    "maatschappelijke",
    "vergelijkbare",
    "overeenkomstig",
    "aanpassingen",
    "termination",
    # Frequent words that the dictionary's odd forms split: mini|s|ter (ter -> te), euro|pees
    # (pees -> pezen), pers|oon (oon -> onen), vers|taan (vers -> verversen, taan -> tanen).
    "minister",
    "europese",
    "personen",
    "verstaan",
    "verstrekking",
    "behoudens",
    "rechtstreeks",
    "software",
    "openbaargemaakte",
]


@pytest.mark.parametrize(("word", "parts"), COMPOUNDS.items())
def test_compounds_split_into_dictionary_words_without_linking_s(
    word: str, parts: tuple[str, ...]
) -> None:
    assert dutch.parts(word) == parts


@pytest.mark.parametrize("word", NOT_SPLIT)
def test_derived_and_simple_words_are_not_split(word: str) -> None:
    assert dutch.parts(word) == ()


def test_a_suffix_is_not_a_part_after_another_part() -> None:
    # index|ering|s|regelingen: "ring" ends the derived word indexering, it is no part.
    assert "ring" not in dutch.parts("indexeringsregelingen")


@pytest.mark.parametrize("word", ["opzeg", "1234567890", "a" * 41, "e-mailadres"])
def test_short_long_or_non_alphabetic_words_are_not_split(word: str) -> None:
    assert dutch.parts(word) == ()


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("garantie", "garanties"),
        ("intellectueel", "intellectuele"),
        ("verlengd", "verlenging"),
        ("beeindigd", "beeindigen"),  # folded: the dictionary has beëindigd
        ("verstreken", "verstrijken"),
        # A separable verb's participle: the "ge" after the prefix.
        ("opgezegd", "opzegging"),
        ("opgelost", "oplossing"),
        ("ingediend", "indienen"),
        ("omgezet", "omzetten"),
    ],
)
def test_word_forms_that_snowball_keeps_apart_share_a_stem(one: str, other: str) -> None:
    assert set(analysis.stems(one)) & set(analysis.stems(other))
    assert set(analysis.stems(one, "nl")) & set(analysis.stems(other, "nl"))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("aansprakelijk", "aansprakelijkheid"),
        ("aansprakelijke", "aansprakelijkheden"),
        ("openbare", "openbaarheid"),
        ("vertrouwelijk", "vertrouwelijkheid"),
        ("overheid", "overheden"),
        ("beveiliging", "beveiligen"),
        ("jaarlijks", "jaarlijkse"),
        ("indiening", "indienen"),
    ],
)
def test_an_adjective_and_its_forms_share_a_stem(one: str, other: str) -> None:
    assert set(analysis.stems(one, "nl")) & set(analysis.stems(other, "nl"))


# Snowball strips -lijk, -baar, -ig and -heid down to a word of another meaning.
OVER_STEMMED = [
    ("aansprakelijkheid", "aanspraak"),  # liability, a claim
    ("aansprakelijk", "aanspraken"),
    ("beschikbaarheid", "beschikking"),  # availability, a decision
    ("toepasselijk", "toepassing"),  # applicable (law), application
    ("vertrouwelijkheid", "vertrouwen"),  # confidentiality, trust
    ("gebruikelijk", "gebruik"),  # customary, use
    ("overeenkomstig", "overeenkomst"),  # in accordance with, agreement
    ("openbaar", "open"),
    ("overheid", "over"),  # a stop word
    ("overige", "over"),
    ("indiening", "indien"),  # submission, if: "indien" begins most clauses
    ("indienen", "indien"),
]


@pytest.mark.parametrize(("word", "unrelated"), OVER_STEMMED)
def test_derived_adjectives_do_not_meet_words_of_another_meaning(word: str, unrelated: str) -> None:
    assert not set(analysis.stems(word)) & set(analysis.stems(unrelated))
    assert not set(analysis.terms(word, "nl")) & set(analysis.terms(unrelated, "nl"))


# English words that Snowball joins with a word of another meaning in contract text.
@pytest.mark.parametrize(
    ("word", "unrelated"),
    [
        ("competent", "compete"),  # "competent jurisdiction" is not about competition
        ("competent", "competing"),
        ("competence", "compete"),
        ("executive", "execute"),  # an officer, the signing of the agreement
        ("executives", "executed"),
        ("authority", "author"),
        ("authorities", "authors"),
    ],
)
def test_english_words_of_another_meaning_stem_apart(word: str, unrelated: str) -> None:
    assert not set(analysis.stems(word)) & set(analysis.stems(unrelated))
    assert not set(analysis.stems(word, "en")) & set(analysis.stems(unrelated, "en"))


@pytest.mark.parametrize(
    ("one", "other"),
    [("competent", "competency"), ("executive", "executives"), ("authority", "authorities")],
)
def test_english_forms_kept_apart_still_meet_each_other(one: str, other: str) -> None:
    assert set(analysis.stems(one, "en")) == set(analysis.stems(other, "en"))


@pytest.mark.parametrize(
    ("word", "unrelated"),
    [("late", "laten"), ("late", "gelaten"), ("laatste", "laten"), ("laatste", "late")],
)
def test_dutch_words_of_another_meaning_stem_apart(word: str, unrelated: str) -> None:
    # "te late levering" is about delay, "laat uitvoeren" about having something done.
    assert not set(analysis.terms(word, "nl")) & set(analysis.terms(unrelated, "nl"))
    assert not set(analysis.stems(word)) & set(analysis.stems(unrelated))


def test_an_ambiguous_dutch_word_meets_both_meanings() -> None:
    laat = set(analysis.terms("laat", "nl"))  # te laat (late); hij laat (he lets)
    assert laat & set(analysis.stems("late")) and laat & set(analysis.stems("laten"))


@pytest.mark.parametrize(
    ("word", "unrelated"),
    [("gedaan", "doen"), ("was", "zijn"), ("opgenomen", "opnemen"), ("ingediend", "indien")],
)
def test_lemmas_of_another_shape_and_of_stop_words_are_not_used(word: str, unrelated: str) -> None:
    assert not set(analysis.stems(word)) & set(analysis.stems(unrelated))


def test_english_text_gets_neither_lemmas_nor_parts() -> None:
    assert analysis.stems("garanties", "en") == ("garanti",)
    assert analysis.terms("opzegtermijn", "en") == analysis.stems("opzegtermijn", "en")


def test_a_compound_is_indexed_with_its_parts_at_its_own_position() -> None:
    found = analysis.occurrences("De opzegtermijn bedraagt drie maanden.", detect=True)
    termijn = analysis.stems("termijn", "nl")[0]
    opzegging = analysis.stems("opzegging", "nl")[0]
    assert found[termijn] == found[opzegging] == [1]
    assert analysis.stems("opzegtermijn", "nl")[0] in found


def test_the_tokenizer_yields_what_indexing_collects() -> None:
    text = "De aansprakelijkheidsverzekering en de garanties van de leverancier; The supplier."
    for detect in (True, False):
        tokens: dict[str, list[int]] = {}
        for token in analysis.WordTokenizer(detect)(text, positions=True):
            tokens.setdefault(token.text, []).append(token.pos)
        assert tokens == analysis.occurrences(text, detect)


def test_a_compound_query_word_matches_itself_or_all_of_its_parts() -> None:
    whole, parts = analysis.alternatives("opzegtermijn")
    assert whole == (analysis.stems("opzegtermijn"),)
    assert parts == (analysis.stems("opzeggen", "nl"), analysis.stems("termijn", "nl"))
    assert analysis.alternatives("termijn") == ((analysis.stems("termijn"),),)


def test_the_issues_compounds_split_in_the_real_dutch_corpus(corpus: Path) -> None:
    text = (corpus / "dutch" / "ARVODI-2008_BWBR0023626.md").read_text(encoding="utf-8")
    words = set(analysis.word_list(text))
    compounds = [w for w in words if len(w) >= 12 and w.isalpha()]
    split = [w for w in compounds if dutch.parts(w)]
    # Most long words of a Dutch model contract are compounds; a broken dictionary splits none.
    assert len(split) >= len(compounds) // 4, (len(split), len(compounds))
    assert all(
        dutch.known(part) or dutch.known(part[:-1]) for w in split for part in dutch.parts(w)
    )


def test_dutch_question_words_drop_from_a_natural_query() -> None:
    parsed = parse_query("binnen welke tijd moeten storingen worden opgelost")
    assert [item.words for item in parsed.items] == [
        ("binnen",),
        ("tijd",),
        ("storingen",),
        ("opgelost",),
    ]
    parsed = parse_query("wat gebeurt er met onze gegevens na beëindiging")
    assert [item.words for item in parsed.items] == [("gegevens",), ("beeindiging",)]
    # Alone they are still searched, and the index keeps them (phrases stay exact).
    assert [item.words for item in parse_query("welke").items] == [("welke",)]
    assert analysis.language(["welke", "onze", "moeten"]) is None
