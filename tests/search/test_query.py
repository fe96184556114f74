"""`search/query.py`: a query holds at most a few wildcards; plain words are optional,
``+word`` and phrases required, ``-word`` excluded; coordination keys."""

from __future__ import annotations

from dataclasses import replace

import pytest

from search.query import (
    MAX_WILDCARDS,
    Item,
    ParsedQuery,
    QueryRefused,
    parse_query,
    validate_query,
)


def test_a_query_holds_at_most_a_few_wildcards() -> None:
    validate_query(" ".join(f"wor{letter}*" for letter in "abcd"[:MAX_WILDCARDS]))
    # The query: 24 three-letter wildcards.
    for text in (" ".join(["abc*"] * 24), " ".join(f"wor{c}*" for c in "abcde")):
        with pytest.raises(QueryRefused) as refused:
            validate_query(text)
        assert refused.value.code == "too_many_wildcards"


def test_plain_words_are_optional_plus_words_and_phrases_required() -> None:
    parsed = parse_query('limitation +liability "force majeure" +"notice period" -penalty')
    flags = [(item.words, item.required, item.negated, item.phrase) for item in parsed.items]
    assert flags == [
        (("limitation",), False, False, False),
        (("liability",), True, False, False),
        (("force", "majeure"), True, False, True),
        (("notice", "period"), True, False, True),
        (("penalty",), False, True, False),
    ]
    assert [item.words for item in parsed.required] == [
        ("liability",),
        ("force", "majeure"),
        ("notice", "period"),
    ]
    assert [item.words for item in parsed.optional] == [("limitation",)]


def test_loose_stop_words_drop_unless_alone_or_required() -> None:
    assert [item.words for item in parse_query("the governing law").items] == [
        ("governing",),
        ("law",),
    ]
    assert [item.words for item in parse_query("the of").items] == [("the",), ("of",)]
    kept = parse_query("+the law").items
    assert [(item.words, item.required) for item in kept] == [(("the",), True), (("law",), False)]


def test_coordination_counts_user_items_and_concepts_they_share() -> None:
    user = parse_query("audit rights").items
    audit = replace(user[0], concept="audit")
    books = Item(("books",), weight=0.5, concept="audit")  # an expansion of "audit"
    other = Item(("inspection",), weight=0.5, concept="inspection")  # a concept of its own
    loose = Item(("records",), weight=0.5)
    parsed = ParsedQuery((audit, user[1], books, other, loose))
    assert parsed.coordination() == [(("item", 0),), (("item", 1),), (("item", 0),), (), ()]
    assert parsed.counted == 2
    assert books.expansion and not audit.expansion


def test_an_expansion_holds_every_word_of_the_users_naming_one_of_them_only_its_own() -> None:
    # "payment terms" names one concept with both words: "payable" holds what both words do
    # (tests/search/test_index.py shows the ranking that follows in every backend).
    user = parse_query("payment terms").items
    payment, terms = (replace(item, concept="payment_terms") for item in user)
    payable = Item(("payable",), weight=0.5, concept="payment_terms")
    parsed = ParsedQuery((payment, terms, payable))
    assert parsed.coordination() == [(("item", 0),), (("item", 1),), (("item", 0), ("item", 1))]
    assert parsed.counted == 2


def test_a_user_word_that_is_a_wording_of_its_concept_holds_every_word_naming_it() -> None:
    # "source code escrow" names one concept; "escrow" alone is one of its wordings, so a
    # clause holding "escrow" holds the concept as one holding "broncode" (added) does.
    user = parse_query("source code escrow").items
    source, code = (replace(item, concept="escrow") for item in user[:2])
    escrow = replace(user[2], concept="escrow", whole=True)
    broncode = Item(("broncode",), weight=0.5, concept="escrow")
    parsed = ParsedQuery((source, code, escrow, broncode))
    every = (("item", 0), ("item", 1), ("item", 2))
    assert parsed.coordination() == [(("item", 0),), (("item", 1),), every, every]
    assert parsed.counted == 3


def test_or_and_not_as_operators_are_explained() -> None:
    with pytest.raises(QueryRefused) as refused:
        validate_query("termination OR renewal")
    assert refused.value.code == "operator" and "+word" in str(refused.value)


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("non-compete", "noncompete"),
        ("Non-Transferable?", "nontransferable"),
        ("-e-mail", "email"),
        ("2025-017", ""),
        ("7:408", ""),
        ('"non-compete"', ""),
        ("compete", ""),
    ],
)
def test_a_hyphenated_compound_of_letters_also_names_its_one_word_form(
    text: str, joined: str
) -> None:
    assert parse_query(f"{text} x").items[0].joined == joined


def test_soort_and_type_name_clause_types_instead_of_words() -> None:
    parsed = parse_query('boete soort:aansprakelijkheid TYPE:liability soort:"gevolgen van x"')
    assert [item.words for item in parsed.items] == [("boete",)]
    assert parsed.type_names == ("aansprakelijkheid", "liability", "gevolgen van x")
    # A query of only types has no items; without them an empty query is still refused.
    assert parse_query("soort:overmacht") == ParsedQuery((), ("overmacht",))
    assert parse_query("", browse=True) == ParsedQuery(())
    for text in ("", "-boete"):
        with pytest.raises(QueryRefused) as refused:
            parse_query(text)
        assert refused.value.code == "empty"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("dossier_id:5", "field"),
        ("soort:aansprakelijkheid title:x", "field"),
        ("-soort:boete", "type_operator"),
        ("+type:penalty", "type_operator"),
        ('soort:""', "unknown_type"),
        ("soort:", "type_missing"),
        ("boete type:", "type_missing"),
        ("soort:aansprakelijkheid -schade", "type_only_exclusions"),
    ],
)
def test_other_fields_and_operators_on_types_are_refused(text: str, code: str) -> None:
    with pytest.raises(QueryRefused) as refused:
        parse_query(text)
    assert refused.value.code == code


def test_a_space_after_soort_still_names_the_type() -> None:
    """ "soort: aansprakelijkheid" searched the word "soort" and then the type as a word."""
    parsed = parse_query("boete soort: aansprakelijkheid type:  liability")
    assert parsed.type_names == ("aansprakelijkheid", "liability")
    assert [item.words for item in parsed.items] == [("boete",)]
