"""A sandboxed worker process: apply resource limits, then call one function per request.

Run as ``python -m ingest.extract.child LIMITS_JSON`` by `ingest.extract.pool`, a fresh
interpreter (never a fork of the caller). It reads one JSON request per line on stdin: the
function ("module:function"), its JSON arguments and the file to write the result to. For each
it gives itself a CPU budget of `cpu_seconds` more than it has used so far, calls the function,
writes the result file atomically and then answers one JSON line on stdout. It ends when stdin
closes (the parent is done, or gone) or after IDLE_EXIT_SECONDS without a request.

Address space, file size and core dumps are limited for the worker's whole life; the parent
kills it at the wall-clock limit and replaces it after any fault, after a number of files, and
once it has used a file's CPU budget or half its memory.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import math
import os
import resource
import select
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

from .model import RESULT_BYTES_PER_CHAR

# Extra CPU seconds between SIGXCPU (soft limit) and SIGKILL (hard limit), in case the
# process survives SIGXCPU inside a C library.
CPU_HARD_MARGIN = 2
# Room for the result file and scratch files (rendered pages) besides attachments.
FILE_SIZE_MARGIN = 64 * 1024 * 1024
# A worker nobody has sent a request for this long ends by itself (the parent stops reusing
# a worker after half this time, so it never sends a request to one that is ending).
IDLE_EXIT_SECONDS = 600.0
# prctl(PR_SET_CHILD_SUBREAPER): orphans of programs a request started become our children,
# so a request that leaves any process running behind is seen (see `_left_running`).
PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    """Serve requests until stdin closes, under the limits in argv[1]."""
    requests, replies = _protocol_channels()
    limits = json.loads(argv[1])
    _become_subreaper()
    apply_limits(limits)
    # Parsers log a warning per damaged object; a hostile file would fill the stderr file.
    logging.basicConfig(level=logging.ERROR)
    home = os.getcwd()
    while True:
        ready, _, _ = select.select([requests], [], [], IDLE_EXIT_SECONDS)
        line = requests.readline() if ready else b""
        if not line:  # the parent closed the pipe, is gone, or has not needed us for long
            return 0
        request = json.loads(line)
        give_cpu_budget(int(limits["cpu_seconds"]))
        try:
            outcome: dict[str, Any] = {"value": call(request["target"], request["args"])}
        except MemoryError:
            outcome = {"memory_error": True}
        except Exception as exc:  # The parent records it; a traceback on stderr would be lost.
            outcome = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        write_result(Path(request["result"]), outcome)
        with contextlib.suppress(OSError):
            os.chdir(home)
        reply = {"done": True, "left_running": _left_running()}
        replies.write(json.dumps(reply).encode("ascii") + b"\n")


def _protocol_channels() -> tuple[BinaryIO, BinaryIO]:
    """Private copies of the request and reply pipes; fds 0 and 1 become /dev/null and stderr.

    What a parser or a program it starts prints cannot garble a reply, and no program a
    request starts inherits the pipes (os.dup makes non-inheritable copies).
    """
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    return requests, replies


def _become_subreaper() -> None:
    """Adopt orphaned descendants (Linux); elsewhere only direct children are seen."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def apply_limits(limits: dict[str, Any]) -> None:
    """Cap address space, CPU time, file size and core dumps of this process and its children.

    The CPU hard limit leaves room for two budgets (the parent replaces a worker once it has
    used one); each request gets its own soft limit from `give_cpu_budget`.
    """
    memory = int(limits["memory_bytes"])
    cpu = int(limits["cpu_seconds"])
    result_bytes = RESULT_BYTES_PER_CHAR * int(limits["max_text_chars"])
    largest_file = max(int(limits["max_attachment_bytes"]), result_bytes)
    _set(resource.RLIMIT_AS, memory, memory)
    _set(resource.RLIMIT_CPU, cpu, 2 * cpu + CPU_HARD_MARGIN)
    _set(resource.RLIMIT_FSIZE, largest_file + FILE_SIZE_MARGIN, largest_file + FILE_SIZE_MARGIN)
    _set(resource.RLIMIT_CORE, 0, 0)


def give_cpu_budget(cpu_seconds: int) -> None:
    """Let this process use cpu_seconds more CPU time (to the whole second) before SIGXCPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + cpu_seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _set(which: int, soft: int, hard: int) -> None:
    """Lower a limit, never asking for more than the current hard limit allows."""
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(which, (soft, hard))


def call(target: str, args: list[Any]) -> Any:
    """Import "module:function" and call it with the arguments."""
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    return function(*args)


def write_result(path: Path, outcome: dict[str, Any]) -> None:
    """Write the outcome atomically, so the parent never reads half a result."""
    partial = path.with_suffix(".partial")
    partial.write_bytes(json.dumps(outcome, ensure_ascii=False).encode("utf-8"))
    os.replace(partial, path)


def _left_running() -> bool:
    """Whether the request left a thread or a process running (zombies are reaped here)."""
    if threading.active_count() > 1:
        return True
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


if __name__ == "__main__":
    sys.exit(main(sys.argv))
