"""Measure the clause-type classifier (search.clause_types) on CUAD (../shared/corpus/cuad-dev).

Each contract's text file is segmented as indexing does (ingest.clauses.segment, with the
inherited article headings) and every clause classified. CUAD categories that correspond to a
thesaurus concept (CATEGORIES) are compared with the concept:

- recall: of the annotated spans of the category, the share whose clause (the clause holding
  the span's start) got the concept;
- precision: of the clauses that got the concept, the share that hold an annotated span of any
  category that corresponds to it. CUAD annotates what its 41 questions ask, not every clause
  about a subject (a liability clause is annotated only when it caps or leaves liability
  uncapped, a licence clause only for some licence questions), so this precision is a lower
  bound.

The mapping is a reading of CUAD's category descriptions, not tuning: the classifier has one set
of weights for every concept. A script, not a test.

    .venv/bin/python scripts/eval_clause_types.py [--corpus ../shared/corpus/cuad-dev] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.clauses import context_headings, segment  # noqa: E402
from search.clause_types import classify  # noqa: E402

# CUAD category -> the thesaurus concept that covers it.
CATEGORIES = {
    "Governing Law": "governing_law",
    "Renewal Term": "renewal",
    "Expiration Date": "term",
    "Termination For Convenience": "termination_for_convenience",
    "Anti-Assignment": "assignment",
    "Change Of Control": "change_of_control",
    "Cap On Liability": "liability",
    "Uncapped Liability": "liability",
    "Liquidated Damages": "liquidated_damages",
    "Non-Compete": "non_compete",
    "Exclusivity": "exclusivity",
    "No-Solicit Of Customers": "non_solicitation",
    "No-Solicit Of Employees": "non_solicitation",
    "Non-Disparagement": "non_disparagement",
    "Audit Rights": "audit",
    "Insurance": "insurance",
    "Warranty Duration": "warranty",
    "Post-Termination Services": "post_termination",
    "Minimum Commitment": "minimum_commitment",
    "Revenue/Profit Sharing": "revenue_sharing",
    "Price Restrictions": "price_adjustment",
    "Ip Ownership Assignment": "intellectual_property",
    "Joint Ip Ownership": "intellectual_property",
    "License Grant": "licence",
    "Source Code Escrow": "source_code_escrow",
    "Covenant Not To Sue": "covenant_not_to_sue",
    "Third Party Beneficiary": "third_party_beneficiary",
    "Most Favored Nation": "most_favoured",
    "Rofr/Rofo/Rofn": "first_refusal",
}


def load(corpus: Path) -> list[dict]:
    path = corpus / "cuad_dev.json"
    if not path.is_file():
        sys.exit(f"no CUAD development set at {path} (see ../shared/corpus/README.md)")
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def measure(contracts: list[dict]) -> tuple[dict[str, list[int]], Counter[int], int]:
    """Per concept: [annotated spans, spans whose clause got it, clauses labelled, labelled
    clauses holding a span]; the distribution of types per clause; the number of clauses."""
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    per_clause: Counter[int] = Counter()
    clauses_seen = 0
    for contract in contracts:
        paragraph = contract["paragraphs"][0]
        clauses = segment(paragraph["context"])
        types = [
            classify(c.heading, c.text, "" if c.heading else heading)
            for c, heading in zip(clauses, context_headings(clauses), strict=True)
        ]
        per_clause.update(len(t) for t in types)
        clauses_seen += len(clauses)
        relevant: dict[str, set[int]] = defaultdict(set)  # concept -> clause indexes
        for qa in paragraph["qas"]:
            concept = CATEGORIES.get(qa["id"].rsplit("__", 1)[1])
            if concept is None:
                continue
            for answer in qa["answers"]:
                index = _clause_at(clauses, answer["answer_start"])
                if index is None:
                    continue
                rows[concept][0] += 1
                rows[concept][1] += concept in types[index]
                relevant[concept].add(index)
        for index, found in enumerate(types):
            for concept in found:
                if concept in rows or concept in CATEGORIES.values():
                    rows[concept][2] += 1
                    rows[concept][3] += index in relevant[concept]
    return rows, per_clause, clauses_seen


def _clause_at(clauses: list, offset: int) -> int | None:
    for index, clause in enumerate(clauses):
        if clause.start <= offset < clause.end:
            return index
    return None


def report(rows: dict[str, list[int]], per_clause: Counter[int], total: int) -> None:
    print(f"{'concept':30} {'spans':>6} {'recall':>7} {'typed':>6} {'precision':>10}")
    sums = [0, 0, 0, 0]
    for concept in sorted(rows, key=lambda c: (-rows[c][0], c)):
        spans, hit, typed, right = row = rows[concept]
        sums = [s + v for s, v in zip(sums, row, strict=True)]
        recall = f"{hit / spans:7.2f}" if spans else f"{'-':>7}"
        precision = f"{right / typed:10.2f}" if typed else f"{'-':>10}"
        print(f"{concept:30} {spans:6d} {recall} {typed:6d} {precision}")
    spans, hit, typed, right = sums
    print(f"{'overall (micro)':30} {spans:6d} {hit / spans:7.2f} {typed:6d} {right / typed:10.2f}")
    measured = [r for r in rows.values() if r[0] and r[2]]
    macro_r = sum(r[1] / r[0] for r in measured) / len(measured)
    macro_p = sum(r[3] / r[2] for r in measured) / len(measured)
    print(f"{'overall (mean of concepts)':30} {'':6} {macro_r:7.2f} {'':6} {macro_p:10.2f}")
    shares = ", ".join(f"{n}: {per_clause[n] / total:.2f}" for n in sorted(per_clause))
    print(f"\n{total} clauses; share by number of types: {shares}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cuad-dev"
    parser.add_argument("--corpus", type=Path, default=default)
    args = parser.parse_args()
    started = time.perf_counter()
    rows, per_clause, total = measure(load(args.corpus))
    print(f"Clause types on CUAD text files ({time.perf_counter() - started:.0f} s)\n")
    report(rows, per_clause, total)


if __name__ == "__main__":
    main()
