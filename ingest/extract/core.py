"""Extraction in the current process: pick the parser for a kind and turn failures into statuses.

Parsers are imported on first use, so a child that reads a PDF never pays for openpyxl.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ingest.clauses import segment

from .model import (
    Extraction,
    Job,
    Limits,
    Status,
    TooLarge,
    Unreadable,
    clean_line,
    failure,
    soft_deadline,
    to_plain,
)

# kind -> (module in this package, function taking a Job and returning an Extraction)
PARSERS: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "parse_pdf"),
    "docx": ("office", "parse_docx"),
    "odt": ("office", "parse_odt"),
    "xlsx": ("sheet", "parse_xlsx"),
    "eml": ("mail", "parse_eml"),
    "msg": ("outlook", "parse_msg"),
    "txt": ("plain", "parse_txt"),
    "md": ("plain", "parse_txt"),  # Markdown is read as the plain text it is
    "png": ("ocr", "parse_image"),
    "jpeg": ("ocr", "parse_image"),
    "tiff": ("ocr", "parse_image"),
}


def extract_here(
    path: str | os.PathLike[str],
    kind: str,
    *,
    attachments_dir: str | os.PathLike[str] | None = None,
    limits: Limits = Limits(),  # noqa: B008 - Limits is frozen, a shared default is safe
    ocr: bool = True,
) -> Extraction:
    """Extract the text of path, read as kind, in this process; never raises for bad content.

    Without resource limits of its own: the child process of `extract` is what bounds memory
    and time. Warnings of the parsers are silenced, as they describe the content, not our code;
    silencing them is process-wide, so do not call this from several threads at once.
    """
    parser = _parser(kind)
    if parser is None:
        return failure(Status.UNREADABLE, f"there is no text extraction for {kind!r} files")
    folder = Path(attachments_dir).resolve() if attachments_dir is not None else None
    with tempfile.TemporaryDirectory(prefix="dossier-extract-") as scratch:
        job = Job(
            Path(path).resolve(), kind, limits, folder, ocr, Path(scratch), soft_deadline(limits)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _run_parser(parser, job)


def extract_request(request: dict[str, Any]) -> dict[str, Any]:
    """The worker's entry point: run extract_here for a JSON request, return JSON-ready data.

    With "clauses" set, the text is also segmented into clauses here, under the sandbox's
    limits and beside other extractions; if that fails the caller segments it itself.
    """
    extraction = extract_here(
        request["path"],
        request["kind"],
        attachments_dir=request["attachments_dir"],
        limits=Limits(**request["limits"]),
        ocr=request["ocr"],
    )
    if request.get("clauses"):
        # On failure the caller segments: this is only the faster place for it.
        with contextlib.suppress(Exception, MemoryError):
            clauses = segment(extraction.text, markdown=request["kind"] == "md")
            extraction = replace(extraction, clauses=clauses)
    return to_plain(extraction)


def _parser(kind: str) -> Callable[[Job], Extraction] | None:
    """Import and return the parser function for a kind, or None for an unknown kind."""
    entry = PARSERS.get(kind)
    if entry is None:
        return None
    module = importlib.import_module(f".{entry[0]}", __package__)
    return getattr(module, entry[1])


def _run_parser(parser: Callable[[Job], Extraction], job: Job) -> Extraction:
    """Call the parser and map what it raises to a status with an English detail."""
    try:
        return parser(job)
    except Unreadable as exc:
        return failure(Status.UNREADABLE, str(exc))
    except TooLarge as exc:
        return failure(Status.TOO_LARGE, str(exc))
    except MemoryError:
        return failure(Status.TOO_LARGE, f"needs more than {job.limits.memory_mb} MB of memory")
    except RecursionError:
        return failure(Status.UNREADABLE, "the content is nested too deeply")
    except FileNotFoundError:
        return failure(Status.UNREADABLE, "the file does not exist")
    except Exception as exc:  # Any parser bug triggered by hostile input means "unreadable".
        return failure(Status.UNREADABLE, f"the {job.kind} parser failed: {describe(exc)}")


def describe(exc: BaseException) -> str:
    """Short, single-line text naming an exception and its message."""
    message = clean_line(exc, 160)
    name = type(exc).__name__
    return f"{name}: {message}" if message else name
