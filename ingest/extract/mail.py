"""Text and attachments of e-mail messages (.eml) with the standard email package.

Header size and count are capped before the email package sees the message (it spends seconds
on a 300 KB subject), and the MIME walk is bounded in depth and part count.
"""

from __future__ import annotations

import mimetypes
import re
from email import policy
from email.message import Message
from email.parser import BytesParser

from ..detect import EML_HEADER_CAP, EML_MAX_HEADER_BYTES, EML_MAX_HEADERS, header_block_problem
from . import htmltext
from .attachments import AttachmentSaver
from .model import Draft, Extraction, Job, Unreadable, clean_line

MAX_DEPTH = 10
MAX_PARTS = 200
HEADER_LINES = (
    ("From", "from"),
    ("To", "to"),
    ("Cc", "cc"),
    ("Date", "date"),
    ("Subject", "subject"),
)
HEADER_VALUE_MAX_CHARS = 2000
# Report and signature parts carry no content a reader searches for.
IGNORED_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/disposition-notification",
        "text/rfc822-headers",
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
    }
)
BODY_TYPES = frozenset({"text/plain", "text/html"})
ASCII_NAMES = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968"})
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def parse_eml(job: Job) -> Extraction:
    """Key headers, then the plain body (or the HTML body as text); attachments saved apart."""
    raw = job.path.read_bytes()
    check_header_block(raw)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    draft = Draft(job.limits)
    walk = MimeWalk(job, draft)
    walk.visit(message, 0, wants_body=True)
    walk.saver.finish()
    head = header_text(message, draft)
    draft.add_page("\n\n".join(filter(None, [head, *walk.bodies])))
    return draft.finish()


def check_header_block(raw: bytes) -> None:
    """Refuse a message whose header block is too long or has too many or too long headers."""
    end = _HEADER_END.search(raw, 0, EML_HEADER_CAP)
    block = raw[: end.start()] if end else raw[:EML_HEADER_CAP]
    if end is None and len(raw) > EML_HEADER_CAP:
        raise Unreadable(f"the message headers exceed {EML_HEADER_CAP // 1024} KiB")
    problem = header_block_problem(block)
    if problem:
        raise Unreadable(f"the message headers are too big: {problem}")


def headers_fit(part: Message) -> bool:
    """Whether a MIME part's raw headers are within the caps, checked before any is parsed."""
    for count, (_, value) in enumerate(part.raw_items(), 1):
        if count > EML_MAX_HEADERS or len(value) > EML_MAX_HEADER_BYTES:
            return False
    return True


