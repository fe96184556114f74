"""Wall-clock time per stage of filing and indexing, summed per process, for benchmarks.

Stages are exclusive: while a stage runs inside another on the same thread, only the inner one
counts, so the stages of one thread add up to the time they cover. Always on: a stage costs a
few `perf_counter` calls. `dossier import` logs the totals on the "dossier.timings" logger at
INFO, which is silent unless a caller turns it on (scripts/bench_ingest.py does).
"""

from __future__ import annotations

import json
import logging
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

_lock = threading.Lock()
_totals: dict[str, float] = {}
_local = threading.local()


@contextmanager
def timed(stage: str) -> Iterator[None]:
    """Add the time spent in the block, less that of stages inside it, to the stage's total."""
    stack: list[list] = _local.__dict__.setdefault("stack", [])
    now = time.perf_counter()
    if stack:
        outer = stack[-1]
        add(outer[0], now - outer[1])
    stack.append([stage, now])
    try:
        yield
    finally:
        now = time.perf_counter()
        name, started = stack.pop()
        add(name, now - started)
        if stack:
            stack[-1][1] = now


def add(stage: str, seconds: float) -> None:
    with _lock:
        _totals[stage] = _totals.get(stage, 0.0) + seconds


def totals() -> dict[str, float]:
    """Seconds per stage since the process started (or the last reset)."""
    with _lock:
        return dict(_totals)


def reset() -> None:
    with _lock:
        _totals.clear()


def report() -> None:
    """Log the totals, and this process's own CPU time, as one JSON line (for benchmarks)."""
    if log.isEnabledFor(logging.INFO):
        usage = resource.getrusage(resource.RUSAGE_SELF)
        line = totals() | {"cpu_self": usage.ru_utime + usage.ru_stime}
        log.info("stage seconds %s", json.dumps(line, sort_keys=True))
