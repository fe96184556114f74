"""Benchmark `dossier import` of the CUAD development PDFs: pages per second and where time goes.

A fresh instance in a temporary folder (SQLite, as `make run` uses) is made with `dossier init`;
then `dossier import` files a copy of ../shared/corpus/cuad-dev/pdf (63 PDFs, 1,135 pages) as one
dossier, extracts their text, segments clauses and indexes them, exactly as a user runs it. The
command's wall-clock time is measured from outside; the split comes from the stage timers of
`dossier.timings`, which the command logs when its "dossier.timings" logger is on:

- extraction: waiting for the sandboxed extraction of the files (copying each blob out included);
- clauses: clause segmentation of the extracted text;
- database: filing each file (staging, type detection, hashing, blob, rows, commit) and storing
  text and clauses (rows, commits);
- indexing: reading index units and writing the search index;
- other: the rest (interpreter and application start, printing).

CPU time is that of the command and the extraction processes it started (what the load of other
programs on the machine changes least), split into the command's own and theirs.

    .venv/bin/python scripts/bench_ingest.py [--corpus FOLDER] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "cuad-dev" / "pdf"
TARGET_PAGES_PER_SECOND = 100.0
TIMINGS_PREFIX = "stage seconds "
# Runs `dossier` as its console script does, with the "dossier.timings" logger printing to stderr.
BOOT = (
    "import logging, sys\n"
    "handler = logging.StreamHandler(sys.stderr)\n"
    "handler.setFormatter(logging.Formatter('%(message)s'))\n"
    "timings = logging.getLogger('dossier.timings')\n"
    "timings.addHandler(handler)\n"
    "timings.setLevel(logging.INFO)\n"
    "from dossier.cli import main\n"
    "main()\n"
)


def _environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "FLASK_"))}
    env["DOSSIER_INSTANCE_PATH"] = str(instance)
    return env


def _dossier(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", BOOT, *args]
    result = subprocess.run(command, env=env, text=True, capture_output=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"dossier {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def _stages(stderr: str) -> dict[str, float]:
    for line in stderr.splitlines():
        if line.startswith(TIMINGS_PREFIX):
            return json.loads(line[len(TIMINGS_PREFIX) :])
    return {}


def _versions(database: Path) -> tuple[int, int, dict[str, int]]:
    with sqlite3.connect(database) as connection:
        files, pages = connection.execute(
            "SELECT count(*), coalesce(sum(page_count), 0) FROM document_version"
        ).fetchone()
        statuses = dict(
            connection.execute(
                "SELECT extraction_status, count(*) FROM document_version GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
    return files, pages, statuses


def run_once(corpus: Path, keep: Path | None) -> dict[str, Any]:
    """One fresh instance, one import; returns files, pages, seconds and stage seconds."""
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=keep))
    try:
        instance = work / "instance"
        folder = work / "cuad-dev"
        shutil.copytree(corpus, folder, symlinks=False)
        env = _environment(instance)
        _dossier(env, "init")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = _dossier(env, "import", str(folder))
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        files, pages, statuses = _versions(instance / "dossier.sqlite3")
        return {
            "files": files,
            "pages": pages,
            "statuses": statuses,
            "seconds": seconds,
            "cpu": cpu,
            "stages": _stages(result.stderr),
            "summary": result.stdout.strip().splitlines()[-1:],
        }
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def report(run: dict[str, Any]) -> None:
    stages = run["stages"]
    seconds = run["seconds"]
    database = stages.get("filing", 0.0) + stages.get("storing", 0.0)
    split = {
        "extraction": stages.get("extraction", 0.0),
        "clauses": stages.get("clauses", 0.0),
        "database": database,
        "indexing": stages.get("indexing", 0.0),
    }
    split["other"] = max(seconds - sum(split.values()), 0.0)
    statuses = ", ".join(f"{n} {s}" for s, n in run["statuses"].items())
    print(
        f"{run['files']} files ({statuses}), {run['pages']} pages in {seconds:.1f} s: "
        f"{run['pages'] / seconds:.1f} pages/s (CPU time {run['cpu']:.1f} s)"
    )
    for name, value in split.items():
        share = 100 * value / seconds if seconds else 0.0
        extra = ""
        if name == "database":
            extra = (
                f"  (filing {stages.get('filing', 0.0):.2f} s, "
                f"storing {stages.get('storing', 0.0):.2f} s)"
            )
        print(f"  {name:<11} {value:6.2f} s  {share:4.0f} %{extra}")
    if "extraction_busy" in stages:
        print(f"  (extraction workers busy {stages['extraction_busy']:.2f} s in all)")
    if "cpu_self" in stages:
        own = stages["cpu_self"]
        print(
            f"  CPU time: {own:.1f} s in the dossier process, "
            f"{max(run['cpu'] - own, 0.0):.1f} s in extraction processes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of files to import")
    parser.add_argument("--runs", type=int, default=1, help="imports to run (the median counts)")
    parser.add_argument("--keep", type=Path, default=None, help="leave the instances here")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"no corpus at {args.corpus}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"dossier import of {args.corpus} into a fresh SQLite instance (load average {load})")
    runs = []
    for number in range(1, max(args.runs, 1) + 1):
        run = run_once(args.corpus, args.keep)
        if args.runs > 1:
            print(f"run {number}:", end=" ")
        report(run)
        runs.append(run)
    rates = [r["pages"] / r["seconds"] for r in runs]
    median = statistics.median(rates)
    if len(runs) > 1:
        print(f"median {median:.1f} pages/s over {len(runs)} runs")
    verdict = "met" if median >= TARGET_PAGES_PER_SECOND else "not met"
    print(f"target {TARGET_PAGES_PER_SECOND:.0f} pages/s: {verdict}")


if __name__ == "__main__":
    main()
