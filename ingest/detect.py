"""Decide the type of an uploaded file from its name, libmagic and a cheap structural check.

A file is accepted only when all three agree: the extension is on the allowlist, libmagic's
MIME type is compatible with that extension, and the bytes have the structure of that type.
libmagic alone is not enough (it calls many real e-mails text/plain and many .docx files
application/octet-stream, and an HTML page with ``%PDF-`` near the top a PDF), so each kind
lists the libmagic types it tolerates and the structural check has the last word.
"""

from __future__ import annotations

import codecs
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import BinaryIO

import magic
import olefile

__all__ = ["ACCEPTED_EXTENSIONS", "FileType", "Refused", "check_zip", "detect"]

# Bytes handed to libmagic and to the cheap checks; enough for every rule we rely on.
HEAD_BYTES = 64 * 1024
# libmagic-independent PDF rule (the same one Acrobat applies): the header may be preceded
# by junk, but only within the first KiB.
PDF_HEADER_WINDOW = 1024
EML_HEADER_CAP = 256 * 1024
EML_MAX_HEADERS = 500
EML_MAX_HEADER_BYTES = 64 * 1024
JPEG_MAX_SEGMENTS = 1000

ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_ENTRY_SIZE = 512 * 1024 * 1024
ZIP_MAX_TOTAL_SIZE = 1024 * 1024 * 1024
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_SIZE = 1024 * 1024
# zipfile parses the whole central directory before we can count entries (300,000 empty
# entries: 26 MB, 2 s, 300 MB of memory), so its declared size is capped first.
ZIP_MAX_CENTRAL_DIRECTORY = 2 * 1024 * 1024
# Small parts we read to tell a .docx from a .docm; anything bigger is not a real one.
ZIP_MAX_SMALL_PART = 1024 * 1024

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZIP_LOCAL_HEADER = struct.Struct("<4s22xHH")
ZIP_END_RECORD = struct.Struct("<4s6xHIIH")

MAIL_HEADERS = frozenset(
    {"from", "to", "subject", "date", "message-id", "received", "mime-version"}
)
# A header name as mail software writes it; RFC 5322 allows more, but real mail does not use
# it, and a strict rule keeps "<html><body>javascript:" from passing as a header.
HEADER_LINE = re.compile(rb"[A-Za-z0-9][A-Za-z0-9_.-]*[ \t]*:")
# RFC 5322 obsolete syntax "Subject  : x" (whitespace before the colon), which the email
# package does not read as a header at all.
OBSOLETE_HEADER_LINE = re.compile(rb"^([A-Za-z0-9][A-Za-z0-9_.-]*)[ \t]+:", re.M)
# Markup that makes a browser treat bytes as HTML; before a %PDF- header it means a polyglot.
# The tags are those of the WHATWG MIME Sniffing Standard's HTML signature, plus svg and meta.
HTML_BEFORE_PDF = re.compile(
    rb"<!--|<\?xml|<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b"
    rb"|body|br|p|svg|meta)[\s>/]",
    re.I,
)
# Script markup inside an image; long enough that compressed data never matches by chance.
SCRIPT_IN_IMAGE = re.compile(rb"<script|<html|<iframe|<!doctype", re.I)
# Control characters that plain text has no business containing (tab, LF, FF, CR are fine).
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")

# What zipfile raises on a damaged archive (zlib.error: corrupt deflate data).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    ValueError,
    struct.error,
    UnicodeError,
    OverflowError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
)


@dataclass(frozen=True)
class FileType:
    """The accepted type of an upload: our kind, the Content-Type we serve and libmagic's view."""

    kind: str
    mime: str
    magic_mime: str


