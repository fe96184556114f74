"""`search.expansion`: which concepts a query names, what is added, and how the Whoosh backend
searches the added terms (optional, weighted lower, switchable off, never past permissions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search import expansion
from search.expansion import (
    MAX_ITEMS,
    WEIGHT,
    concept_items,
    default_thesaurus,
    drop_asking_words,
    expand,
    load_thesaurus,
    warm_up,
)
from search.query import parse_query
from search.types import SearchRequest
from search.whoosh import WhooshBackend
from tests.search.test_index import unit


def _added(text: str) -> dict[str, tuple[str, ...]]:
    """Concept -> terms added for a query."""
    _, found = expand(parse_query(text))
    return {e.concept: e.terms for e in found}


def _asked(text: str) -> list[tuple[str, ...]]:
    return [item.words for item in drop_asking_words(parse_query(text)).items]


def test_a_question_about_what_was_agreed_searches_its_subject_only() -> None:
    assert _asked("wat hebben we afgesproken over aansprakelijkheid") == [("aansprakelijkheid",)]
    assert _asked("wat is overeengekomen over de opzegtermijn") == [("opzegtermijn",)]
    assert _asked("what did we agree on liability") == [("liability",)]
    assert _asked("afspraken over geheimhouding") == _asked("geheimhouding")
    # Part of a wording the thesaurus knows, typed on purpose, alone, quoted or required: kept.
    assert _asked("agreed damages") == [("agreed",), ("damages",)]
    assert _asked("eerdere afspraken") == [("eerdere",), ("afspraken",)]
    assert _asked("afspraken") == [("afspraken",)]
    assert _asked('"afgesproken prijs"') == [("afgesproken", "prijs")]
    assert _asked("+afgesproken prijs") == [("afgesproken",), ("prijs",)]
    assert _asked("afspraken -boete") == [("afspraken",), ("boete",)]
    assert _asked("-afgesproken prijs") == [("afgesproken",), ("prijs",)]  # excluded: kept
    assert _asked("afgespr* prijs") == [("afgespr",), ("prijs",)]  # a wildcard: kept
    # With a clause type the type is what is searched: its clauses are listed.
    typed = drop_asking_words(parse_query("wat is afgesproken soort:aansprakelijkheid"))
    assert (typed.items, typed.type_names) == ((), ("aansprakelijkheid",))
    chosen = drop_asking_words(parse_query("afgesproken", browse=True), browse=True)
    assert chosen.items == ()
    assert _asked("afgesproken") == [("afgesproken",)]  # without a type: searched


def test_a_dutch_word_adds_the_english_and_dutch_wordings_as_weighted_optional_items() -> None:
    parsed, found = expand(parse_query("aansprakelijkheid leverancier"))
    assert [e.concept for e in found] == ["liability"]
    assert found[0].matched == ("aansprakelijkheid",)
    assert found[0].label_nl == "Aansprakelijkheid" and found[0].label_en == "Liability"
    assert "liability" in found[0].terms and "schadevergoeding" in found[0].terms
    own, added = parsed.items[:2], parsed.items[2:]
    assert [i.words for i in own] == [("aansprakelijkheid",), ("leverancier",)]
    assert added and all(
        i.concept == "liability" and i.weight == WEIGHT < 1 and not i.required for i in added
    )
    assert ("aansprakelijkheid",) not in [i.words for i in added]  # the user's own word


def test_a_phrase_term_keeps_its_stop_words_for_adjacency() -> None:
    parsed, _ = expand(parse_query("liability"))
    phrase = next(i for i in parsed.items if i.words == ("uitsluiting", "van", "aansprakelijkheid"))
    assert phrase.phrase and phrase.concept == "liability"


def test_terms_match_in_order_on_stems_and_the_longest_term_wins() -> None:
    assert set(_added("termination for convenience")) == {"termination_for_convenience"}
    assert set(_added("terminate")) == {"termination"}  # a stem of "termination"
    assert set(_added("Limitation on Liability")) == {"liability"}  # stop words ignored
    assert _added("convenience termination") == {
        "termination": _added("termination")["termination"]
    }


def test_exact_wishes_are_not_expanded() -> None:
    assert _added('"aansprakelijkheid"') == {}
    assert _added("aansprak*") == {}
    assert _added("huur -aansprakelijkheid") == {}
    assert _added("leverancier") == {}


def test_a_term_the_query_already_searches_is_not_added() -> None:
    terms = _added("limitation of liability schadevergoeding")["liability"]
    assert "schadevergoeding" not in terms and "limitation of liability" not in terms
    assert "aansprakelijkheid" in terms


def test_a_word_searched_only_inside_a_compound_or_phrase_is_still_added_alone() -> None:
    """ "non-compete" searches "compete" right after "non" only, and the added phrase
    "covenant not to compete" only in sequence: the plain "compete" still widens the search."""
    terms = _added("non-compete")["non_compete"]
    assert "compete" in terms and "covenant not to compete" in terms
    assert "non-compete" not in terms


def test_the_number_of_added_items_is_capped() -> None:
    text = "liability confidentiality audit insurance warranty penalty exclusivity renewal"
    parsed, found = expand(parse_query(text))
    added = [i for i in parsed.items if i.expansion]
    assert len(added) == sum(len(e.terms) for e in found) == MAX_ITEMS
    assert len(found) < 8  # the later concepts found no room


def test_a_dutch_compound_no_concept_knows_names_its_heads_concept() -> None:
    """A compound names a kind of its last part: the head found by the decompounder
    (contract|verlenging) or as a one-word term after a dictionary word (prijs|indexatie, whose
    head is in no dictionary). A compound that is a term itself keeps its own concept."""
    assert set(_added("contractverlenging")) == {"renewal"}
    assert set(_added("productaansprakelijkheid")) == {"liability"}
    assert set(_added("prijsindexatie")) == {"price_adjustment"}
    assert set(_added("huurprijsindexering")) == {"price_adjustment"}
    _, found = expand(parse_query("contractverlenging"))
    assert found[0].matched == ("contractverlenging",)  # shown as the user wrote it
    assert set(_added("verwerkersovereenkomst")) == {"data_protection"}  # not overeenkomst's
    assert _added("xyzqindexatie") == {}  # no dictionary word before the head
    assert _added("indexatiekosten") == {}  # the head is last


def test_a_user_word_that_is_itself_a_wording_of_the_concept_is_marked_whole() -> None:
    parsed, _ = expand(parse_query("source code escrow leverancier"))
    own = {item.words: item for item in parsed.items if not item.expansion}
    assert own[("escrow",)].whole and own[("escrow",)].concept == "source_code_escrow"
    assert not own[("source",)].whole and own[("source",)].concept == "source_code_escrow"
    assert not own[("leverancier",)].whole and own[("leverancier",)].concept is None
    # The concept is named by the phrase; "liability" is a wording of it on its own.
    parsed, _ = expand(parse_query("limitation of liability"))
    own = {item.words: item for item in parsed.items if not item.expansion}
    assert own[("liability",)].whole and not own[("limitation",)].whole


def test_concept_items_names_the_items_a_concept_came_from() -> None:
    parsed = parse_query("acme termination for convenience liability")
    assert concept_items(parsed.items) == {"termination_for_convenience": (1, 2), "liability": (3,)}


def test_an_injected_thesaurus_replaces_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        '[[concept]]\nid = "lease"\nlabel.nl = "Huur"\nlabel.en = "Lease"\n'
        'nl = ["huur", "huurovereenkomst"]\nen = ["lease", "tenancy"]\n',
        encoding="utf-8",
    )
    _, found = expand(parse_query("huur"), load_thesaurus(path))
    assert [(e.concept, e.terms) for e in found] == [
        ("lease", ("lease", "huurovereenkomst", "tenancy"))
    ]


# Through the Whoosh backend.

CLAUSES = {
    1: "The Supplier is liable up to the contract value.",
    2: "De aansprakelijkheid van Opdrachtnemer is beperkt tot het contractbedrag.",
    3: "Opdrachtnemer betaalt een schadevergoeding en de aansprakelijkheid blijft beperkt.",
    4: "Partijen houden alle vertrouwelijke informatie geheim.",
    5: "Supplier shall not engage in any competing business for two years.",
}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[WhooshBackend]:
    created = WhooshBackend(tmp_path / "index", lock_timeout=2.0)
    created.create()
    created.apply(
        [(number, [unit(number, 0, text)]) for number, text in CLAUSES.items()]
        + [(9, [unit(9, 0, "Aansprakelijkheid in dossier twee.", dossier_id=2)])]
    )
    yield created
    created.close()


def _search(index: WhooshBackend, text: str, **options: object):
    request = SearchRequest(text, frozenset({1}), mode="clauses", **options)  # type: ignore[arg-type]
    return index.search(request)


def test_a_dutch_query_finds_the_english_clause_and_the_other_way_round(
    index: WhooshBackend,
) -> None:
    dutch = _search(index, "aansprakelijkheid")
    assert {h.document_id for h in dutch.hits} == {1, 2, 3}
    assert [e.concept for e in dutch.expansions] == ["liability"]
    english = _search(index, "confidentiality")
    assert [h.document_id for h in english.hits] == [4]


def test_a_clause_found_only_through_a_synonym_ranks_below_the_users_word(
    index: WhooshBackend,
) -> None:
    hits = _search(index, "aansprakelijkheid").hits
    assert hits[-1].document_id == 1  # only "liable", a rarer word but at half weight
    assert hits[0].document_id == 3  # the user's word and a synonym ("schadevergoeding")


def test_expansion_can_be_switched_off(index: WhooshBackend) -> None:
    result = _search(index, "aansprakelijkheid", expand=False)
    assert {h.document_id for h in result.hits} == {2, 3}
    assert result.expansions == ()


def test_a_compound_word_item_matches_through_its_synonyms(index: WhooshBackend) -> None:
    """non-compete is one item of two words that must be adjacent; a synonym still counts."""
    assert [h.document_id for h in _search(index, "non-compete").hits] == [5]
    assert _search(index, "non-compete", expand=False).hits == []


def test_a_clause_holding_every_user_word_still_comes_first(index: WhooshBackend) -> None:
    assert _search(index, "liability contractbedrag").hits[0].document_id == 2
    assert _search(index, "liability +contractbedrag").hits[0].document_id == 2


def test_synonyms_never_reach_past_permissions(index: WhooshBackend) -> None:
    result = index.search(SearchRequest("liability", frozenset({1, 3}), mode="clauses"))
    assert 9 not in {h.document_id for h in result.hits}
    nothing = index.search(SearchRequest("liability", frozenset(), mode="clauses"))
    assert nothing.hits == [] and [e.concept for e in nothing.expansions] == ["liability"]


def test_snippets_mark_the_synonym_that_matched(index: WhooshBackend) -> None:
    hit = _search(index, "liability", snippets=True).hits
    dutch = next(h for h in hit if h.document_id == 2)
    assert "<mark>aansprakelijkheid</mark>" in dutch.snippet


def test_the_weight_is_a_multiplier(index: WhooshBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only found through "liability": its score scales with the weight."""
    scores = {}
    for weight in (0.25, 0.5):
        monkeypatch.setattr(expansion, "WEIGHT", weight)
        hits = _search(index, "aansprakelijkheid").hits
        scores[weight] = next(h.score for h in hits if h.document_id == 1)
    assert scores[0.5] == pytest.approx(2 * scores[0.25])


def test_warm_up_reads_the_thesaurus_before_the_first_search() -> None:
    default_thesaurus.cache_clear()
    warm_up()
    assert default_thesaurus.cache_info().currsize == 1
