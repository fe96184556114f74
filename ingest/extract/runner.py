"""Run extraction in a child process under limits and turn how the child ended into a status.

The child is a fresh interpreter (``python -m ingest.extract.child``), not a fork: the parent
is a threaded web server holding database connections, which a forked child would share.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .model import RESULT_BYTES_PER_CHAR, Extraction, Limits, Status, failure, from_plain

log = logging.getLogger(__name__)

CHILD_MODULE = "ingest.extract.child"
EXTRACT_TARGET = "ingest.extract.core:extract_request"
# The folder that holds the search package, so the child imports this very copy of it.
IMPORT_ROOT = Path(__file__).resolve().parents[2]
STDERR_TAIL_BYTES = 4096
# Longest pause between checks whether the child has exited.
WAIT_POLL_SECONDS = 0.02
RESULT_SLACK_BYTES = 16 * 1024 * 1024
# What C and C++ libraries print when an allocation fails under RLIMIT_AS before they abort.
MEMORY_HINTS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")


class ChildFailed(Exception):
    """The child ended without a usable result; status and detail say how."""

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def extract(
    path: str | os.PathLike[str],
    kind: str,
    *,
    attachments_dir: str | os.PathLike[str] | None = None,
    limits: Limits = Limits(),  # noqa: B008 - Limits is frozen, a shared default is safe
    ocr: bool = True,
) -> Extraction:
    """Run extraction of path (already type-checked as kind) in a child process.

    Never raises for bad content: a crash, a hang or a memory blow-up of the child becomes
    a status. Attachments appear in attachments_dir only when the child finished.
    """
    staging = _staging_dir(attachments_dir)
    try:
        extraction = _extract_in_child(Path(path).resolve(), kind, staging, limits, ocr)
        if staging is None or attachments_dir is None:
            return extraction
        return _publish_attachments(extraction, staging, Path(attachments_dir).resolve())
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _extract_in_child(
    path: Path, kind: str, staging: Path | None, limits: Limits, ocr: bool
) -> Extraction:
    """Run extract_here in a child and rebuild its result; failures become statuses."""
    request = {
        "path": str(path),
        "kind": kind,
        "attachments_dir": str(staging) if staging else None,
        "limits": asdict(limits),
        "ocr": ocr,
    }
    try:
        return from_plain(run_isolated(EXTRACT_TARGET, [request], limits))
    except ChildFailed as exc:
        return failure(exc.status, exc.detail)
    except ValueError as exc:
        return failure(Status.UNREADABLE, f"the parser returned a malformed result ({exc})")


def run_isolated(target: str, args: list[Any], limits: Limits) -> Any:
    """Call target ("module:function") with JSON args in a child process under limits.

    Returns the function's JSON value, or raises ChildFailed with the status for the way
    the child ended (killed at the wall limit, by a signal, out of memory, ...).
    """
    with tempfile.TemporaryDirectory(prefix="dossier-child-") as work:
        folder = Path(work)
        request = {
            "target": target,
            "args": args,
            "limits": asdict(limits),
            "result": str(folder / "result.json"),
        }
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        returncode, timed_out = _run_child(folder, limits)
        return _outcome(folder, returncode, timed_out, limits)


def _run_child(folder: Path, limits: Limits) -> tuple[int, bool]:
    """Start the child, wait at most wall_seconds, kill its whole process group after."""
    command = [sys.executable, "-m", CHILD_MODULE, str(folder / "request.json")]
    with open(folder / "stderr.txt", "wb") as stderr:
        # A new session makes the child a process-group leader, so killing the group also
        # ends the pdftoppm and tesseract processes it may have started.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=folder,
            env=_child_environment(),
            start_new_session=True,
        )
        try:
            exited = _wait_unreaped(process.pid, limits.wall_seconds)
        finally:
            # Running or a zombie, the child still holds its pid, so the group id is ours to
            # kill: this ends what it left running, or the child itself at the wall limit.
            _kill_group(process.pid)
            returncode = process.wait()
    return returncode, not exited


def _wait_unreaped(pid: int, timeout: float) -> bool:
    """Wait up to timeout for the child to exit, leaving it unreaped; False if it still runs."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, WAIT_POLL_SECONDS)
    return True


