"""Evaluate clause search on Dutch contract texts: precision@5 and nDCG@10 over judged queries.

The queries and their relevance judgements are data: eval/dutch_queries.toml (how they were
judged is written at its top). The documents are ../shared/corpus/dutch: the tender dossier
folder (vng-softwarecatalogus-aanbesteding: Word, PDF, Excel) and the Markdown texts of the
general government conditions (ARVODI, ARBIT, ARIV, Rijksgebouwendienst) and the procurement
act. They are imported with `dossier import` into a fresh temporary instance as one dossier
(a Markdown file is filed as plain text under a .txt name while .md is not accepted for filing),
and every query runs through the search behind `dossier search --clauses --json` with the first
administrator's rights, over the whole instance.

A judged passage is named by its file, the words it starts with (`start`), for a passage
longer than one paragraph the words it ends with (`end`), and where the start words occur more
than once in the file, a title they follow (`after`); all are looked up in the text the
application extracted, after reducing it to lower-case words without accents, so they survive
re-segmentation. A hit is relevant with grade g when its clause text overlaps a passage of
grade g in the same file (at least 10 characters of the reduced text; the best grade counts);
a bare heading before a passage does not overlap it, since passages start at their first
sentence.

- precision@5: relevant hits (grade 1 or 2) among the first five, divided by five (fewer than
  five results count as misses); strict precision@5 counts grade 2 only.
- nDCG@10: gain g for a hit on a passage not credited before at a higher rank (a second clause
  of the same passage gains nothing), discount log2(rank + 1); divided by the DCG of the judged
  passages in their best order.

    .venv/bin/python scripts/eval_dutch.py [-v] [--queries eval/dutch_queries.toml]
        [--corpus ../shared/corpus/dutch] [--dump-texts FOLDER]

--dump-texts writes the extracted text of every file to FOLDER (for judging new queries by
reading the documents, never the search results) and stops.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eval_instance

QUERIES = eval_instance.ROOT / "eval" / "dutch_queries.toml"
CORPUS = eval_instance.CORPUS / "dutch"
MIN_OVERLAP = 10


@dataclass(frozen=True)
class Passage:
    file: str
    start: int
    end: int
    grade: int


def _reduced(text: str) -> str:
    return " ".join(eval_instance.words(text))


def _key(name: str) -> str:
    """A file's key: a Markdown file filed as .txt keeps its judged name's stem."""
    path = Path(name)
    return path.stem if path.suffix.lower() in (".md", ".txt") else path.name


def prepare(corpus: Path, folder: Path) -> None:
    """Copy every file of the corpus into one folder; Markdown as .txt if .md is refused."""
    sys.path.insert(0, str(eval_instance.ROOT))
    from ingest.detect import ACCEPTED_EXTENSIONS

    if not corpus.is_dir():
        sys.exit(f"no Dutch corpus at {corpus} (see ../shared/corpus/README.md)")
    markdown_accepted = "md" in ACCEPTED_EXTENSIONS or ".md" in ACCEPTED_EXTENSIONS
    folder.mkdir(parents=True)
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.name
        if path.suffix.lower() == ".md" and not markdown_accepted:
            name = path.stem + ".txt"
        shutil.copyfile(path, folder / name)


def locate(judged: list[dict[str, Any]], texts: dict[str, str]) -> list[list[Passage]]:
    """Every query's passages as ranges of its file's reduced text; stops on an unknown one."""
    problems = []
    located = []
    for query in judged:
        passages = []
        for item in query["relevant"]:
            text = texts.get(_key(item["file"]))
            if text is None:
                problems.append(f"{query['text']!r}: no file {item['file']}")
                continue
            start_words = _reduced(item["start"])
            after = text.find(_reduced(item["after"])) if "after" in item else 0
            start = text.find(start_words, max(after, 0)) if after >= 0 else -1
            if start < 0:
                problems.append(f"{query['text']!r}: {item['file']} has no {item['start']!r}")
                continue
            end = start + len(start_words)
            if "end" in item:
                end_words = _reduced(item["end"])
                at = text.find(end_words, start)
                if at < 0:
                    problems.append(f"{query['text']!r}: {item['file']} has no {item['end']!r}")
                    continue
                end = at + len(end_words)
            passages.append(Passage(_key(item["file"]), start, end, int(item["grade"])))
        located.append(passages)
    if problems:
        sys.exit("judged passages not found in the extracted text:\n  " + "\n  ".join(problems))
    return located


def _occurrences(clause: str, text: str) -> list[tuple[int, int]]:
    """Where a clause's reduced text lies in its file's reduced text (every occurrence); the
    first or last twelve words locate a clause whose text was changed (a heading put in front)."""
    if not clause:
        return []
    spans = []
    head = " ".join(clause.split()[:12])
    tail = " ".join(clause.split()[-12:])
    for probe, at_end in ((clause, False), (head, False), (tail, True)):
        at = text.find(probe)
        while at >= 0:
            spans.append(
                (at + len(probe) - len(clause), at + len(probe))
                if at_end
                else (at, at + len(clause))
            )
            at = text.find(probe, at + 1)
        if spans:
            return spans
    return spans


def grade(
    hit_file: str, clause: str, texts: dict[str, str], passages: list[Passage]
) -> tuple[int, Passage | None]:
    """The best grade of a passage the clause overlaps, and that passage."""
    best: tuple[int, Passage | None] = (0, None)
    text = texts.get(hit_file, "")
    spans = _occurrences(_reduced(clause), text)
    for passage in passages:
        if passage.file != hit_file or passage.grade <= best[0]:
            continue
        if any(min(b, passage.end) - max(a, passage.start) >= MIN_OVERLAP for a, b in spans):
            best = (passage.grade, passage)
    return best


def score(
    grades: list[tuple[int, Passage | None]], passages: list[Passage]
) -> tuple[float, float, float]:
    """precision@5, strict precision@5 and nDCG@10 of one query's ranked grades."""
    top = grades[:5]
    precision = sum(g > 0 for g, _p in top) / 5
    strict = sum(g == 2 for g, _p in top) / 5
    credited: set[Passage] = set()
    dcg = 0.0
    for rank, (g, passage) in enumerate(grades[:10], start=1):
        if passage is not None and passage not in credited:
            credited.add(passage)
            dcg += g / math.log2(rank + 1)
    ideal = sorted((p.grade for p in passages), reverse=True)[:10]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return precision, strict, dcg / idcg if idcg else 0.0


