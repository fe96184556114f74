"""Text and attachments of Outlook messages (.msg) with extract-msg."""

from __future__ import annotations

import datetime as dt
from typing import Any

import extract_msg

from . import htmltext
from .attachments import AttachmentSaver
from .mail import decode_text
from .model import Draft, Extraction, Job, Unreadable, clean_line

# (label in the text, metadata key, extract-msg attribute)
HEADERS = (
    ("From", "from", "sender"),
    ("To", "to", "to"),
    ("Cc", "cc", "cc"),
    ("Date", "date", "date"),
    ("Subject", "subject", "subject"),
)
HEADER_VALUE_MAX_CHARS = 2000


def parse_msg(job: Job) -> Extraction:
    """Key headers, then the plain body (or the HTML body as text); attachments saved apart."""
    try:
        message = extract_msg.openMsg(str(job.path), strict=False)
    except Exception as exc:  # extract-msg raises many types on damaged compound files.
        raise Unreadable(f"the Outlook message is unreadable ({clean_line(exc, 120)})") from None
    try:
        return _read(message, job)
    finally:
        message.close()


def _read(message: Any, job: Job) -> Extraction:
    """Build the extraction from an opened message."""
    draft = Draft(job.limits)
    saver = AttachmentSaver(job, draft)
    for number, attachment in enumerate(_attribute(message, "attachments") or [], 1):
        _save(attachment, number, saver)
    saver.finish()
    head = _header_text(message, draft)
    draft.add_page("\n\n".join(filter(None, [head, _body(message, draft.room)])))
    return draft.finish()


def _attribute(message: Any, name: str) -> Any:
    """An attribute of the message, or None when it is absent or fails to decode."""
    try:
        return getattr(message, name, None)
    except Exception:  # Properties decode lazily and can fail on damaged streams.
        return None


def _header_text(message: Any, draft: Draft) -> str:
    """The key headers as "Name: value" lines, also stored as metadata."""
    lines = []
    for label, key, attribute in HEADERS:
        value = _attribute(message, attribute)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        text = clean_line(value or "", HEADER_VALUE_MAX_CHARS)
        if text:
            lines.append(f"{label}: {text}")
            draft.set_metadata(key, text)
    return "\n".join(lines)


def _body(message: Any, room: int) -> str:
    """The plain body, else the HTML body as text."""
    body = _attribute(message, "body")
    if isinstance(body, str) and body.strip():
        return body
    html = _attribute(message, "htmlBody")
    if isinstance(html, bytes) and html:
        return htmltext.html_to_text(decode_text(html, None), room)
    return ""


def _save(attachment: Any, number: int, saver: AttachmentSaver) -> None:
    """Save one attachment: file data as is, an embedded message as a .msg file."""
    data = _attribute(attachment, "data")
    name = ""
    for attribute in ("longFilename", "shortFilename", "displayName"):
        name = name or _attribute(attachment, attribute) or ""
    if data is not None and hasattr(data, "exportBytes"):
        try:
            data = data.exportBytes()
        except Exception:  # A damaged embedded message is skipped, the rest is kept.
            data = None
        name = name or f"attachment-{number}.msg"
    if isinstance(data, bytes):
        saver.save(name or f"attachment-{number}.bin", data)
