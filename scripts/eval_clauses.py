"""Evaluate clause search on CUAD (../shared/corpus/cuad-dev): recall@1 and recall@5.

For each CUAD category that names a clause, every contract with an annotation in that category
gets one natural query, restricted to that contract (as "search within this dossier" does).
A hit counts when the clause returned contains a whole annotated span. Prints a table per
category and overall; a script, not a test.

    .venv/bin/python scripts/eval_clauses.py [--corpus ../shared/corpus/cuad-dev] [--no-expand]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.clauses import context_headings, segment  # noqa: E402
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
    return json.loads((corpus / "cuad_dev.json").read_text(encoding="utf-8"))["data"]


def build(index: SearchIndex, contracts: list[dict]) -> dict[str, tuple[int, int]]:
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
                )
            )
        changes.append((number, units))
    index.apply(changes)
    return spans


def evaluate(
    index: SearchIndex, contracts: list[dict], spans: dict, expand: bool = True
) -> dict[str, list[int]]:
    """Per category: how many contracts, first-hit matches, top-5 matches."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for number, contract in enumerate(contracts, start=1):
        for qa in contract["paragraphs"][0]["qas"]:
            category = qa["id"].rsplit("__", 1)[1]
            answers = [
                (a["answer_start"], a["answer_start"] + len(a["text"]))
                for a in qa["answers"]
                if a["answer_start"] >= 0
            ]
            if category not in QUERIES or not answers:
                continue
            request = SearchRequest(
                text=QUERIES[category],
                allowed_dossiers=frozenset({number}),
                mode="clauses",
                per_page=5,
                snippets=False,
                expand=expand,
            )
            hits = index.search(request).hits
            found = [_contains(spans[h.unit_id], answers) for h in hits]
            row = scores[category]
            row[0] += 1
            row[1] += bool(found[:1] and found[0])
            row[2] += any(found)
    return scores


def _contains(span: tuple[int, int], answers: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(start <= a and b <= end for a, b in answers)


def report(scores: dict[str, list[int]]) -> None:
    print(f"{'category':45} {'n':>4} {'recall@1':>9} {'recall@5':>9}")
    total = [0, 0, 0]
    for category in sorted(scores, key=lambda c: -scores[c][0]):
        n, at1, at5 = scores[category]
        total = [t + v for t, v in zip(total, (n, at1, at5), strict=True)]
        print(f"{category:45} {n:4d} {at1 / n:9.2f} {at5 / n:9.2f}")
    n, at1, at5 = total
    print(f"{'overall (micro)':45} {n:4d} {at1 / n:9.2f} {at5 / n:9.2f}")
    macro5 = sum(s[2] / s[0] for s in scores.values()) / len(scores)
    print(f"{'overall (mean of categories)':45} {'':4} {'':9} {macro5:9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cuad-dev"
    parser.add_argument("--corpus", type=Path, default=default)
    parser.add_argument(
        "--no-expand", action="store_true", help="Search without the thesaurus's synonyms."
    )
    args = parser.parse_args()
    contracts = load(args.corpus)
    with tempfile.TemporaryDirectory() as folder:
        index = SearchIndex(folder)
        spans = build(index, contracts)
        report(evaluate(index, contracts, spans, expand=not args.no_expand))


if __name__ == "__main__":
    main()