def _child_environment() -> dict[str, str]:
    """The parent's environment, plus the import path of this very package."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(IMPORT_ROOT), env.get("PYTHONPATH")]))
    return env


def _kill_group(pid: int) -> None:
    """Send SIGKILL to the process group led by pid, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _outcome(folder: Path, returncode: int, timed_out: bool, limits: Limits) -> Any:
    """Return the child's value or raise ChildFailed describing how it ended."""
    if timed_out:
        raise ChildFailed(Status.TIMED_OUT, f"took longer than {limits.wall_seconds:g} s")
    if returncode < 0:
        raise _signal_failure(-returncode, _stderr_tail(folder), limits)
    data = _read_result(folder / "result.json", limits)
    if data is None:
        tail = _stderr_tail(folder)
        if any(hint in tail for hint in MEMORY_HINTS):
            raise _memory_failure(limits)
        log.warning("extraction child exited with %s: %s", returncode, tail[-500:])
        raise ChildFailed(Status.UNREADABLE, f"the parser failed (exit code {returncode})")
    if data.get("memory_error"):
        raise _memory_failure(limits)
    if "error" in data:
        raise ChildFailed(Status.UNREADABLE, f"the parser failed: {data['error']}")
    return data.get("value")


def _signal_failure(number: int, stderr_tail: str, limits: Limits) -> ChildFailed:
    """Map the signal that killed the child to a status."""
    if number == signal.SIGXCPU:
        return ChildFailed(Status.TIMED_OUT, f"used more than {limits.cpu_seconds} s of CPU time")
    if number == signal.SIGKILL:
        # Not ours (that is timed_out): the CPU hard limit, or the kernel's OOM killer.
        return ChildFailed(Status.TIMED_OUT, "was killed (signal 9) at the CPU or memory limit")
    if number == signal.SIGABRT and any(hint in stderr_tail for hint in MEMORY_HINTS):
        return _memory_failure(limits)
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "unknown"
    return ChildFailed(Status.UNREADABLE, f"the parser crashed (signal {number}, {name})")


def _memory_failure(limits: Limits) -> ChildFailed:
    """The failure for a child that ran out of its address space."""
    return ChildFailed(Status.TOO_LARGE, f"needs more than {limits.memory_mb} MB of memory")


def _read_result(path: Path, limits: Limits) -> dict[str, Any] | None:
    """Read the child's JSON result within a size bound; None if it wrote none."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size > limits.max_text_chars * RESULT_BYTES_PER_CHAR + RESULT_SLACK_BYTES:
        raise ChildFailed(Status.UNREADABLE, "the parser returned an oversized result")
    try:
        data = json.loads(path.read_bytes())
    except ValueError:
        raise ChildFailed(Status.UNREADABLE, "the parser returned a malformed result") from None
    if not isinstance(data, dict):
        raise ChildFailed(Status.UNREADABLE, "the parser returned a malformed result")
    return data


def _stderr_tail(folder: Path) -> str:
    """The last few KiB the child wrote to stderr, for diagnosis."""
    try:
        with open(folder / "stderr.txt", "rb") as file:
            file.seek(max(file.seek(0, os.SEEK_END) - STDERR_TAIL_BYTES, 0))
            return file.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _staging_dir(attachments_dir: str | os.PathLike[str] | None) -> Path | None:
    """A fresh folder inside attachments_dir for the child to write attachments into."""
    if attachments_dir is None:
        return None
    return Path(tempfile.mkdtemp(prefix=".extracting-", dir=attachments_dir)).resolve()


def _publish_attachments(extraction: Extraction, staging: Path, target: Path) -> Extraction:
    """Move the attachments the child wrote from staging into target, under fresh names."""
    published = []
    for attachment in extraction.attachments:
        source = Path(attachment.path)
        # The child names its files; still, accept only regular files it made in staging.
        if source.parent != staging or not source.is_file() or source.is_symlink():
            log.warning("ignoring an attachment outside the staging folder: %r", source)
            continue
        handle, destination = tempfile.mkstemp(prefix="attachment-", suffix=".bin", dir=target)
        os.close(handle)
        os.replace(source, destination)
        published.append(replace(attachment, path=destination))
    return replace(extraction, attachments=published)
