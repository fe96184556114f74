"""A corpus of hostile files, generated on the fly (never stored): bombs, cycles, lies about types,
oversized headers and poisoned file names, each with the outcomes that are acceptable for it.

An outcome is "refused" (the upload is turned away with a reason) or an extraction status of
the filed version. Used by the end-to-end tests (web upload and `dossier import`) and by the
load test script, which imports this module from the repository root.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass

from tests.ingest.test_detect import docx_entries, make_zip, patch_central
from tests.ingest.test_extract import (
    DOCX_CONTENT_TYPES,
    DOCX_RELS,
    W_NS,
    assemble_pdf,
    deflated_zeros,
    paged_pdf,
    pdf_stream,
    text_content,
    text_pdf,
)

REFUSED = "refused"
# A version that was filed but whose content could not be (fully) read.
DAMAGED = frozenset({"partial", "unreadable", "too_large", "timed_out"})
ANY_STATUS = DAMAGED | {"ok", "no_text_layer", "encrypted"}


@dataclass(frozen=True)
class Hostile:
    filename: str  # as the client sends it (may hold CR/LF, NUL, ../)
    data: bytes
    outcomes: frozenset[str]  # acceptable: REFUSED and/or extraction statuses
    disk_name: str = ""  # a name a file system accepts, for `dossier import`

    @property
    def on_disk(self) -> str:
        return self.disk_name or self.filename


def _catalog_pdf(objects: list[bytes]) -> bytes:
    return assemble_pdf(objects)


def flate_bomb_pdf() -> bytes:
    """One page whose content stream inflates to 2 GiB of zeros (the file is about 2 MB)."""
    return paged_pdf([pdf_stream(deflated_zeros(2 * 1024**3), b"/Filter /FlateDecode")])


def nested_filter_pdf() -> bytes:
    """A content stream deflated three times over, 256 MiB at the innermost level."""
    inner = deflated_zeros(256 * 1024**2)
    data = zlib.compress(zlib.compress(inner, 9), 9)
    filters = b"/Filter [/FlateDecode /FlateDecode /FlateDecode]"
    return paged_pdf([pdf_stream(data, filters)])


def huge_length_pdf() -> bytes:
    """A stream whose /Length claims nearly 1 GB."""
    page = b"<< /Length 999999999 >>\nstream\nBT /F1 12 Tf (x) Tj ET\nendstream"
    return paged_pdf([page])


def page_tree_cycle_pdf() -> bytes:
    """Pages whose kid is a Pages node whose kid is the first again."""
    return _catalog_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        ]
    )


def object_loop_pdf() -> bytes:
    """A /Length that refers to an object that refers back to the first (5 -> 6 -> 5)."""
    return _catalog_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Outlines 7 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            b"<< /Length 5 0 R >>\nstream\nBT (x) Tj ET\nendstream",
            b"6 0 R",
            b"5 0 R",
            # Outlines whose only item is its own next sibling.
            b"<< /Type /Outlines /First 8 0 R /Last 8 0 R /Count 1 >>",
            b"<< /Title (loop) /Parent 7 0 R /Next 8 0 R /Prev 8 0 R >>",
        ]
    )


def prev_loop_pdf() -> bytes:
    """Two cross-reference sections whose trailers name each other as /Prev."""
    body = text_pdf([["Artikel 1 Looptijd"]])
    first = body.index(b"xref\n")
    size = re.search(rb"/Size (\d+)", body).group(1)  # type: ignore[union-attr]
    head = body[: body.index(b"startxref")]
    head = head.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Prev 0000000000 >>")
    second = len(head)
    head = head.replace(b"/Prev 0000000000", b"/Prev %010d" % second)
    section = b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size %s /Root 1 0 R /Prev %d >>\n"
    return head + section % (size, first) + b"startxref\n%d\n%%%%EOF\n" % second


def xref_into_itself_pdf() -> bytes:
    """Cross-reference entries that point at the cross-reference table itself."""
    data = bytearray(text_pdf([["Artikel 1"]]))
    xref = data.index(b"xref\n")
    entries = data.index(b" 65535 f \n", xref) + len(b" 65535 f \n")
    for index in range(3):
        slot = entries + 20 * index
        data[slot : slot + 10] = b"%010d" % xref
    return bytes(data)


def truncated_pdf() -> bytes:
    data = text_pdf([["Artikel 1 Looptijd", "Vier jaar."], ["Artikel 2 Opzegging"]])
    return data[: len(data) // 2]


def ten_thousand_pages_pdf() -> bytes:
    """10,000 pages sharing one content stream: beyond the page limit."""
    count = 10_000
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        text_content("Artikel 1 Deze pagina heeft een echte tekstlaag."),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 3 0 R >>"
    )
    return assemble_pdf(objects + [page] * count)


def _docx(document_xml: str, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES)
        archive.writestr("_rels/.rels", DOCX_RELS)
        archive.writestr("word/document.xml", document_xml)
    return buffer.getvalue()


def million_paragraphs_docx() -> bytes:
    """A DOCX of a million numbered paragraphs: about 40 MB of XML, a few MB compressed."""
    paragraphs = "".join(f"<w:p><w:r><w:t>{n}</w:t></w:r></w:p>" for n in range(1_000_000))
    return _docx(f'<w:document xmlns:w="{W_NS}"><w:body>{paragraphs}</w:body></w:document>')


def zip_bomb_docx() -> bytes:
    return make_zip(docx_entries(("word/media/zeros.bin", bytes(50_000_000))))


def zip_bomb_xlsx() -> bytes:
    sheet = "<worksheet><sheetData>" + "<row/>" * 2_000_000 + "</sheetData></worksheet>"
    return make_zip(
        [
            ("[Content_Types].xml", '<?xml version="1.0"?><Types></Types>'),
            ("xl/workbook.xml", "<workbook/>"),
            ("xl/worksheets/sheet1.xml", sheet),
        ]
    )


def overlapping_docx() -> bytes:
    data = make_zip(docx_entries(("word/styles.xml", "<s/>")), zipfile.ZIP_STORED)
    return patch_central(data, "word/styles.xml", 42, "<I", 0)


def duplicate_entry_docx() -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_zip(docx_entries(("word/document.xml", "<again/>")))


def huge_header_eml() -> bytes:
    return b"From: a@example.org\r\nSubject: " + b"x" * 300_000 + b"\r\n\r\nbody\r\n"


def many_headers_eml() -> bytes:
    headers = b"".join(b"X-Filler-%d: y\r\n" % n for n in range(5_000))
    return b"From: a@example.org\r\nSubject: veel\r\n" + headers + b"\r\nbody\r\n"


def deep_mime_eml() -> bytes:
    depth = 200
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n' for n in range(depth)
    )
    tail = "".join(f"\r\n--b{n}--\r\n" for n in reversed(range(depth)))
    message = f"From: a@example.org\r\nSubject: diep\r\nMIME-Version: 1.0\r\n{head}"
    return f"{message}Content-Type: text/plain\r\n\r\nbinnenin\r\n{tail}".encode()


def html_posing_as_pdf() -> bytes:
    return b"<html><body><script>alert(1)</script>%PDF-1.4\n1 0 obj<<>>endobj\n</body></html>"


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
        b"<script>alert(document.cookie)</script></svg>"
    )


def plain(text: str) -> bytes:
    return text.encode()


@functools.cache
def generate() -> tuple[Hostile, ...]:
    """Every hostile file with the outcomes acceptable for it."""
    filed_text = frozenset({"ok"})
    return (
        Hostile("flate-bomb.pdf", flate_bomb_pdf(), DAMAGED),
        Hostile("nested-filters.pdf", nested_filter_pdf(), DAMAGED),
        Hostile("huge-length.pdf", huge_length_pdf(), ANY_STATUS),
        Hostile("page-tree-cycle.pdf", page_tree_cycle_pdf(), DAMAGED),
        Hostile("object-loop.pdf", object_loop_pdf(), ANY_STATUS),
        Hostile("prev-loop.pdf", prev_loop_pdf(), ANY_STATUS),
        Hostile("xref-into-itself.pdf", xref_into_itself_pdf(), ANY_STATUS),
        Hostile("truncated.pdf", truncated_pdf(), ANY_STATUS),
        Hostile("ten-thousand-pages.pdf", ten_thousand_pages_pdf(), frozenset({"partial"})),
        Hostile("million-paragraphs.docx", million_paragraphs_docx(), ANY_STATUS | {REFUSED}),
        Hostile("zip-bomb.docx", zip_bomb_docx(), frozenset({REFUSED})),
        Hostile("zip-bomb.xlsx", zip_bomb_xlsx(), frozenset({REFUSED})),
        Hostile("overlapping.docx", overlapping_docx(), frozenset({REFUSED})),
        Hostile("duplicate-entry.docx", duplicate_entry_docx(), frozenset({REFUSED})),
        Hostile("huge-header.eml", huge_header_eml(), frozenset({REFUSED})),
        Hostile("many-headers.eml", many_headers_eml(), frozenset({REFUSED})),
        Hostile("deep-mime.eml", deep_mime_eml(), frozenset({"ok", "partial"})),
        Hostile("html-posing.pdf", html_posing_as_pdf(), frozenset({REFUSED})),
        Hostile("logo.svg", svg(), frozenset({REFUSED})),
        Hostile("logo-svg.pdf", svg(), frozenset({REFUSED})),
        Hostile("empty.pdf", b"", frozenset({REFUSED})),
        Hostile(
            "brief\r\nX-Evil: 1.txt",
            plain("Artikel 1 Kop\r\nInjectie in de bestandsnaam.\n"),
            filed_text,
        ),
        Hostile("brief.txt\r\nX-Evil: 1", plain("extensie kapot\n"), frozenset({REFUSED})),
        Hostile(
            "../../etc/passwd.txt", plain("root:x:0:0\n"), filed_text, disk_name="etc..passwd.txt"
        ),
        Hostile("nul\x00byte.txt", plain("NUL in de naam\n"), filed_text, disk_name="nulbyte.txt"),
        Hostile("\u202etxt.exe", plain("right-to-left override\n"), frozenset({REFUSED})),
        Hostile("{{7*7}}<script>.txt", plain("Titel {{7*7}} en ${7*7}\n"), filed_text),
    )