class MimeWalk:
    """Visits MIME parts depth-first, collecting body texts and saving attachments."""

    def __init__(self, job: Job, draft: Draft) -> None:
        self.job = job
        self.draft = draft
        self.saver = AttachmentSaver(job, draft)
        self.bodies: list[str] = []
        self.parts = 0

    def visit(self, part: Message, depth: int, *, wants_body: bool) -> None:
        """Handle one part: recurse into multiparts, keep body text, save attachments."""
        if not self._admit(part, depth):
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self._save_message(part)
        elif part.is_multipart():
            children = list(part.iter_parts())
            chosen = preferred_alternative(children) if ctype == "multipart/alternative" else None
            for child in children:
                wanted = wants_body and (chosen is None or child is chosen)
                self.visit(child, depth + 1, wants_body=wanted)
        elif ctype in IGNORED_TYPES:
            return
        elif ctype.startswith("multipart/"):
            # A multipart whose boundary is missing: its payload is all there is to read.
            if wants_body:
                self._add_body(part, "text/plain")
        elif is_attachment(part, ctype):
            self._save_leaf(part, ctype)
        elif wants_body:
            self._add_body(part, ctype)

    def _admit(self, part: Message, depth: int) -> bool:
        """Count the part and check depth, header size and time; note what is skipped."""
        self.parts += 1
        if self.parts > MAX_PARTS:
            self.draft.note(f"only the first {MAX_PARTS} MIME parts were read")
        elif depth > MAX_DEPTH:
            self.draft.note(f"MIME parts nested deeper than {MAX_DEPTH} levels were skipped")
        elif not headers_fit(part):
            self.draft.note("MIME parts with oversized headers were skipped")
        elif self.job.time_left() <= 0:
            self.draft.note("stopped at the time limit")
        else:
            return True
        return False

    def _add_body(self, part: Message, ctype: str) -> None:
        """Decode a text body part; HTML becomes plain text, never markup."""
        text = decode_text(part.get_payload(decode=True) or b"", part.get_content_charset())
        if ctype == "text/html":
            text = htmltext.html_to_text(text, self.draft.room)
        self.bodies.append(text)

    def _save_leaf(self, part: Message, ctype: str) -> None:
        """Save a non-body leaf part as an attachment, if its estimated size is allowed."""
        raw = part.get_payload()
        if isinstance(raw, str) and not self.saver.fits(len(raw) * 3 // 4):
            return  # Skipped before decoding: base64 text is 4/3 of the data it carries.
        data = part.get_payload(decode=True) or b""
        self.saver.save(attachment_name(part, ctype, len(self.draft.attachments) + 1), data)

    def _save_message(self, part: Message) -> None:
        """Save an attached (forwarded) message as an .eml file of its own."""
        inner = part.get_payload(0) if part.is_multipart() else None
        if not isinstance(inner, Message):
            return
        data = serialise(inner)
        if data is None:
            self.saver.failed += 1
            return
        name = attachment_name(part, "message/rfc822", len(self.draft.attachments) + 1)
        self.saver.save(name, data)


def serialise(message: Message) -> bytes | None:
    """The bytes of a parsed message, or None when even the lenient policy cannot write it."""
    for writer_policy in (policy.default, policy.compat32):
        try:
            return message.as_bytes(policy=writer_policy)
        except Exception:  # Re-serialising a damaged message can fail in many ways.
            continue
    return None


def preferred_alternative(children: list[Message]) -> Message | None:
    """The alternative to read: plain text, else a nested multipart, else HTML, else the last."""
    for wanted in ("text/plain", "multipart/", "text/html"):
        for child in children:
            if child.get_content_type().startswith(wanted):
                return child
    return children[-1] if children else None


def is_attachment(part: Message, ctype: str) -> bool:
    """Whether a leaf part is an attachment rather than a body text."""
    if part.get_content_disposition() == "attachment" or safe_filename(part):
        return True
    return ctype not in BODY_TYPES


def safe_filename(part: Message) -> str:
    """The part's file name as the message gives it, or "" if absent or undecodable."""
    try:
        return part.get_filename() or ""
    except Exception:  # Damaged RFC 2231 parameters raise deep inside the email package.
        return ""


def attachment_name(part: Message, ctype: str, number: int) -> str:
    """The attachment's own name, else a made-up one with an extension for its type."""
    name = safe_filename(part)
    if name:
        return name
    extension = ".eml" if ctype == "message/rfc822" else mimetypes.guess_extension(ctype)
    return f"attachment-{number}{extension or '.bin'}"


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode body bytes: the declared charset, else UTF-8, else Windows-1252, else lossy."""
    declared = (charset or "").strip().lower()
    candidates = [declared] if declared and declared not in ASCII_NAMES else []
    for encoding in [*candidates, "utf-8", "cp1252"]:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def header_text(message: Message, draft: Draft) -> str:
    """The key headers as "Name: value" lines, also stored as metadata."""
    lines = []
    for label, key in HEADER_LINES:
        value = header_value(message, key)
        if value:
            lines.append(f"{label}: {value}")
            draft.set_metadata(key, value)
    iso_date = parsed_date(message)
    if iso_date:
        draft.set_metadata("date", iso_date)
    message_id = header_value(message, "message-id")
    if message_id:
        draft.set_metadata("message_id", message_id)
    return "\n".join(lines)


def parsed_date(message: Message) -> str:
    """The Date header in ISO 8601 form, or "" when it is missing or unparseable."""
    try:
        moment = getattr(message.get("date"), "datetime", None)
    except Exception:  # The date parser raises on some malformed values.
        return ""
    return moment.isoformat() if moment is not None else ""


def header_value(message: Message, name: str) -> str:
    """All values of a header, decoded and joined; the raw text if decoding fails."""
    try:
        values = [str(value) for value in message.get_all(name) or []]
    except Exception:  # A malformed header can raise while the registry parses it.
        values = [value for key, value in message.raw_items() if key.lower() == name]
    return clean_line(", ".join(values), HEADER_VALUE_MAX_CHARS)
