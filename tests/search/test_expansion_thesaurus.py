"""`search/thesaurus.toml` through `search.expansion.load_thesaurus`: the shipped file is
well-formed and bilingual, and a broken file is refused with a message that says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.expansion import LANGUAGES, ThesaurusError, expand, load_thesaurus
from search.query import parse_query


def test_the_shipped_thesaurus_loads_with_both_languages_everywhere() -> None:
    thesaurus = load_thesaurus()
    ids = [concept.id for concept in thesaurus.concepts]
    assert len(ids) >= 50 and len(set(ids)) == len(ids)
    for concept in thesaurus.concepts:
        assert concept.label_nl and concept.label_en, concept.id
        assert {term.language for term in concept.terms} == set(LANGUAGES), concept.id


def test_every_concept_crosses_languages_from_its_first_term_in_each() -> None:
    """A Dutch query finds the English wording and the other way round, for every concept."""
    thesaurus = load_thesaurus()
    for concept in thesaurus.concepts:
        for language, other in (("nl", "en"), ("en", "nl")):
            first = next(t for t in concept.terms if t.language == language)
            _, expansions = expand(parse_query(first.text), thesaurus)
            found = {e.concept: e.terms for e in expansions}
            assert concept.id in found, (concept.id, first.text)
            others = {t.text for t in concept.terms if t.language == other}
            assert others & set(found[concept.id]), (concept.id, first.text, found)


def test_the_issue_examples_are_in_one_concept_each() -> None:
    thesaurus = load_thesaurus()
    groups = [
        ("aansprakelijkheid", "liability", "limitation of liability", "schadevergoeding"),
        ("opzegging", "termination", "beëindiging"),
        ("audit", "inspect", "books and records"),
        ("concurrentiebeding", "non-compete"),
        ("boete", "penalty"),
        ("geheimhouding", "confidentiality"),
    ]
    owner = {term.text: concept.id for concept in thesaurus.concepts for term in concept.terms}
    for group in groups:
        assert len({owner[term] for term in group}) == 1, group


GOOD = """
[[concept]]
id = "liability"
label.nl = "Aansprakelijkheid"
label.en = "Liability"
nl = ["aansprakelijkheid"]
en = ["liability"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "thesaurus.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file_loads(tmp_path: Path) -> None:
    thesaurus = load_thesaurus(_write(tmp_path, GOOD))
    assert [c.id for c in thesaurus.concepts] == ["liability"]
    assert [t.text for t in thesaurus.concepts[0].terms] == ["aansprakelijkheid", "liability"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[concept]\nid = "x"', "not valid TOML"),
        ("", "no [[concept]] tables"),
        ("version = 2\n" + GOOD, "unknown top-level keys version"),
        (
            GOOD.replace('en = ["liability"]', ""),
            "concept 1 (liability): needs a non-empty list of en terms",
        ),
        (
            GOOD.replace('label.en = "Liability"', ""),
            "concept 1 (liability): needs label.nl and label.en",
        ),
        (GOOD.replace('id = "liability"', 'id = "Liability!"'), "id must be lower-case"),
        (
            GOOD.replace('["liability"]', '["liability", "of the"]'),
            "en term 'of the' has only stop words",
        ),
        (
            GOOD.replace('["liability"]', '["liability", "liabilities"]'),
            "en term 'liabilities' matches the same words as 'liability'",
        ),
        (GOOD.replace('["liability"]', '["liability", 7]'), "en term 7 has no words"),
        (
            GOOD.replace('en = ["liability"]', 'en = ["liability"]\nsynonyms = ["x"]'),
            "unknown keys synonyms",
        ),
        (GOOD + GOOD, "concept id 'liability' is used twice"),
        (
            GOOD + GOOD.replace('id = "liability"', 'id = "damages"'),
            "term 'aansprakelijkheid' of 'damages' is also a term of 'liability'",
        ),
    ],
)
def test_a_broken_file_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ThesaurusError) as refused:
        load_thesaurus(path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)


def test_a_missing_file_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ThesaurusError, match="cannot be read"):
        load_thesaurus(tmp_path / "absent.toml")
