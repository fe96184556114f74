"""Functions that tests/test_extract_pool.py runs inside sandboxed workers (imported there)."""

from __future__ import annotations

import os
import resource
import time

_calls = 0
_kept: list[bytes] = []


def count() -> list[int]:
    """[the worker's pid, how many times this worker has been called]."""
    global _calls
    _calls += 1
    return [os.getpid(), _calls]


def crash_when_reused() -> int:
    """Crash (SIGABRT) in a worker that already ran this once; a fresh worker returns its pid."""
    global _calls
    _calls += 1
    if _calls > 1:
        os.abort()
    return os.getpid()


def keep_megabytes(megabytes: int) -> int:
    """Allocate memory and keep it after the call, as a leaking parser would."""
    _kept.append(bytes(megabytes * 1024 * 1024))
    return os.getpid()


def spin(cpu_seconds: float) -> int:
    """Burn CPU time; returns the pid."""
    start = _cpu()
    while _cpu() - start < cpu_seconds:
        sum(range(10_000))
    return os.getpid()


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
