"""Run extraction in a sandboxed worker process and turn how it ended into a status.

The workers (`ingest.extract.pool`) are fresh interpreters, not forks: the parent is a threaded
web server holding database connections, which a forked child would share. They are reused
from file to file and replaced after any fault; a failure that a worker which served earlier
files may have caused (out of memory, a crash) is tried once more in a fresh worker, so every
file gets the result a process of its own would give it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .model import Extraction, Limits, Status, failure, from_plain
from .pool import ChildFailed, shared_pool

__all__ = ["ChildFailed", "abort_extractions", "extract", "run_isolated"]

log = logging.getLogger(__name__)

EXTRACT_TARGET = "ingest.extract.core:extract_request"
# The detail of a failure for lack of memory (the worker's or a parser's own MemoryError).
# The note of a parser that ran out of memory (see pool.py), as it ends up in the detail.
MEMORY_FAILURE = re.compile(r"needs more than \d+ MB of memory")


def extract(
    path: str | os.PathLike[str],
    kind: str,
    *,
    attachments_dir: str | os.PathLike[str] | None = None,
    limits: Limits = Limits(),  # noqa: B008 - Limits is frozen, a shared default is safe
    ocr: bool = True,
    clauses: bool = False,
) -> Extraction:
    """Run extraction of path (already type-checked as kind) in a sandboxed worker process.

    With clauses=True the worker also segments the text (`Extraction.clauses`), so that work
    runs beside other extractions instead of in the caller.

    Never raises for bad content: a crash, a hang or a memory blow-up of the worker becomes
    a status. Attachments appear in attachments_dir only when the worker finished. Safe to
    call from several threads at once: each call has a worker of its own.
    """
    staging = _staging_dir(attachments_dir)
    try:
        extraction = _extract_in_child(Path(path).resolve(), kind, staging, limits, ocr, clauses)
        if staging is None or attachments_dir is None:
            return extraction
        return _publish_attachments(extraction, staging, Path(attachments_dir).resolve())
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _extract_in_child(
    path: Path, kind: str, staging: Path | None, limits: Limits, ocr: bool, clauses: bool
) -> Extraction:
    """Run extract_here in a worker and rebuild its result; failures become statuses."""
    request = {
        "path": str(path),
        "kind": kind,
        "attachments_dir": str(staging) if staging else None,
        "limits": asdict(limits),
        "ocr": ocr,
        "clauses": clauses,
    }
    try:
        value, fresh = _call(EXTRACT_TARGET, [request], limits)
        extraction = from_plain(value)
        if (
            not fresh
            and extraction.status == Status.TOO_LARGE
            and MEMORY_FAILURE.search(extraction.detail)
        ):
            # A parser's MemoryError in a worker whose heap earlier files had grown. What the
            # first try left in staging is never published: only listed attachments are.
            extraction = from_plain(_call(EXTRACT_TARGET, [request], limits, fresh=True)[0])
        return extraction
    except ChildFailed as exc:
        return failure(exc.status, exc.detail)
    except ValueError as exc:
        return failure(Status.UNREADABLE, f"the parser returned a malformed result ({exc})")


def abort_extractions() -> None:
    """Kill the workers of extractions running now; each returns a failure at once."""
    shared_pool().abort_busy()


def run_isolated(target: str, args: list[Any], limits: Limits) -> Any:
    """Call target ("module:function") with JSON args in a sandboxed worker under limits.

    Returns the function's JSON value, or raises ChildFailed with the status for the way
    the worker ended (killed at the wall limit, by a signal, out of memory, ...).
    """
    return _call(target, args, limits)[0]


def _call(target: str, args: list[Any], limits: Limits, fresh: bool = False) -> tuple[Any, bool]:
    """Run in a pooled worker; a failure a used worker may have caused is tried in a fresh one."""
    try:
        return shared_pool().call(target, args, limits, fresh=fresh)
    except ChildFailed as exc:
        if not exc.retry:
            raise
        log.info("retrying in a fresh extraction worker after: %s", exc.detail)
    return shared_pool().call(target, args, limits, fresh=True)


def _staging_dir(attachments_dir: str | os.PathLike[str] | None) -> Path | None:
    """A fresh folder inside attachments_dir for the worker to write attachments into."""
    if attachments_dir is None:
        return None
    return Path(tempfile.mkdtemp(prefix=".extracting-", dir=attachments_dir)).resolve()


def _publish_attachments(extraction: Extraction, staging: Path, target: Path) -> Extraction:
    """Move the attachments the worker wrote from staging into target, under fresh names."""
    published = []
    for attachment in extraction.attachments:
        source = Path(attachment.path)
        # The worker names its files; still, accept only regular files it made in staging.
        if source.parent != staging or not source.is_file() or source.is_symlink():
            log.warning("ignoring an attachment outside the staging folder: %r", source)
            continue
        handle, destination = tempfile.mkstemp(prefix="attachment-", suffix=".bin", dir=target)
        os.close(handle)
        os.replace(source, destination)
        published.append(replace(attachment, path=destination))
    return replace(extraction, attachments=published)
