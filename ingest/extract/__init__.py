"""Text extraction for every accepted file type, run in a child process under resource limits.

`extract` is what the application calls: a hostile file can crash, hang or exhaust the child,
never the caller, and every outcome is an `Extraction` with a `Status`. `extract_here` does
the same work in the current process (the child uses it; so do parser tests).
"""

from __future__ import annotations

from .core import extract_here
from .model import Attachment, Extraction, Limits, Status
from .ocr import ocr_available
from .runner import abort_extractions, extract

__all__ = [
    "Attachment",
    "Extraction",
    "Limits",
    "Status",
    "abort_extractions",
    "extract",
    "extract_here",
    "ocr_available",
]
