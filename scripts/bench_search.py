"""Benchmark the search index: build throughput, search latency, memory and size on disk, for
the embedded index (whoosh), PostgreSQL full text (postgres) or both side by side
(``--backend whoosh,postgres``).

Collections of N documents are made from the CUAD contract texts (repeated with distinct
document, dossier and supplier ids), split into clauses with ``ingest.clauses.segment`` (or a
paragraph splitter when that module is missing). Each size runs in a child process so its peak
memory is its own. Latencies are for a user who may read 10% of the dossiers. The postgres
backend builds in a schema ``bench_<size>`` of ``--database-url`` (default:
$DOSSIER_BENCH_DATABASE_URL), dropped afterwards unless --keep; its size is the
pg_total_relation_size of its tables.

    .venv/bin/python scripts/bench_search.py --sizes 1000,10000 --queries 20
    .venv/bin/python scripts/bench_search.py --sizes 10000 --backend whoosh,postgres \
        --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search.backend import SearchBackend  # noqa: E402
from search.postgres import PostgresBackend  # noqa: E402
from search.query import QueryRefused  # noqa: E402
from search.types import SearchRequest, Unit  # noqa: E402
from search.whoosh import WhooshBackend as SearchIndex  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "cuad-dev" / "txt"
DOCUMENTS_PER_DOSSIER = 10
READABLE_SHARE = 0.10
# Replacements through apply(): single uploads come in small batches, a busy outbox in 50s.
APPLY_BATCHES = (10, 50)
QUERIES = [
    "governing law",
    "termination for convenience",
    '"limitation of liability"',
    "notice period",
    "confidential information",
    "assignment",
    "indemnification",
    "renewal term",
    "exclusivity",
    "audit rights",
    "force majeure",
    "liquidated damages",
    "change of control",
    "intellectual property",
    "most favored nation",
    "non-compete",
    "insurance",
    "warranty",
    "opzegging",
    "aansprakelijkheid",
    "payment terms",
    "minimum commitment",
]
KINDS = ["contract", "contract", "annex", "amendment", "correspondence", "minutes", "report"]
STATUSES = ["active", "active", "active", "draft", "ended", "terminated", "archived"]


@dataclass(frozen=True)
class Piece:
    """One clause of a corpus text, ready to become a unit."""

    number: str
    heading: str
    page: int | None
    text: str
    definition: bool = False


def load_corpus(folder: Path) -> list[tuple[str, list[Piece]]]:
    """(title, clauses) for every text of the corpus, segmented once."""
    segment = _segmenter()
    texts = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        texts.append((path.stem[:120], segment(text)))
    return texts


def _segmenter() -> Callable[[str], list[Piece]]:
    """ingest.clauses.segment when available, else a splitter on blank lines into ~2000 chars."""
    try:
        from ingest.clauses import context_headings, in_definitions, segment
    except ImportError:
        return _paragraphs

    def clauses(text: str) -> list[Piece]:
        found = segment(text)
        return [
            Piece(c.number, heading, c.page, c.text, in_definitions(heading))
            for c, heading in zip(found, context_headings(found), strict=True)
        ]

    return clauses


def _paragraphs(text: str) -> list[Piece]:
    """Blank-line paragraphs joined into sections of about 2000 characters."""
    pieces, current = [], ""
    for paragraph in text.split("\n\n"):
        current = f"{current}\n\n{paragraph}" if current else paragraph
        if len(current) >= 2000:
            pieces.append(Piece("", "", None, current))
            current = ""
    if current.strip():
        pieces.append(Piece("", "", None, current))
    return pieces


def units(corpus: list[tuple[str, list[Piece]]], count: int, first: int = 1) -> Iterator[Unit]:
    """Units of `count` synthetic documents: corpus texts repeated with distinct ids."""
    start = date(2015, 1, 1)
    for document_id in range(first, first + count):
        title, pieces = corpus[(document_id - 1) % len(corpus)]
        dossier = (document_id - 1) // DOCUMENTS_PER_DOSSIER + 1
        common = {
            "document_id": document_id,
            "version_id": document_id,
            "version_number": 1,
            "is_current": True,
            "dossier_id": dossier,
            "dossier_reference": f"{2015 + dossier % 11}-{dossier:05d}",
            "supplier": f"Supplier {dossier % 150:03d} B.V.",
            "dossier_status": STATUSES[dossier % len(STATUSES)],
            "kind": KINDS[document_id % len(KINDS)],
            "title": f"{title} #{document_id}",
            "document_date": start + timedelta(days=(document_id * 37) % 3650),
        }
        for position, piece in enumerate(pieces):
            yield Unit(
                unit_id=f"{document_id}:{position}",
                clause_number=piece.number,
                heading=piece.heading,
                page=piece.page,
                position=position,
                is_clause=bool(piece.number or piece.heading),
                text=piece.text,
                definition=piece.definition,
                **common,
            )


def build(
    index: SearchBackend, corpus: list[tuple[str, list[Piece]]], size: int, args: argparse.Namespace
) -> dict:
    """Rebuild the index with `size` documents, printing progress and an estimate as it goes.

    The build is abandoned (and the run fails) once its estimate exceeds --max-build-minutes.
    """
    text_bytes = sum(len(p.text.encode()) for i in range(size) for p in corpus[i % len(corpus)][1])
    started, cpu = time.monotonic(), time.process_time()

    def progress(done: int) -> None:
        elapsed = time.monotonic() - started
        if done and (done % max(size // 20, 500) == 0 or done == size):
            eta = elapsed / done * (size - done)
            print(f"  {done}/{size} documents, {done / elapsed:.1f}/s, ~{eta:.0f} s left")
            sys.stdout.flush()
            if done >= size // 20 and (elapsed + eta) / 60 > args.max_build_minutes:
                raise SystemExit(f"abandoned: over {args.max_build_minutes} minutes to build")

    index.rebuild(units(corpus, size), progress, processes=args.processes)
    wall = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "build_s": wall,
        "build_cpu_s": time.process_time() - cpu + children.ru_utime + children.ru_stime,
        "documents_per_s": size / wall,
        "text_mb_per_s": text_bytes / 1e6 / wall,
        "text_mb": text_bytes / 1e6,
        "units": index.unit_count(),
        "processes": args.processes,
    }


def incremental(
    index: SearchBackend, corpus: list[tuple[str, list[Piece]]], count: int, batch: int
) -> float:
    """Documents per second replacing `count` existing documents through apply() in batches
    (the outbox path: the worker commits up to 50 documents at a time)."""
    started = time.monotonic()
    for first in range(1, count + 1, batch):
        changes: dict[int, list[Unit]] = {}
        for unit in units(corpus, min(batch, count - first + 1), first):
            changes.setdefault(unit.document_id, []).append(unit)
        index.apply(changes.items())
    return count / (time.monotonic() - started)


def latencies(index: SearchBackend, size: int, queries: list[str], repeat: int) -> dict:
    """p50/p95 search latency (ms) per mode and snippet setting, for a 10% reader and for all."""
    dossiers = list(range(1, (size - 1) // DOCUMENTS_PER_DOSSIER + 2))
    readable = frozenset(
        random.Random(42).sample(dossiers, max(1, int(len(dossiers) * READABLE_SHARE)))
    )
    results = {}
    for label, allowed in (("10%", readable), ("all", frozenset(dossiers))):
        for mode in ("documents", "clauses"):
            for snippets in (True, False):
                if label == "all" and not snippets:
                    continue
                timings, totals, refused = [], [], 0
                for text in queries:
                    request = SearchRequest(text, allowed, mode=mode, snippets=snippets)
                    # Reading everything is only a reference point; one run keeps it short.
                    for run in range(1 + (repeat if label == "10%" else 1)):
                        started = time.perf_counter()
                        try:
                            result = index.search(request)
                        except QueryRefused:  # over SEARCH_TIME_LIMIT: counted at the limit
                            refused += run > 0
                            result = None
                        if run:  # the first run warms up
                            timings.append((time.perf_counter() - started) * 1000)
                    totals.extend([result.total] if result is not None else [])
                key = f"{label} {mode}{' +snippets' if snippets else ''}"
                results[key] = _percentiles(timings) | {
                    "mean_total": statistics.mean(totals) if totals else 0,
                    "refused": refused,
                }
    return results


def _percentiles(values: list[float]) -> dict:
    """p50, p95 and max of some latencies."""
    ordered = sorted(values)
    return {
        "p50_ms": ordered[len(ordered) // 2],
        "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max_ms": ordered[-1],
    }


def first_search(open_index: Callable[[], SearchBackend], size: int) -> tuple[float, bool]:
    """Latency (ms) of the first search of a fresh process-level index object (cold caches),
    by a reader of every dossier, and whether it was refused at the search time limit."""
    dossiers = frozenset(range(1, (size - 1) // DOCUMENTS_PER_DOSSIER + 2))
    started = time.perf_counter()
    fresh = open_index()
    try:
        fresh.search(SearchRequest("governing law", dossiers))
        refused = False
    except QueryRefused:
        refused = True
    elapsed = (time.perf_counter() - started) * 1000
    fresh.close()
    return elapsed, refused


def directory_mb(path: Path) -> float:
    """Size of all files under a directory, in MB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def run_one(size: int, args: argparse.Namespace) -> dict:
    """Build, measure and report one collection size on one backend (in its own process)."""
    corpus = load_corpus(Path(args.corpus))
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-search-"))
    index_dir = base / f"index-{size}"
    schema = f"bench_{size}"

    def open_index() -> SearchBackend:
        if args.backend == "postgres":
            return PostgresBackend(args.database_url, schema=schema)
        return SearchIndex(index_dir)

    index = open_index()
    report: dict = {"documents": size, "backend": args.backend}
    if args.reuse and index.exists():
        report |= {"reused": True, "units": index.unit_count()}
    else:
        if args.backend != "postgres":  # the embedded index kept beside it stays
            shutil.rmtree(index_dir, ignore_errors=True)
        report |= build(index, corpus, size, args)
    report["maxrss_build_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if isinstance(index, PostgresBackend):
        report["index_mb"] = index.size_bytes() / 1e6
    else:
        report["index_mb"] = directory_mb(index_dir)
    report["first_search_ms"], report["first_search_refused"] = first_search(open_index, size)
    report["latency"] = latencies(index, size, QUERIES[: args.queries], args.repeat)
    report["apply_per_s"] = {
        batch: incremental(index, corpus, min(100, size), batch) for batch in APPLY_BATCHES
    }
    report["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["maxrss_children_mb"] = children.ru_maxrss / 1024
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
        if isinstance(index, PostgresBackend):
            _drop_schema(args.database_url, schema)
    index.close()
    return report


def _drop_schema(url: str, schema: str) -> None:
    """Remove a benchmark's PostgreSQL schema."""
    import psycopg

    from search.postgres.backend import libpq_url

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def print_report(report: dict) -> None:
    """Print one size's results as a few readable lines."""
    print(f"\n== {report['backend']}: {report['documents']:,} documents, {report['units']:,} units")
    if not report.get("reused"):
        _print_build(report)
    print(
        "apply(): "
        + ", ".join(
            f"{rate:.1f} documents/s in batches of {batch}"
            for batch, rate in report["apply_per_s"].items()
        )
    )
    print(
        f"peak memory: build {report['maxrss_build_mb']:.0f} MB, whole run "
        f"{report['maxrss_mb']:.0f} MB, children {report['maxrss_children_mb']:.0f} MB; "
        f"index {report['index_mb']:.0f} MB on disk; "
        f"first search {report['first_search_ms']:.0f} ms"
        + (" (refused at the search time limit)" if report.get("first_search_refused") else "")
    )
    for key, value in report["latency"].items():
        print(
            f"  {key:<28} p50 {value['p50_ms']:7.1f} ms  p95 {value['p95_ms']:7.1f} ms  "
            f"max {value['max_ms']:7.1f} ms  mean total {value['mean_total']:.0f}"
            + (f"  ({value['refused']} refused as too slow)" if value.get("refused") else "")
        )


def _print_build(report: dict) -> None:
    """Print the build line of a report."""
    print(
        f"build ({report['processes']} processes): {report['build_s']:.0f} s wall "
        f"({report['build_cpu_s']:.0f} s CPU), "
        f"{report['documents_per_s']:.1f} documents/s, {report['text_mb_per_s']:.2f} MB text/s "
        f"({report['text_mb']:.0f} MB of text)"
    )


def main() -> None:
    """Run each requested size in its own process and print the reports."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=len(QUERIES))
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per query after a warm-up"
    )
    parser.add_argument("--keep", help="build indexes in this directory and keep them")
    parser.add_argument("--corpus", default=str(CORPUS))
    parser.add_argument(
        "--reuse", action="store_true", help="search an index left by --keep instead of building"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="indexing processes for the build, as `dossier reindex` (default: up to 2)",
    )
    parser.add_argument("--max-build-minutes", type=float, default=300.0)
    parser.add_argument(
        "--backend",
        default="whoosh",
        help="whoosh, postgres, or both side by side (whoosh,postgres)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DOSSIER_BENCH_DATABASE_URL", ""),
        help="PostgreSQL database of the postgres backend (it makes a schema bench_<size>)",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_one(args.one, args)), flush=True)
        return
    backends = [name.strip() for name in args.backend.split(",") if name.strip()]
    if unknown := set(backends) - {"whoosh", "postgres"}:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    if "postgres" in backends and not args.database_url:
        parser.error("the postgres backend needs --database-url (or DOSSIER_BENCH_DATABASE_URL)")
    for size in (int(s) for s in args.sizes.split(",") if s):
        for backend in backends:
            _run_child(size, backend, args)


def _run_child(size: int, backend: str, args: argparse.Namespace) -> None:
    """Run one size on one backend in a child process and print its report."""
    if args.reuse:
        print(f"{backend}, {size:,} documents: searching a kept index if any...", flush=True)
    else:
        print(f"{backend}: building {size:,} documents...", flush=True)
    command = [sys.executable, __file__, "--one", str(size), *_passed(args)]
    command += ["--backend", backend, "--database-url", args.database_url]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("RESULT "):
                print_report(json.loads(line[7:]))
            else:
                print(line, end="", flush=True)
    if child.returncode:
        raise SystemExit(f"the run for {size} documents failed ({child.returncode})")


def _passed(args: argparse.Namespace) -> list[str]:
    """The options to hand on to a child run."""
    passed = ["--queries", str(args.queries), "--repeat", str(args.repeat), "--corpus", args.corpus]
    passed += ["--reuse"] if args.reuse else []
    passed += [
        "--processes",
        str(args.processes),
        "--max-build-minutes",
        str(args.max_build_minutes),
    ]
    return passed + (["--keep", args.keep] if args.keep else [])


if __name__ == "__main__":
    main()
