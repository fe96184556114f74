"""Text of Word (.docx) documents with python-docx and of OpenDocument texts (.odt).

Both are ZIP containers: `check_zip` vets the central directory before any parser opens them.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Iterator

import docx
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from ..detect import Refused, check_zip
from . import xmltext
from .model import Draft, Extraction, Job, TooLarge, Unreadable
from .wordnumbering import WordNumbering

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
DC = "{http://purl.org/dc/elements/1.1/}"
META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"

WORD = xmltext.Vocabulary(
    paragraphs=frozenset({W + "p"}),
    marks={W + "tab": "\t", W + "ptab": "\t", W + "br": "\n", W + "cr": "\n"}
    | {W + "noBreakHyphen": "-"},
    cells=frozenset({W + "tc"}),
    rows=frozenset({W + "tr"}),
    # Properties hold tab stops (w:tab too); moveFrom repeats text that moveTo holds; the
    # Fallback of a text box repeats its Choice; deleted text is w:delText, never read.
    skipped=frozenset(
        {W + "pPr", W + "rPr", W + "tblPr", W + "trPr", W + "tcPr", W + "sectPr"}
        | {W + "moveFrom", MC + "Fallback"}
    ),
    texts=frozenset({W + "t"}),
)
OPEN_DOCUMENT = xmltext.Vocabulary(
    paragraphs=frozenset({TEXT + "p", TEXT + "h"}),
    marks={TEXT + "tab": "\t", TEXT + "line-break": "\n"},
    cells=frozenset({TABLE + "table-cell", TABLE + "covered-table-cell"}),
    rows=frozenset({TABLE + "table-row"}),
    # Tracked changes keep deleted text; annotations are comments; note citations are the
    # footnote numbers that would glue onto the preceding word.
    skipped=frozenset({TEXT + "tracked-changes", OFFICE + "annotation", TEXT + "note-citation"}),
    spaces=TEXT + "s",
    space_count=TEXT + "c",
)
WORD_EXTRA_PARTS = (CT.WML_HEADER, CT.WML_FOOTER, CT.WML_FOOTNOTES, CT.WML_ENDNOTES)
WORD_METADATA = {"title": "title", "author": "author", "subject": "subject", "keywords": "keywords"}
ODT_METADATA = {
    "title": DC + "title",
    "author": DC + "creator",
    "subject": DC + "subject",
    "keywords": META + "keyword",
}
# An XML part this large is not a real document; the memory limit would stop it later anyway.
MAX_XML_PART_BYTES = 256 * 1024 * 1024


def parse_docx(job: Job) -> Extraction:
    """Body (paragraphs and tables in order), then headers, footers, footnotes and endnotes."""
    check_container(job)
    document = _open_word(job)
    draft = Draft(job.limits)
    # The parts are walked as plain lxml trees: python-docx's own element classes make a
    # walk over a large body twenty times slower.
    parts = [document.part.blob, *_word_part_blobs(document)]
    numbering = WordNumbering(*_word_definitions(document))
    draft.add_page(_parts_text(parts, WORD, draft, "Word document", numbering.label))
    props = document.core_properties
    for key, attribute in WORD_METADATA.items():
        draft.set_metadata(key, getattr(props, attribute, ""))
    return draft.finish()


def _open_word(job: Job) -> docx.document.Document:
    """Open the package with python-docx, mapping its failures to Unreadable."""
    try:
        return docx.Document(str(job.path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise Unreadable(f"the Word document is unreadable ({exc})") from None
    except etree.XMLSyntaxError as exc:
        raise xmltext.syntax_failure(exc, "Word document") from None


def check_container(job: Job) -> None:
    """Refuse a ZIP container that is unsafe to open, with detect's reason."""
    try:
        check_zip(job.path)
    except Refused as exc:
        raise Unreadable(exc.reason) from None


def _word_part_blobs(document: docx.document.Document) -> Iterator[bytes]:
    """The XML of every header, footer, footnotes and endnotes part, in part-name order."""
    parts = [p for p in document.part.package.iter_parts() if p.content_type in WORD_EXTRA_PARTS]
    for part in sorted(parts, key=lambda p: str(p.partname)):
        yield part.blob


def _word_definitions(document: docx.document.Document) -> tuple[bytes | None, bytes | None]:
    """The XML of the numbering and styles parts (either may be missing)."""
    found: dict[str, bytes] = {}
    for part in document.part.package.iter_parts():
        if part.content_type in (CT.WML_NUMBERING, CT.WML_STYLES):
            found.setdefault(part.content_type, part.blob)
    return found.get(CT.WML_NUMBERING), found.get(CT.WML_STYLES)


def _parts_text(
    parts: Iterable[bytes],
    words: xmltext.Vocabulary,
    draft: Draft,
    label: str,
    numbers: Callable[[etree._Element], str] | None = None,
) -> str:
    """The text of several XML parts, one after another, within the draft's budget.

    `numbers` labels the paragraphs of the first part (the body) with their list numbers.
    """
    pieces = []
    room = draft.room
    for index, part in enumerate(parts):
        try:
            root = xmltext.parse(part)
        except etree.XMLSyntaxError as exc:
            raise xmltext.syntax_failure(exc, label) from None
        text, truncated = xmltext.element_text(root, words, room, numbers if index == 0 else None)
        pieces.append(text)
        room -= len(text)
        if truncated or room <= 0:
            draft.note("text truncated")
            break
    return "\n".join(pieces)


def parse_odt(job: Job) -> Extraction:
    """Body text of content.xml, then headers and footers of the master pages in styles.xml."""
    check_container(job)
    try:
        with zipfile.ZipFile(job.path) as archive:
            content = _read_part(archive, "content.xml")
            styles = _read_part(archive, "styles.xml", required=False)
            meta = _read_part(archive, "meta.xml", required=False)
    except zipfile.BadZipFile as exc:
        raise Unreadable(f"the OpenDocument text is unreadable ({exc})") from None
    draft = Draft(job.limits)
    parts = [part for part in (content, styles) if part]
    draft.add_page(_parts_text(parts, OPEN_DOCUMENT, draft, "OpenDocument text"))
    if meta:
        _odt_metadata(meta, draft)
    return draft.finish()


def _read_part(archive: zipfile.ZipFile, name: str, *, required: bool = True) -> bytes:
    """Read one member of the archive within MAX_XML_PART_BYTES; b"" if optional and absent."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        if required:
            raise Unreadable(f"the OpenDocument file has no {name}") from None
        return b""
    if info.file_size > MAX_XML_PART_BYTES:
        raise TooLarge(f"{name} would expand to {info.file_size // (1024 * 1024)} MB")
    with archive.open(info) as member:
        # Declared sizes can lie; read one byte past the cap to notice.
        data = member.read(MAX_XML_PART_BYTES + 1)
    if len(data) > MAX_XML_PART_BYTES:
        raise TooLarge(f"{name} expands to more than {MAX_XML_PART_BYTES // (1024 * 1024)} MB")
    return data


def _odt_metadata(meta: bytes, draft: Draft) -> None:
    """Copy title, author, subject and keywords from meta.xml, ignoring a damaged one."""
    try:
        root = xmltext.parse(meta)
    except etree.XMLSyntaxError:
        return
    for key, tag in ODT_METADATA.items():
        found = next(root.iter(tag), None)
        if found is not None and found.text:
            draft.set_metadata(key, re.sub(r"\s+", " ", found.text))
