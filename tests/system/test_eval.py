"""The yardsticks of `make eval`: the hit rules and scores of scripts/eval_clauses.py and
scripts/eval_dutch.py, and the judged Dutch queries in eval/dutch_queries.toml."""

from __future__ import annotations

import importlib.util
import math
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import CORPUS

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


def _script(name: str) -> ModuleType:
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # a dataclass looks its module up while it is made
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


SPAN = (
    "Licensee shall not assign or transfer this Agreement or any rights hereunder, whether by "
    "operation of law or otherwise, without the prior written consent of Licensor."
)


def test_a_span_broken_over_lines_and_hyphenated_in_the_pdf_is_a_hit() -> None:
    clauses = _script("eval_clauses")
    pdf = (
        "12. Assignment. Licensee shall not assign or trans-\nfer this Agreement or any "
        "rights\nhereunder, whether by operation of law or otherwise, without the prior "
        "written con-\nsent of Licensor. Any attempt is void."
    )
    assert clauses._pdf_hit(pdf, [SPAN])


def test_a_page_header_inside_a_span_still_counts_but_half_a_span_does_not() -> None:
    clauses = _script("eval_clauses")
    header = (
        "Licensee shall not assign or transfer this Agreement or any rights hereunder, whether "
        "by operation\nSource: ACME CORP, 10-K, 3/1/2001 Page 7\nof law or otherwise, without "
        "the prior written consent of Licensor."
    )
    assert clauses._pdf_hit(header, [SPAN])
    half = "Licensee shall not assign or transfer this Agreement or any rights hereunder."
    assert not clauses._pdf_hit(half, [SPAN])
    assert not clauses._pdf_hit("This Agreement is governed by the laws of Delaware.", [SPAN])


TEXT = (
    "Artikel 19 Aansprakelijkheid\n\n19.1 Indien een der partijen toerekenbaar tekortschiet, "
    "is zij aansprakelijk voor de schade.\n\n19.2 De aansprakelijkheid is beperkt tot het "
    "bedrag van de opdracht.\n\nArtikel 20 Overmacht\n\n20.1 Onder overmacht wordt niet "
    "verstaan: gebrek aan personeel."
)


def _passages(dutch: ModuleType) -> list:
    judged = [
        {
            "text": "aansprakelijkheid",
            "relevant": [
                {
                    "file": "a.md",
                    "start": "19.1 Indien een der",
                    "end": "van de opdracht",
                    "grade": 2,
                },
                {"file": "a.md", "start": "20.1 Onder overmacht", "grade": 1},
            ],
        }
    ]
    return dutch.locate(judged, {"a": dutch._reduced(TEXT)})[0]


def test_a_clause_overlapping_a_passage_gets_its_grade_and_a_bare_heading_nothing() -> None:
    dutch = _script("eval_dutch")
    texts = {"a": dutch._reduced(TEXT)}
    passages = _passages(dutch)
    assert dutch.grade("a", "19.2 De aansprakelijkheid is beperkt", texts, passages)[0] == 2
    assert dutch.grade("a", "20.1 Onder overmacht wordt niet verstaan", texts, passages)[0] == 1
    assert dutch.grade("a", "Artikel 19 Aansprakelijkheid", texts, passages)[0] == 0
    assert dutch.grade("b", "19.2 De aansprakelijkheid is beperkt", texts, passages)[0] == 0


def test_a_passage_that_is_not_in_the_text_stops_the_evaluation() -> None:
    dutch = _script("eval_dutch")
    judged = [
        {"text": "q", "relevant": [{"file": "a.md", "start": "nergens te vinden", "grade": 2}]}
    ]
    with pytest.raises(SystemExit, match="nergens te vinden"):
        dutch.locate(judged, {"a": dutch._reduced(TEXT)})


def test_precision_counts_every_relevant_hit_and_ndcg_credits_a_passage_once() -> None:
    dutch = _script("eval_dutch")
    liability, force = _passages(dutch)
    ideal = [(2, liability), (1, force)]
    assert dutch.score(ideal, [liability, force]) == (0.4, 0.2, 1.0)
    repeated = [(0, None), (2, liability), (2, liability)]
    precision, strict, ndcg = dutch.score(repeated, [liability, force])
    assert (precision, strict) == (0.4, 0.4)
    assert ndcg == pytest.approx((2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_the_dutch_queries_are_judged_data() -> None:
    queries = tomllib.loads((ROOT / "eval" / "dutch_queries.toml").read_text("utf-8"))["query"]
    assert len(queries) >= 40
    assert len({q["text"] for q in queries}) == len(queries)
    for query in queries:
        assert query["relevant"], query["text"]
        for passage in query["relevant"]:
            assert passage["grade"] in (1, 2), query["text"]
            assert set(passage) <= {"file", "start", "end", "after", "grade"}, query["text"]


def test_every_judged_markdown_passage_is_in_its_corpus_file() -> None:
    """The extracted text of a Markdown file is the file itself, so its passages can be
    checked without importing; the other files are checked by `make eval` itself."""
    folder = CORPUS / "dutch"
    if not folder.is_dir():
        pytest.skip(f"the Dutch corpus is not at {folder}")
    dutch = _script("eval_dutch")
    queries = tomllib.loads((ROOT / "eval" / "dutch_queries.toml").read_text("utf-8"))["query"]
    names = {p.name for p in folder.rglob("*") if p.is_file()}
    markdown = [
        q | {"relevant": [p for p in q["relevant"] if p["file"].endswith(".md")]} for q in queries
    ]
    texts = {
        Path(n).stem: dutch._reduced((folder / n).read_text("utf-8"))
        for n in names
        if n.endswith(".md")
    }
    assert all(p["file"] in names for q in queries for p in q["relevant"])
    assert sum(len(p) for p in dutch.locate(markdown, texts)) > 200
