"""Evaluate clause search on CUAD (../shared/corpus/cuad-dev): recall@1, recall@5, no results.

For each CUAD category that names a clause, every contract with an annotation in that category
gets one natural query, restricted to that contract (as "search within this dossier" does).
Two sections, each a table per category and overall:

- text: the CUAD text files (cuad_dev.json) segmented and indexed directly, without the
  application. A hit counts when the clause returned contains a whole annotated span (character
  offsets in the same text).
- pipeline: the contracts' PDFs (cuad-dev/pdf, 63 of the 64) imported with `dossier import` into
  a fresh temporary instance, one dossier per contract, so text extraction, clause segmentation
  and indexing are the application's own; the queries go through the search behind
  `dossier search --clauses --dossier REF --json`. The PDF text differs from the annotated .txt
  (line breaks, hyphenation, page headers and numbers, ligatures), so a hit counts when the
  returned clause text contains an annotated span after both are reduced to their lower-case
  letters and digits (accents folded, everything else dropped), or, failing that, when at least
  80 % of the span's words appear in the clause in the same order (difflib's matching blocks
  over word lists; this forgives a page header or footer inside a span, but not a span split
  over two clauses). Applied to the text section's results, this rule agrees with the offset
  rule on 1,390 of 1,396 returned clauses and counts 6 more as hits, none fewer.

"no result" is the share of queries that returned nothing at all. A script, not a test.

    .venv/bin/python scripts/eval_clauses.py [--corpus ../shared/corpus/cuad-dev]
        [--section text|pipeline|all] [--no-expand]
        [--backend whoosh|postgres --database-url postgresql://...]

``--backend postgres`` runs the text section on the PostgreSQL backend (a temporary schema of
``--database-url``, default $DOSSIER_BENCH_DATABASE_URL), to compare it with the embedded index.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval_instance  # noqa: E402

from ingest.clauses import context_headings, in_definitions, segment  # noqa: E402
from search.backend import SearchBackend  # noqa: E402
from search.postgres import PostgresBackend  # noqa: E402
from search.types import SearchRequest, Unit  # noqa: E402
from search.whoosh import WhooshBackend as SearchIndex  # noqa: E402

# The categories that name a clause, each with the query a stakeholder would type. The wording
# was chosen on this development set (e.g. "may terminate this agreement" finds 0.88 of the
# termination-for-convenience clauses at 5, "termination for convenience" 0.17, because
# contracts rarely use that label), so judge generalisation on CUAD contracts outside it.
QUERIES = {
    "Governing Law": "governing law",
    "Renewal Term": "renew",
    "Notice Period To Terminate Renewal": "notice not to renew",
    "Expiration Date": "term of this agreement",
    "Termination For Convenience": "may terminate this agreement",
    "Anti-Assignment": "assignment",
    "Change Of Control": "change of control",
    "Cap On Liability": "limitation of liability",
    "Uncapped Liability": "liability",
    "Liquidated Damages": "liquidated damages",
    "Non-Compete": "non-compete",
    "Exclusivity": "exclusivity",
    "No-Solicit Of Customers": "non-solicitation customers",
    "No-Solicit Of Employees": "solicit employees",
    "Non-Disparagement": "disparage",
    "Audit Rights": "audit rights",
    "Insurance": "insurance",
    "Warranty Duration": "warranty period",
    "Post-Termination Services": "effect of termination",
    "Minimum Commitment": "minimum purchase",
    "Revenue/Profit Sharing": "revenue sharing",
    "Price Restrictions": "price increase",
    "Volume Restriction": "volume",
    "Ip Ownership Assignment": "intellectual property ownership",
    "Joint Ip Ownership": "jointly owned intellectual property",
    "License Grant": "license grant",
    "Non-Transferable License": "non-transferable license",
    "Irrevocable Or Perpetual License": "perpetual irrevocable license",
    "Source Code Escrow": "source code escrow",
    "Covenant Not To Sue": "covenant not to sue",
    "Third Party Beneficiary": "third party beneficiary",
    "Most Favored Nation": "most favored",
    "Rofr/Rofo/Rofn": "right of first refusal",
    "Competitive Restriction Exception": "competitive restriction exception",
    "Affiliate License-Licensor": "affiliates license",
    "Affiliate License-Licensee": "affiliates license",
    "Unlimited/All-You-Can-Eat-License": "unlimited license",
}


def load(corpus: Path) -> list[dict]:
    path = corpus / "cuad_dev.json"
    if not path.is_file():
        sys.exit(f"no CUAD development set at {path} (see ../shared/corpus/README.md)")
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def build(index: SearchBackend, contracts: list[dict]) -> dict[str, tuple[int, int]]:
    """Index every contract as one document in a dossier of its own; returns unit spans."""
    spans: dict[str, tuple[int, int]] = {}
    index.create()
    changes = []
    for number, contract in enumerate(contracts, start=1):
        text = contract["paragraphs"][0]["context"]
        units = []
        clauses = segment(text)
        for clause, heading in zip(clauses, context_headings(clauses), strict=True):
            unit_id = f"{number}:{clause.position}"
            spans[unit_id] = (clause.start, clause.end)
            units.append(
                Unit(
                    unit_id=unit_id,
                    document_id=number,
                    version_id=number,
                    version_number=1,
                    is_current=True,
                    dossier_id=number,
                    dossier_reference=f"CUAD-{number}",
                    supplier="",
                    dossier_status="active",
                    kind="contract",
                    title=contract["title"][:200],
                    document_date=None,
                    clause_number=clause.number,
                    heading=heading,
                    page=clause.page,
                    position=clause.position,
                    is_clause=bool(clause.number or clause.heading),
                    text=clause.text,
                    definition=in_definitions(heading),
                )
            )
        changes.append((number, units))
    index.apply(changes)
    return spans


def queries(contracts: list[dict]) -> Iterator[tuple[int, str, list[tuple[int, int]]]]:
    """(contract number, category, annotated spans) for every query the evaluation runs."""
    for number, contract in enumerate(contracts, start=1):
        for qa in contract["paragraphs"][0]["qas"]:
            category = qa["id"].rsplit("__", 1)[1]
            answers = [
                (a["answer_start"], a["answer_start"] + len(a["text"]))
                for a in qa["answers"]
                if a["answer_start"] >= 0
            ]
            if category in QUERIES and answers:
                yield number, category, answers


def evaluate(index: SearchBackend, contracts: list[dict], spans: dict) -> dict[str, list[int]]:
    """Per category: how many queries, first-hit matches, top-5 matches, empty results."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for number, category, answers in queries(contracts):
        request = SearchRequest(
            text=QUERIES[category],
            allowed_dossiers=frozenset({number}),
            mode="clauses",
            per_page=5,
            snippets=False,
            expand=eval_instance.EXPAND,
        )
        hits = index.search(request).hits
        _score(scores[category], [_contains(spans[h.unit_id], answers) for h in hits])
    return scores