class Refused(Exception):
    """The file is not of an accepted type.

    ``reason`` (also ``str(exc)``) is the human-readable reason in English. ``code`` names the
    case in a stable, machine-readable way, so a caller can word the reason itself (in another
    language, say); ``params`` holds the values such wording needs. Codes and their params:

    - ``empty``: the file has no bytes; no params.
    - ``extension_missing``: the name has no extension; ``detected``, ``magic_mime``,
      ``accepted``.
    - ``extension_not_accepted``: the extension is not on the allowlist; ``extension``,
      ``detected``, ``magic_mime``, ``accepted``.
    - ``content_mismatch``: libmagic's type does not fit the extension; ``extension``,
      ``kind``, ``detected``, ``magic_mime``.
    - ``invalid_structure``: the bytes lack the structure of the extension's type;
      ``extension``, ``kind``, ``detected``, ``magic_mime``, ``detail``.
    - ``html_before_pdf``, ``macro_enabled``, ``utf16_text``, ``script_in_image``: particular
      structural failures, with the same params as ``invalid_structure``.
    - ``zip_refused``: an unsafe or unreadable ZIP archive; ``detail``, and from `detect` also
      the params of ``invalid_structure``.

    Wherever ``detected`` is given, ``detected_key`` and ``magic_mime`` are too.

    ``extension`` is the lower-cased extension with its dot, ``kind`` the accepted kind the
    extension stands for (``"pdf"``, ``"docx"``, ...), ``detected`` what the content looks
    like without an article, in English (``"ELF executable (application/x-executable)"``),
    ``detected_key`` the language-neutral key of that noun in `DETECTED_NOUNS`
    (``"signature:elf"``, ``"application/pdf"``; empty when the noun is libmagic's own English
    prose), ``magic_mime`` libmagic's MIME type, ``detail`` the
    structural finding in English, ``accepted`` the accepted extensions, comma separated. All
    values are printable ASCII, safe to put in a message.
    """

    reason: str
    code: str
    params: dict[str, str]

    def __init__(
        self, reason: str, code: str = "refused", params: dict[str, str] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.params = dict(params or {})


# The structural findings, in English; the keys are stable so a caller can word them itself.
# `Refused.params` carries the key as ``detail_code`` and each value as ``detail_<name>``.
DETAILS = {
    "pdf_no_header": "there is no %%PDF- header in the first %(bytes)s bytes",
    "pdf_html_before_header": "there is HTML or script markup before the %%PDF- header",
    "pdf_bad_version": "the %%PDF- header has no valid version number",
    "zip_unreadable": "it is not a readable ZIP archive (%(error)s)",
    "zip_declares_too_many": "it declares %(entries)s entries (at most %(limit)s are allowed)",
    "zip_directory_too_large": "its central directory takes %(size)s, far too much",
    "zip_too_many": "it has %(entries)s entries (at most %(limit)s are allowed)",
    "zip_duplicate_name": "the entry name %(name)s occurs more than once",
    "zip_name_outside": "the entry name %(name)s points outside the archive",
    "zip_entry_too_large": (
        "the entry %(name)s would expand to %(size)s (at most %(limit)s per entry)"
    ),
    "zip_ratio": (
        "the entry %(name)s expands from %(compressed)s bytes to %(size)s, "
        "more than %(ratio)s times; this looks like a ZIP bomb"
    ),
    "zip_total_too_large": "its entries would expand to %(size)s (at most %(limit)s)",
    "zip_overlap": "the entry %(name)s overlaps the data after it",
    "zip_past_end": "the entry %(name)s points past the end of the file",
    "zip_no_local_header": "the entry %(name)s has no valid local header",
    "zip_part_too_large": "the part %(name)s is implausibly large",
    "zip_part_unreadable": "the part %(name)s is unreadable (%(error)s)",
    "package_missing_part": "the package has no %(part)s part",
    "macros": (
        "it contains macros (a macro-enabled file renamed); macro-enabled documents "
        "are not accepted"
    ),
    "odt_no_mimetype": "the package has no mimetype entry",
    "odt_wrong_mimetype": "its mimetype entry does not say OpenDocument text",
    "eml_first_line": "the first line is not an e-mail header",
    "eml_header_not_ended": "its header block does not end within the first %(kib)s KiB",
    "eml_no_mail_headers": (
        "it has none of the headers From, To, Subject, Date, Message-ID, Received or MIME-Version"
    ),
    "eml_too_many_headers": "it has more than %(limit)s header lines",
    "eml_header_too_long": "a header is longer than %(kib)s KiB",
    "msg_no_signature": "it does not start with the OLE2 compound-file signature",
    "msg_unreadable": "its OLE2 structure is unreadable (%(error)s)",
    "msg_no_properties": "the compound file holds no Outlook message properties",
    "txt_utf16": "it is UTF-16 text; save it as UTF-8",
    "txt_nul": "it contains NUL bytes in the first %(kib)s KiB",
    "txt_control": "it contains the control character %(char)s",
    "txt_encoding": "it is neither UTF-8 nor Windows-1252 text",
    "png_no_signature": "it does not start with the PNG signature",
    "png_no_ihdr": "the PNG signature is not followed by an IHDR chunk",
    "jpeg_no_soi": "it does not start with a JPEG start-of-image marker",
    "jpeg_early_marker": "the JPEG has marker %(marker)s before any image data",
    "jpeg_too_many_segments": "the JPEG has more than %(limit)s segments before the image data",
    "jpeg_broken": "the JPEG segment structure is broken",
    "jpeg_truncated": "the JPEG ends before its image data",
    "jpeg_bad_length": "a JPEG segment has an impossible length",
    "tiff_no_header": "it does not start with a TIFF header",
    "tiff_truncated": "the TIFF header is truncated",
    "tiff_outside": "the TIFF header points outside the file",
    "image_script": "an image header is followed by HTML or script markup (%(markup)s)",
}


class _Invalid(Exception):
    """A structural check failed; the message completes "the content is not a ...: <message>".

    ``detail_code`` is a key of `DETAILS` and ``detail_params`` its values; ``code`` is the
    `Refused` code the failure becomes.
    """

    def __init__(self, detail_code: str, code: str = "invalid_structure", **params: object) -> None:
        self.detail_code = detail_code
        self.detail_params = {name: str(value) for name, value in params.items()}
        super().__init__(DETAILS[detail_code] % self.detail_params)
        self.code = code

    def refused_params(self) -> dict[str, str]:
        """The detail as `Refused` params: English text, its code and its values."""
        prefixed = {f"detail_{name}": value for name, value in self.detail_params.items()}
        return {"detail": str(self), "detail_code": self.detail_code, **prefixed}


def _zip_invalid(detail_code: str, **params: object) -> _Invalid:
    """A failure of the archive itself rather than of the document inside it."""
    return _Invalid(detail_code, "zip_refused", **params)


@dataclass(frozen=True)
class _Sample:
    """What the checks look at: the file, its size and its first bytes."""

    path: Path
    size: int
    head: bytes


@dataclass(frozen=True)
class _Kind:
    """One accepted type: how we name and serve it, and what libmagic may call it."""

    kind: str
    label: str
    mime: str
    extensions: tuple[str, ...]
    check: Callable[[_Sample], str | None]
    magic_types: frozenset[str]
    magic_prefixes: tuple[str, ...] = ()
    magic_refused: frozenset[str] = field(default_factory=frozenset)

    def tolerates(self, magic_mime: str) -> bool:
        """Whether libmagic's verdict is compatible with this kind."""
        if magic_mime in self.magic_refused:
            return False
        return magic_mime in self.magic_types or magic_mime.startswith(self.magic_prefixes)


# --- PDF ---------------------------------------------------------------------------------


def _check_pdf(sample: _Sample) -> None:
    """Require a %PDF-x.y header in the first KiB with no HTML before it.

    Truncated or damaged PDFs pass on purpose: extraction records them as unreadable.
    """
    window = sample.head[:PDF_HEADER_WINDOW]
    start = window.find(b"%PDF-")
    if start < 0:
        raise _Invalid("pdf_no_header", bytes=PDF_HEADER_WINDOW)
    if HTML_BEFORE_PDF.search(window[:start]):
        raise _Invalid("pdf_html_before_header", "html_before_pdf")
    if not re.match(rb"%PDF-[12]\.\d", window[start:]):
        raise _Invalid("pdf_bad_version")


# --- ZIP-based office formats ------------------------------------------------------------


def check_zip(path: str | os.PathLike[str]) -> None:
    """Refuse a ZIP archive whose central directory is unsafe to hand to any parser.

    Checks entry count, duplicate and path-escaping names, declared sizes, compression ratio
    and overlapping entries (the Python here predates the CVE-2024-0450 fix in zipfile).
    Declared sizes can lie, so whoever extracts must still cap what it actually reads.
    """
    try:
        with _open_checked_zip(Path(path)):
            pass
    except _Invalid as exc:
        raise Refused(
            f"The ZIP archive is refused: {exc}.", "zip_refused", exc.refused_params()
        ) from None


@contextmanager
def _open_checked_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """Open a ZIP archive after every central-directory check, raising _Invalid on failure."""
    with open(path, "rb") as file:
        _check_zip_directory_size(file)
        try:
            archive = zipfile.ZipFile(file)
        except _ZIP_ERRORS as exc:
            raise _zip_invalid("zip_unreadable", error=_exc_text(exc)) from None
        with archive:
            infos = archive.infolist()
            _check_zip_count_and_names(infos)
            _check_zip_sizes(infos)
            _check_zip_layout(infos, archive, file)
            yield archive


def _check_zip_directory_size(file: BinaryIO) -> None:
    """Refuse a central directory too big to parse, reading only the end-of-directory record.

    A missing record is left for zipfile to report. Zip64 archives put 0xFFFF/0xFFFFFFFF here
    only when they exceed 65,535 entries or 4 GiB, which the limits refuse anyway.
    """
    size = os.fstat(file.fileno()).st_size
    tail_size = min(size, ZIP_END_RECORD.size + 0xFFFF)
    file.seek(size - tail_size)
    tail = file.read(tail_size)
    # Same search order as zipfile: a record without comment at the very end, else the last one.
    start = len(tail) - ZIP_END_RECORD.size
    if not tail.startswith(b"PK\x05\x06", max(start, 0)):
        start = tail.rfind(b"PK\x05\x06")
    if start < 0 or len(tail) - start < ZIP_END_RECORD.size:
        return
    _, entries, directory_size, _, _ = ZIP_END_RECORD.unpack_from(tail, start)
    if entries > ZIP_MAX_ENTRIES:
        raise _zip_invalid("zip_declares_too_many", entries=entries, limit=ZIP_MAX_ENTRIES)
    if directory_size > ZIP_MAX_CENTRAL_DIRECTORY:
        raise _zip_invalid("zip_directory_too_large", size=_mib(directory_size))


def _check_zip_count_and_names(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse too many entries, duplicate names and names that escape the extraction folder."""
    if len(infos) > ZIP_MAX_ENTRIES:
        raise _zip_invalid("zip_too_many", entries=len(infos), limit=ZIP_MAX_ENTRIES)
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if name in seen:
            raise _zip_invalid("zip_duplicate_name", name=_show(name))
        seen.add(name)
        parts = re.split(r"[/\\]", name)
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
            raise _zip_invalid("zip_name_outside", name=_show(name))


def _check_zip_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse declared sizes and compression ratios that only a ZIP bomb has."""
    total = 0
    for info in infos:
        if info.file_size > ZIP_MAX_ENTRY_SIZE:
            raise _zip_invalid(
                "zip_entry_too_large",
                name=_show(info.filename),
                size=_mib(info.file_size),
                limit=_mib(ZIP_MAX_ENTRY_SIZE),
            )
        total += info.file_size
        if info.file_size > ZIP_RATIO_MIN_SIZE and (
            info.compress_size == 0 or info.file_size / info.compress_size > ZIP_MAX_RATIO
        ):
            raise _zip_invalid(
                "zip_ratio",
                name=_show(info.filename),
                compressed=info.compress_size,
                size=_mib(info.file_size),
                ratio=ZIP_MAX_RATIO,
            )
    if total > ZIP_MAX_TOTAL_SIZE:
        raise _zip_invalid("zip_total_too_large", size=_mib(total), limit=_mib(ZIP_MAX_TOTAL_SIZE))


def _check_zip_layout(
    infos: list[zipfile.ZipInfo], archive: zipfile.ZipFile, file: BinaryIO
) -> None:
    """Refuse entries whose data overlaps the next entry or the central directory.

    Overlapping entries let a small archive expand many times over ("quoted overlap" bombs).
    """
    ordered = sorted(infos, key=lambda info: info.header_offset)
    # start_dir is where zipfile found the central directory; fall back to the file end.
    limit = getattr(archive, "start_dir", None) or os.fstat(file.fileno()).st_size
    ends = [info.header_offset for info in ordered[1:]] + [limit]
    for info, next_start in zip(ordered, ends, strict=True):
        end = info.header_offset + _local_header_size(file, info) + info.compress_size
        if end > next_start:
            raise _zip_invalid("zip_overlap", name=_show(info.filename))


def _local_header_size(file: BinaryIO, info: zipfile.ZipInfo) -> int:
    """Return the length of an entry's local header, refusing a missing or short one."""
    file.seek(info.header_offset)
    raw = file.read(ZIP_LOCAL_HEADER.size)
    if len(raw) < ZIP_LOCAL_HEADER.size:
        raise _zip_invalid("zip_past_end", name=_show(info.filename))
    signature, name_length, extra_length = ZIP_LOCAL_HEADER.unpack(raw)
    if signature != b"PK\x03\x04":
        raise _zip_invalid("zip_no_local_header", name=_show(info.filename))
    return ZIP_LOCAL_HEADER.size + name_length + extra_length


def _read_small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """Read one small entry; ZipExtFile never returns more than the declared size."""
    info = archive.getinfo(name)
    if info.file_size > ZIP_MAX_SMALL_PART:
        raise _zip_invalid("zip_part_too_large", name=_show(name))
    try:
        with archive.open(info) as part:
            return part.read(ZIP_MAX_SMALL_PART)
    except _ZIP_ERRORS as exc:
        # RuntimeError: encrypted entry; NotImplementedError: unknown compression method.
        raise _zip_invalid("zip_part_unreadable", name=_show(name), error=_exc_text(exc)) from None


def _check_ooxml(sample: _Sample, main_part: str, vba_part: str) -> None:
    """Require an OOXML package with the given main part and without macros."""
    with _open_checked_zip(sample.path) as archive:
        names = set(archive.namelist())
        for required in ("[Content_Types].xml", main_part):
            if required not in names:
                raise _Invalid("package_missing_part", part=required)
        content_types = _read_small_part(archive, "[Content_Types].xml")
        has_vba = vba_part in names or any(n.lower().endswith("vbaproject.bin") for n in names)
        if has_vba or b"macroenabled" in content_types.lower():
            raise _Invalid("macros", "macro_enabled")


def _check_docx(sample: _Sample) -> None:
    """Require a Word package: word/document.xml, no macros."""
    _check_ooxml(sample, "word/document.xml", "word/vbaProject.bin")


def _check_xlsx(sample: _Sample) -> None:
    """Require an Excel package: xl/workbook.xml, no macros."""
    _check_ooxml(sample, "xl/workbook.xml", "xl/vbaProject.bin")


def _check_odt(sample: _Sample) -> None:
    """Require an ODF package whose mimetype entry says OpenDocument text."""
    expected = b"application/vnd.oasis.opendocument.text"
    with _open_checked_zip(sample.path) as archive:
        if "mimetype" not in archive.namelist():
            raise _Invalid("odt_no_mimetype")
        if _read_small_part(archive, "mimetype") != expected:
            raise _Invalid("odt_wrong_mimetype")


# --- e-mail --------------------------------------------------------------------------------


def _check_eml(sample: _Sample) -> None:
    """Require a header block that starts at the first line and has a usual mail header."""
    with open(sample.path, "rb") as file:
        data = file.read(EML_HEADER_CAP).removeprefix(codecs.BOM_UTF8)
    first_line = data.split(b"\n", 1)[0]
    if not (HEADER_LINE.match(first_line) or first_line.startswith(b"From ")):
        raise _Invalid("eml_first_line")
    block, ended = _header_block(data)
    # Sizes first: a giant header is the likelier reason a header block does not end in time.
    _check_header_sizes(block)
    if not ended and sample.size > len(data):
        raise _Invalid("eml_header_not_ended", kib=EML_HEADER_CAP // 1024)
    # headersonly parsing stores raw header values; nothing below triggers their slow parse.
    message = BytesHeaderParser(policy=default_policy).parsebytes(block)
    names = {name.lower() for name in message}
    names |= {m.group(1).decode("ascii").lower() for m in OBSOLETE_HEADER_LINE.finditer(block)}
    if not names & MAIL_HEADERS:
        raise _Invalid("eml_no_mail_headers")


def _header_block(data: bytes) -> tuple[bytes, bool]:
    """Split off the header block up to its blank line; say whether that blank line was found."""
    blank = re.search(rb"\r?\n\r?\n", data)
    if blank:
        return data[: blank.end()], True
    return data, False  # All header: either a message without body or one cut off by the cap.


def _check_header_sizes(block: bytes) -> None:
    """Cap header count and length before the email package sees them; it is slow on huge ones."""
    problem = _header_block_problem(block)
    if problem:
        raise _Invalid(problem[0], **problem[1])


def header_block_problem(block: bytes) -> str | None:
    """Why a raw e-mail header block is too big to hand to `email`, or None when it fits."""
    problem = _header_block_problem(block)
    return DETAILS[problem[0]] % problem[1] if problem else None


def _header_block_problem(block: bytes) -> tuple[str, dict[str, object]] | None:
    """`header_block_problem` as a `DETAILS` code and its values."""
    count = 0
    length = 0
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            length += len(line) + 1  # A folded continuation of the current header.
        else:
            count += 1
            length = len(line) + 1
        if count > EML_MAX_HEADERS:
            return "eml_too_many_headers", {"limit": EML_MAX_HEADERS}
        if length > EML_MAX_HEADER_BYTES:
            return "eml_header_too_long", {"kib": EML_MAX_HEADER_BYTES // 1024}
    return None


# --- Outlook .msg --------------------------------------------------------------------------


def _check_msg(sample: _Sample) -> None:
    """Require an OLE2 compound file that holds Outlook message property streams."""
    if not sample.head.startswith(OLE_SIGNATURE):
        raise _Invalid("msg_no_signature")
    try:
        with olefile.OleFileIO(str(sample.path)) as ole:
            streams = ["/".join(entry) for entry in ole.listdir(streams=True, storages=False)]
    except (OSError, ValueError, IndexError, struct.error) as exc:
        raise _Invalid("msg_unreadable", error=_exc_text(exc)) from None
    if "__properties_version1.0" not in streams or not any(
        s.startswith("__substg1.0_") for s in streams
    ):
        raise _Invalid("msg_no_properties")


# --- plain text ----------------------------------------------------------------------------


def _check_txt(sample: _Sample) -> str:
    """Require NUL-free UTF-8 or Windows-1252 text without control characters.

    Returns the Content-Type with the charset we found, so cp1252 text is not served as UTF-8.
    """
    return f"text/plain; charset={_text_charset(sample)}"


def _check_md(sample: _Sample) -> str:
    """Markdown is plain text with a convention for headings: the same check as text, served
    as text/markdown (RFC 7763) with the charset we found."""
    return f"text/markdown; charset={_text_charset(sample)}"


def _text_charset(sample: _Sample) -> str:
    """The charset of NUL-free UTF-8 or Windows-1252 text without control characters."""
    head = sample.head
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Invalid("txt_utf16", "utf16_text")
    if b"\x00" in head:
        raise _Invalid("txt_nul", kib=HEAD_BYTES // 1024)
    whole = sample.size <= len(head)
    for encoding, charset in (("utf-8-sig", "utf-8"), ("cp1252", "windows-1252")):
        try:
            # The head may end inside a UTF-8 sequence unless it is the whole file.
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=whole)
        except UnicodeDecodeError:
            continue
        control = TEXT_CONTROL.search(text)
        if control:
            raise _Invalid("txt_control", char=f"U+{ord(control.group()):04X}")
        return charset
    raise _Invalid("txt_encoding")


# --- images --------------------------------------------------------------------------------


def _refuse_script(sample: _Sample) -> None:
    """Refuse an image that carries HTML or script markup (a browser polyglot)."""
    found = SCRIPT_IN_IMAGE.search(sample.head)
    if found:
        shown = found.group().decode("ascii")
        raise _Invalid("image_script", "script_in_image", markup=shown)


def _check_png(sample: _Sample) -> None:
    """Require the PNG signature followed by an IHDR chunk."""
    if not sample.head.startswith(PNG_SIGNATURE):
        raise _Invalid("png_no_signature")
    if sample.head[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise _Invalid("png_no_ihdr")
    _refuse_script(sample)


def _check_jpeg(sample: _Sample) -> None:
    """Require SOI and a chain of well-formed JPEG segments up to start-of-scan."""
    if not sample.head.startswith(b"\xff\xd8\xff"):
        raise _Invalid("jpeg_no_soi")
    _refuse_script(sample)
    with open(sample.path, "rb") as file:
        file.seek(2)
        for _ in range(JPEG_MAX_SEGMENTS):
            marker = _next_jpeg_marker(file)
            if marker == 0xDA:  # Start of scan: the entropy-coded image data follows.
                return
            if marker == 0x01 or 0xD0 <= marker <= 0xD7:
                continue  # Standalone markers carry no length.
            if marker in (0xD8, 0xD9):
                raise _Invalid("jpeg_early_marker", marker=f"0x{marker:02X}")
            _skip_jpeg_segment(file, sample.size)
    raise _Invalid("jpeg_too_many_segments", limit=JPEG_MAX_SEGMENTS)


def _next_jpeg_marker(file: BinaryIO) -> int:
    """Read the next marker code, skipping fill bytes; refuse anything that is not a marker."""
    if file.read(1) != b"\xff":
        raise _Invalid("jpeg_broken")
    byte = file.read(1)
    while byte == b"\xff":
        byte = file.read(1)
    if byte in (b"", b"\x00"):
        raise _Invalid("jpeg_broken")
    return byte[0]


def _skip_jpeg_segment(file: BinaryIO, size: int) -> None:
    """Skip one length-prefixed segment, refusing a length that is impossible."""
    raw = file.read(2)
    if len(raw) < 2:
        raise _Invalid("jpeg_truncated")
    (length,) = struct.unpack(">H", raw)
    if length < 2 or file.tell() + length - 2 > size:
        raise _Invalid("jpeg_bad_length")
    file.seek(length - 2, os.SEEK_CUR)


def _check_tiff(sample: _Sample) -> None:
    """Require a TIFF byte-order header whose first IFD lies inside the file."""
    head = sample.head
    if head.startswith(b"II*\x00"):
        order = "<"
    elif head.startswith(b"MM\x00*"):
        order = ">"
    else:
        raise _Invalid("tiff_no_header")
    if len(head) < 8:
        raise _Invalid("tiff_truncated")
    (offset,) = struct.unpack(order + "I", head[4:8])
    if not 8 <= offset < sample.size:
        raise _Invalid("tiff_outside")


# --- the table of accepted kinds -----------------------------------------------------------

_ZIP_MAGIC = frozenset(
    {"application/zip", "application/x-zip-compressed", "application/octet-stream"}
)
_SCRIPT_MAGIC = frozenset(
    {
        "text/x-shellscript",
        "text/javascript",
        "application/javascript",
        "text/x-php",
        "text/x-perl",
        "text/x-python",
        "text/x-ruby",
        "text/x-tcl",
        "text/x-lua",
        "text/x-awk",
        "text/x-msdos-batch",
    }
)
# Text that libmagic mistakes for something else (HPGL: a text starting with "SP").
_TEXT_MAGIC = frozenset(
    {
        "application/octet-stream",
        "application/csv",
        "application/json",
        "application/vnd.hp-HPGL",
    }
)
# HTML, XML and scripts must not be filed as text even though they are text.
_TEXT_REFUSED = _SCRIPT_MAGIC | {"text/html", "text/xml", "text/rtf"}

_KINDS: tuple[_Kind, ...] = (
    _Kind(
        "pdf",
        "a PDF document",
        "application/pdf",
        (".pdf",),
        _check_pdf,
        # octet-stream: libmagic's verdict when junk precedes a valid header.
        frozenset({"application/pdf", "application/x-pdf", "application/octet-stream"}),
    ),
    _Kind(
        "docx",
        "a Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
        _check_docx,
        _ZIP_MAGIC | {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    ),
    _Kind(
        "xlsx",
        "an Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
        _check_xlsx,
        _ZIP_MAGIC | {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    ),
    _Kind(
        "odt",
        "an OpenDocument text",
        "application/vnd.oasis.opendocument.text",
        (".odt",),
        _check_odt,
        _ZIP_MAGIC | {"application/vnd.oasis.opendocument.text"},
    ),
    _Kind(
        "eml",
        "an e-mail message",
        "message/rfc822",
        (".eml",),
        _check_eml,
        # libmagic names mail by its body as often as by its headers; the header check decides.
        frozenset({"application/mbox", "application/octet-stream"}),
        magic_prefixes=("text/", "message/"),
    ),
    _Kind(
        "msg",
        "an Outlook message",
        "application/vnd.ms-outlook",
        (".msg",),
        _check_msg,
        frozenset(
            {
                "application/vnd.ms-outlook",
                "application/x-ole-storage",
                "application/CDFV2",
                "application/CDFV2-corrupt",
                "application/octet-stream",
            }
        ),
    ),
    _Kind(
        "txt",
        "a plain-text file",
        "text/plain; charset=utf-8",
        (".txt",),
        _check_txt,
        _TEXT_MAGIC,
        magic_prefixes=("text/",),
        magic_refused=_TEXT_REFUSED,
    ),
    _Kind(
        "md",
        "a Markdown text",
        "text/markdown; charset=utf-8",
        (".md",),
        _check_md,
        # libmagic says text/plain, text/markdown or text/x-markdown, or mistakes it as text.
        _TEXT_MAGIC,
        magic_prefixes=("text/",),
        magic_refused=_TEXT_REFUSED,
    ),
    _Kind("png", "a PNG image", "image/png", (".png",), _check_png, frozenset({"image/png"})),
    _Kind(
        "jpeg",
        "a JPEG image",
        "image/jpeg",
        (".jpg", ".jpeg"),
        _check_jpeg,
        frozenset({"image/jpeg", "image/pjpeg"}),
    ),
    _Kind(
        "tiff",
        "a TIFF image",
        "image/tiff",
        (".tif", ".tiff"),
        _check_tiff,
        frozenset({"image/tiff"}),
    ),
)

_BY_EXTENSION: dict[str, _Kind] = {ext: kind for kind in _KINDS for ext in kind.extensions}

ACCEPTED_EXTENSIONS: frozenset[str] = frozenset(_BY_EXTENSION)


# --- describing what libmagic saw ----------------------------------------------------------

_MIME_NOUNS = {
    "application/pdf": "a PDF document",
    "text/html": "an HTML document",
    "image/svg+xml": "an SVG image",
    "text/xml": "an XML document",
    "application/xml": "an XML document",
    "text/plain": "plain text",
    "text/rtf": "an RTF document",
    "text/x-shellscript": "a shell script",
    "text/javascript": "a JavaScript file",
    "application/javascript": "a JavaScript file",
    "application/x-executable": "an ELF executable",
    "application/x-pie-executable": "an ELF executable",
    "application/x-sharedlib": "an ELF shared library",
    "application/x-dosexec": "a Windows executable",
    "application/vnd.microsoft.portable-executable": "a Windows executable",
    "application/x-mach-binary": "a macOS executable",
    "application/zip": "a ZIP archive",
    "application/x-empty": "an empty file",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "a Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel workbook",
    "application/vnd.ms-word.document.macroEnabled.12": "a macro-enabled Word document",
    "application/vnd.oasis.opendocument.text": "an OpenDocument text",
    "application/msword": "a Word 97-2003 document",
    "application/vnd.ms-excel": "an Excel 97-2003 workbook",
    "application/vnd.ms-outlook": "an Outlook message",
    "application/CDFV2": "an OLE2 compound file",
    "application/x-ole-storage": "an OLE2 compound file",
    "message/rfc822": "an e-mail message",
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "image/tiff": "a TIFF image",
    "image/gif": "a GIF image",
    "image/webp": "a WebP image",
}

# Our own sniffing for the dangerous cases, so the reason is clear whatever libmagic says:
# (signature, key, noun).
_SIGNATURE_NOUNS = (
    (b"\x7fELF", "signature:elf", "an ELF executable"),
    (b"MZ", "signature:mz", "a Windows or DOS executable"),
    (b"#!", "signature:script", "a script"),
)
_UNRECOGNISED = ("unrecognised", "unrecognised binary data")


def _bare(noun: str) -> str:
    # Our own nouns start with "a " or "an " unless they are uncountable ("plain text").
    return noun.removeprefix("an ").removeprefix("a ")


# Every noun of our own by its language-neutral key (a MIME type, "signature:<name>" or
# "unrecognised"), without article: `Refused.params["detected_key"]` names one, so a caller
# can word what was detected in another language.
DETECTED_NOUNS: dict[str, str] = {
    **{mime: _bare(noun) for mime, noun in _MIME_NOUNS.items()},
    **{key: _bare(noun) for _sig, key, noun in _SIGNATURE_NOUNS},
    _UNRECOGNISED[0]: _UNRECOGNISED[1],
}


def _describe(head: bytes, magic_mime: str) -> tuple[str, str, str]:
    """Name what the content looks like, with and without an English article, and the key of
    the noun in `DETECTED_NOUNS` ("" when the noun is libmagic's own prose).

    E.g. ("an ELF executable (application/x-executable)", "ELF executable
    (application/x-executable)", "signature:elf"); the second form and the key are for
    callers that word the reason.
    """
    key, noun = next(((k, n) for sig, k, n in _SIGNATURE_NOUNS if head.startswith(sig)), ("", ""))
    if not noun and magic_mime in _MIME_NOUNS:
        key, noun = magic_mime, _MIME_NOUNS[magic_mime]
    if noun:
        bare = _bare(noun)
    else:
        # libmagic's prose may quote file content; keep only a short printable-ASCII clause.
        try:
            prose = _show(magic.from_buffer(head).split(",")[0], quote=False, limit=60)
        except magic.MagicException:
            prose = ""
        if prose in ("", "data"):
            key, noun = _UNRECOGNISED
        else:
            noun = prose
        bare = noun
    mime = _show(magic_mime, quote=False, limit=80)
    return f"{noun} ({mime})", f"{bare} ({mime})", key


def _show(text: str, *, quote: bool = True, limit: int = 40) -> str:
    """Make untrusted text safe to put in a message: printable ASCII only, bounded length."""
    cleaned = "".join(c if c.isascii() and c.isprintable() else "?" for c in text)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 3] + "..."
    return f'"{cleaned}"' if quote else cleaned


def _mib(size: int) -> str:
    """Format a byte count in MiB for a message."""
    return f"{size / (1024 * 1024):.0f} MiB"


def _exc_text(exc: BaseException) -> str:
    """Short, safe text for a parser's exception."""
    return _show(str(exc) or type(exc).__name__, quote=False, limit=80)


# --- the entry point -----------------------------------------------------------------------


def _magic_mime(head: bytes) -> str:
    """Ask libmagic for the MIME type; if it fails on odd input, let the structure decide."""
    try:
        return magic.from_buffer(head, mime=True)
    except magic.MagicException:
        return "application/octet-stream"


def _extension(filename: str) -> str:
    """Return the lowercased final extension of an untrusted file name, with its dot."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    _, dot, ext = base.rpartition(".")
    if not dot:
        return ""
    # str.lower() maps some non-ASCII letters to ASCII (the Kelvin sign to "k"); keep them
    # distinct so they can never match the allowlist.
    return "." + (ext.lower() if ext.isascii() else ext)


def _refuse_extension(ext: str, head: bytes, magic_mime: str) -> Refused:
    """Build the refusal for a name whose extension is not on the allowlist."""
    accepted = ", ".join(sorted(ACCEPTED_EXTENSIONS))
    detected, bare, key = _describe(head, magic_mime)
    params = {"detected": bare, "magic_mime": _show(magic_mime, quote=False, limit=80)}
    params["detected_key"] = key
    params["accepted"] = accepted
    if ext in ("", "."):
        start = "The file name has no extension"
        code = "extension_missing"
    else:
        params["extension"] = _show(ext, quote=False, limit=20)
        start = f"Files ending in {params['extension']} are not accepted"
        code = "extension_not_accepted"
    return Refused(
        f"{start}; the content is {detected}. Accepted types are {accepted}.", code, params
    )


def detect(path: str | os.PathLike[str], filename: str) -> FileType:
    """Return the type of the file at path uploaded as filename, or raise Refused."""
    file_path = Path(path)
    with open(file_path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        head = file.read(HEAD_BYTES)
    if size == 0 or not head:
        raise Refused("The file is empty.", "empty")
    magic_mime = _magic_mime(head)
    ext = _extension(filename)
    kind = _BY_EXTENSION.get(ext)
    if kind is None:
        raise _refuse_extension(ext, head, magic_mime)
    detected, bare, key = _describe(head, magic_mime)
    params = {
        "extension": ext,
        "kind": kind.kind,
        "detected": bare,
        "detected_key": key,
        "magic_mime": _show(magic_mime, quote=False, limit=80),
    }
    if not kind.tolerates(magic_mime):
        raise Refused(
            f"The file name says {ext} but the content is {detected}.", "content_mismatch", params
        )
    try:
        served = kind.check(_Sample(file_path, size, head))
    except _Invalid as exc:
        raise Refused(
            f"The file name says {ext} but the content is not {kind.label}: {exc}. "
            f"It was detected as {detected}.",
            exc.code,
            {**params, **exc.refused_params()},
        ) from None
    return FileType(kind.kind, served or kind.mime, magic_mime)
