"""The child process: apply resource limits, call one function, write its result as JSON.

Run as ``python -m ingest.extract.child REQUEST.json`` by `ingest.extract.runner`; the request
names the function ("module:function"), its JSON arguments, the limits and the result file.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import sys
from pathlib import Path
from typing import Any

from .model import RESULT_BYTES_PER_CHAR

# Extra CPU seconds between SIGXCPU (soft limit) and SIGKILL (hard limit), in case the
# process survives SIGXCPU inside a C library.
CPU_HARD_MARGIN = 2
# Room for the result file and scratch files (rendered pages) besides attachments.
FILE_SIZE_MARGIN = 64 * 1024 * 1024


def main(argv: list[str]) -> int:
    """Run the request in argv[1]; exit 0 when a result file was written."""
    request = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    apply_limits(request["limits"])
    # Parsers log a warning per damaged object; a hostile file would fill the stderr file.
    logging.basicConfig(level=logging.ERROR)
    try:
        outcome: dict[str, Any] = {"value": call(request["target"], request["args"])}
    except MemoryError:
        outcome = {"memory_error": True}
    except Exception as exc:  # The parent records it; a traceback on stderr would be lost.
        outcome = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    write_result(Path(request["result"]), outcome)
    return 0


def apply_limits(limits: dict[str, Any]) -> None:
    """Cap address space, CPU time, file size and core dumps of this process and its children."""
    memory = int(limits["memory_bytes"])
    cpu = int(limits["cpu_seconds"])
    result_bytes = RESULT_BYTES_PER_CHAR * int(limits["max_text_chars"])
    largest_file = max(int(limits["max_attachment_bytes"]), result_bytes)
    _set(resource.RLIMIT_AS, memory, memory)
    _set(resource.RLIMIT_CPU, cpu, cpu + CPU_HARD_MARGIN)
    _set(resource.RLIMIT_FSIZE, largest_file + FILE_SIZE_MARGIN, largest_file + FILE_SIZE_MARGIN)
    _set(resource.RLIMIT_CORE, 0, 0)


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


if __name__ == "__main__":
    sys.exit(main(sys.argv))