def _load(path: Path) -> list[dict[str, Any]]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))["query"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        sys.exit(f"cannot read the judged queries in {path}: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("-v", "--verbose", action="store_true", help="One row per query.")
    parser.add_argument("--dump-texts", type=Path, default=None)
    parser.add_argument(
        "--no-expand", action="store_true", help="Search without the thesaurus's synonyms."
    )
    args = parser.parse_args()
    eval_instance.EXPAND = not args.no_expand
    judged = [] if args.dump_texts else _load(args.queries)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dossier-eval-nl-") as work:
        folder = Path(work) / "dutch"
        prepare(args.corpus, folder)
        eval_instance.build(Path(work) / "instance", folder)
        with eval_instance.session(Path(work) / "instance") as actor:
            stored = eval_instance.version_texts()
            print(f"\nDutch corpus imported ({eval_instance.extraction_summary()})")
            if args.dump_texts:
                args.dump_texts.mkdir(parents=True, exist_ok=True)
                for name, text in stored.items():
                    (args.dump_texts / (name + ".txt")).write_text(text, encoding="utf-8")
                print(f"{len(stored)} texts written to {args.dump_texts}")
                return
            texts = {_key(name): _reduced(text) for name, text in stored.items()}
            located = locate(judged, texts)
            files = eval_instance.current_files()
            rows = []
            for query, passages in zip(judged, located, strict=True):
                hits = eval_instance.search(actor, query["text"], 10)
                grades = [grade(_key(files[h.document_id]), h.text, texts, passages) for h in hits]
                rows.append((query["text"], len(hits), len(passages), *score(grades, passages)))
    report(rows, args.verbose, time.perf_counter() - started)


def report(rows: list[tuple], verbose: bool, seconds: float) -> None:
    print(f"\nDutch queries through dossier import ({len(rows)} queries, {seconds:.0f} s)\n")
    header = f"{'query':42} {'hits':>4} {'judged':>6} {'P@5':>5} {'P@5 strict':>10} {'nDCG@10':>8}"
    if verbose:
        print(header)
        for text, hits, judged, p5, strict, ndcg in rows:
            print(f"{text[:42]:42} {hits:4d} {judged:6d} {p5:5.2f} {strict:10.2f} {ndcg:8.2f}")
        print()
    n = len(rows)
    mean = [sum(r[i] for r in rows) / n for i in (3, 4, 5)]
    empty = sum(r[1] == 0 for r in rows) / n
    under = sum(r[1] < 5 for r in rows) / n
    if not verbose:
        print(header)
    label = "overall (mean of queries)"
    print(f"{label:42} {'':4} {'':6} {mean[0]:5.2f} {mean[1]:10.2f} {mean[2]:8.2f}")
    print(f"no result: {empty:.2f} of the queries; fewer than five results: {under:.2f}")


if __name__ == "__main__":
    main()