def _score(row: list[int], found: list[bool]) -> None:
    row[0] += 1
    row[1] += bool(found[:1] and found[0])
    row[2] += any(found)
    row[3] += not found


def _contains(span: tuple[int, int], answers: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(start <= a and b <= end for a, b in answers)


def report(title: str, scores: dict[str, list[int]]) -> None:
    print(f"\n{title}\n")
    print(f"{'category':45} {'n':>4} {'recall@1':>9} {'recall@5':>9} {'no result':>10}")
    total = [0, 0, 0, 0]
    for category in sorted(scores, key=lambda c: (-scores[c][0], c)):
        n, at1, at5, empty = row = scores[category]
        total = [t + v for t, v in zip(total, row, strict=True)]
        print(f"{category:45} {n:4d} {at1 / n:9.2f} {at5 / n:9.2f} {empty / n:10.2f}")
    n, at1, at5, empty = total
    print(f"{'overall (micro)':45} {n:4d} {at1 / n:9.2f} {at5 / n:9.2f} {empty / n:10.2f}")
    macro = [sum(s[i] / s[0] for s in scores.values()) / len(scores) for i in (1, 2, 3)]
    label = "overall (mean of categories)"
    print(f"{label:45} {'':4} {macro[0]:9.2f} {macro[1]:9.2f} {macro[2]:10.2f}")


def text_section(
    contracts: list[dict], backend: str = "whoosh", database_url: str = ""
) -> dict[str, list[int]]:
    if backend == "postgres":
        schema = f"eval_{os.getpid()}"
        index = PostgresBackend(database_url, schema=schema)
        try:
            spans = build(index, contracts)
            return evaluate(index, contracts, spans)
        finally:
            index.close()
            _drop_schema(database_url, schema)
    with tempfile.TemporaryDirectory() as folder:
        index = SearchIndex(folder)
        spans = build(index, contracts)
        return evaluate(index, contracts, spans)


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    from search.postgres.backend import libpq_url

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def pipeline_section(contracts: list[dict], pdfs: Path) -> tuple[dict[str, list[int]], int]:
    """The PDFs through `dossier import` and the application's search; returns the scores and
    how many contracts had no PDF."""
    by_stem = {p.stem: p for p in pdfs.iterdir() if p.suffix.lower() == ".pdf"}
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    with tempfile.TemporaryDirectory(prefix="dossier-eval-") as work:
        folder = Path(work) / "cuad-dev"
        names: dict[int, str] = {}
        for number, contract in enumerate(contracts, start=1):
            if (pdf := by_stem.get(contract["title"])) is not None:
                target = folder / f"cuad-{number:02d}"
                target.mkdir(parents=True)
                shutil.copyfile(pdf, target / pdf.name)
                names[number] = pdf.name
        outcome = json.loads(eval_instance.build(Path(work) / "instance", folder))
        reference = {name: ref for ref, o in outcome.items() for name in o["filed"]}
        with eval_instance.session(Path(work) / "instance") as actor:
            print(f"\nCUAD PDFs imported ({eval_instance.extraction_summary()})")
            for number, category, answers in queries(contracts):
                if number not in names:
                    continue
                text = contracts[number - 1]["paragraphs"][0]["context"]
                wanted = [text[a:b] for a, b in answers]
                ref = reference.get(names[number])
                hits = eval_instance.search(actor, QUERIES[category], 5, ref) if ref else []
                _score(scores[category], [_pdf_hit(h.text, wanted) for h in hits])
    return scores, len(contracts) - len(names)


def _pdf_hit(clause: str, spans: list[str]) -> bool:
    """The hit rule of the pipeline section (see the module's docstring)."""
    letters = "".join(eval_instance.words(clause))
    clause_words = eval_instance.words(clause)
    for span in spans:
        span_words = eval_instance.words(span)
        if not span_words:
            continue
        if "".join(span_words) in letters:
            return True
        matcher = difflib.SequenceMatcher(None, span_words, clause_words, autojunk=False)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        if matched >= 0.8 * len(span_words):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cuad-dev"
    parser.add_argument("--corpus", type=Path, default=default)
    parser.add_argument("--section", choices=["text", "pipeline", "all"], default="all")
    parser.add_argument(
        "--no-expand", action="store_true", help="Search without the thesaurus's synonyms."
    )
    parser.add_argument("--backend", choices=["whoosh", "postgres"], default="whoosh")
    parser.add_argument("--database-url", default=os.environ.get("DOSSIER_BENCH_DATABASE_URL", ""))
    args = parser.parse_args()
    if args.backend == "postgres" and not args.database_url:
        parser.error("--backend postgres needs --database-url (or DOSSIER_BENCH_DATABASE_URL)")
    eval_instance.EXPAND = not args.no_expand
    contracts = load(args.corpus)
    if args.section in ("text", "all"):
        started = time.perf_counter()
        scores = text_section(contracts, args.backend, args.database_url)
        seconds = time.perf_counter() - started
        report(f"CUAD text files, {args.backend} ({seconds:.0f} s)", scores)
    if args.section in ("pipeline", "all"):
        started = time.perf_counter()
        scores, missing = pipeline_section(contracts, args.corpus / "pdf")
        seconds = time.perf_counter() - started
        report(
            f"CUAD PDFs through dossier import ({seconds:.0f} s; {missing} contract without a PDF)",
            scores,
        )


if __name__ == "__main__":
    main()
