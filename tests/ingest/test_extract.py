"""Tests for ingest.extract: real corpus files give text, hostile files end with a status.

Hostile files are generated here (bombs, huge paragraph counts, crashing and looping children);
real documents come from the shared corpus. Tests that need tesseract or pdftoppm skip when
they are missing, except under CI, where they fail.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import struct
import subprocess
import time
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path

import pypdf
import pytest
from extract_msg.ole_writer import OleWriter

from ingest.clauses import segment
from ingest.extract import (
    Attachment,
    Extraction,
    Limits,
    Status,
    extract,
    extract_here,
    ocr_available,
)
from ingest.extract.pdf import PYPDF_LIMITS
from ingest.extract.runner import ChildFailed, run_isolated

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
IN_CI = os.environ.get("CI") == "true"
VNG = "dutch/vng-softwarecatalogus-aanbesteding"
CUAD_SAMPLES = (
    "ADUROBIOTECH,INC_06_02_2020-EX-10.7-CONSULTING AGREEMENT.PDF",
    "SteelVaultCorp_20081224_10-K_EX-10.16_3074935_EX-10.16_Affiliate Agreement.pdf",
    "CardlyticsInc_20180112_S-1_EX-10.16_11002987_EX-10.16_Maintenance Agreement1.pdf",
)
GIBIT = "Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx"
# Small limits for hostile input, so a test that goes wrong fails fast instead of hanging.
HOSTILE = Limits(wall_seconds=20, cpu_seconds=15, memory_bytes=512 * 1024 * 1024)
BAD_OUTCOMES = {Status.TOO_LARGE, Status.PARTIAL, Status.UNREADABLE, Status.TIMED_OUT}
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


# --- helpers: skipping -------------------------------------------------------------------


def missing(reason: str) -> None:
    """Skip a test whose real part is missing; under CI a missing part is a failure."""
    if IN_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def corpus_folder(relative: str) -> Path:
    """Return a corpus folder, skipping (or failing on CI) when the shared corpus is absent."""
    folder = CORPUS / relative
    if not folder.is_dir():
        missing(f"the shared corpus folder {folder} is missing")
    return folder


def need_ocr() -> None:
    """Skip (fail on CI) unless tesseract with nld+eng and pdftoppm are installed."""
    if not ocr_available():
        missing("tesseract with the nld and eng languages is not installed")
    if shutil.which("pdftoppm") is None:
        missing("pdftoppm (poppler-utils) is not installed")


def hide_ocr_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Make tesseract and pdftoppm unfindable here and in child processes."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# --- helpers: generated PDFs ---------------------------------------------------------------


def pdf_stream(data: bytes, entries: bytes = b"") -> bytes:
    """A PDF stream object body with its /Length."""
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), entries, data)


def assemble_pdf(objects: list[bytes], info: bytes | None = None) -> bytes:
    """A PDF file with a correct xref table; object 1 must be the catalog."""
    if info is not None:
        objects = [*objects, info]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info_ref = b" /Info %d 0 R" % len(objects) if info is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (len(objects) + 1, info_ref)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def paged_pdf(
    contents: list[bytes], image: bytes | None = None, info: bytes | None = None
) -> bytes:
    """A PDF with one page per content stream (objects: catalog, pages, font, image?, pages)."""
    first_page = 5 if image is not None else 4
    kids = b" ".join(b"%d 0 R" % (first_page + 2 * i) for i in range(len(contents)))
    resources = b"/Font << /F1 3 0 R >>" + (b" /XObject << /Im1 4 0 R >>" if image else b"")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(contents)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if image is not None:
        objects.append(image)
    for index, content in enumerate(contents):
        content_ref = first_page + 2 * index + 1
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << %s >> "
            b"/Contents %d 0 R >>" % (resources, content_ref)
        )
        objects.append(content)
    return assemble_pdf(objects, info)


def pdf_string(text: str) -> bytes:
    """A PDF literal string for Latin-1 text."""
    escaped = text.encode("latin-1").replace(b"\\", b"\\\\")
    return b"(" + escaped.replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def text_content(*lines: str, size: int = 28) -> bytes:
    """A content stream that writes lines of Helvetica text down the page."""
    shown = b" ".join(b"%s Tj 0 -%d Td" % (pdf_string(line), size * 2) for line in lines)
    return pdf_stream(b"BT /F1 %d Tf 72 700 Td %s ET" % (size, shown))


def text_pdf(pages: list[list[str]], info: bytes | None = None) -> bytes:
    """A PDF with a real text layer: one list of lines per page."""
    return paged_pdf([text_content(*lines) for lines in pages], info=info)


def image_pdf(image: bytes, pages: int = 1) -> bytes:
    """A PDF whose pages only paint an image XObject: what a scanner makes."""
    paint = pdf_stream(b"q 612 0 0 792 0 0 cm /Im1 Do Q")
    return paged_pdf([paint] * pages, image=image)


def striped_image() -> bytes:
    """A grey image XObject with horizontal stripes and no text at all."""
    width, height = 200, 200
    rows = b"".join((b"\x00" if (y // 10) % 2 else b"\xff") * width for y in range(height))
    return pdf_stream(
        zlib.compress(rows),
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode" % (width, height),
    )


def scanned_text_pdf(tmp_path: Path, lines: list[str]) -> bytes:
    """A text-less PDF showing lines as a JPEG: a text PDF rendered by pdftoppm, re-embedded."""
    source = tmp_path / "source.pdf"
    source.write_bytes(text_pdf([lines]))
    width, height = 1275, 1650  # US Letter at 150 dpi
    size = ["-scale-to-x", str(width), "-scale-to-y", str(height)]
    prefix = tmp_path / "scan"
    command = ["pdftoppm", "-jpeg", "-singlefile", *size, str(source), str(prefix)]
    subprocess.run(command, check=True, timeout=60)
    jpeg = prefix.with_suffix(".jpg").read_bytes()
    return image_pdf(
        pdf_stream(
            jpeg,
            b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Filter /DCTDecode" % (width, height),
        )
    )


def deflated_zeros(total: int, chunk: int = 16 * 1024 * 1024) -> bytes:
    """A zlib stream of total zero bytes, built in a second however large total is.

    After a full flush deflate forgets its history, so compressing the same chunk again gives
    the same bytes; the stream is those bytes repeated, with the Adler-32 of total zeros
    (A stays 1, B grows by one per byte).
    """
    assert total % chunk == 0
    compressor = zlib.compressobj(9)
    head = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()[:-4]
    checksum = ((total % 65521) << 16) | 1
    return head + body * (total // chunk - 1) + tail + checksum.to_bytes(4, "big")


# --- helpers: generated office files and messages ------------------------------------------

DOCX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def write_docx(path: Path, body: str, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A minimal .docx whose body is the given WordprocessingML."""
    document = f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", DOCX_CONTENT_TYPES)
        archive.writestr("_rels/.rels", DOCX_RELS)
        archive.writestr("word/document.xml", document)
    return path


ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)
ODT_CONTENT = (
    f"<office:document-content {ODF_NAMESPACES}><office:body><office:text>"
    "<text:tracked-changes><text:changed-region><text:deletion><text:p>geschrapt"
    "</text:p></text:deletion></text:changed-region></text:tracked-changes>"
    "<text:h>Huurovereenkomst</text:h>"
    "<text:p>De huurder<text:s text:c='3'/>betaalt <text:span>maandelijks</text:span>"
    "<text:tab/>vooruit.</text:p>"
    "<table:table><table:table-row><table:table-cell><text:p>Huurprijs</text:p>"
    "</table:table-cell><table:table-cell><text:p>1.250 euro</text:p></table:table-cell>"
    "</table:table-row></table:table>"
    "</office:text></office:body></office:document-content>"
)
ODT_STYLES = (
    f"<office:document-styles {ODF_NAMESPACES}><office:master-styles><style:master-page>"
    "<style:header><text:p>Kopregel Gemeente</text:p></style:header>"
    "</style:master-page></office:master-styles></office:document-styles>"
)
ODT_META = (
    f"<office:document-meta {ODF_NAMESPACES}><office:meta><dc:title>Huur 2024</dc:title>"
    "<dc:creator>Gemeente</dc:creator></office:meta></office:document-meta>"
)


def write_odt(path: Path) -> Path:
    """An .odt with a heading, spaces, a table, a tracked deletion, a header and metadata."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", ODT_CONTENT)
        archive.writestr("styles.xml", ODT_STYLES)
        archive.writestr("meta.xml", ODT_META)
    return path


def utf16(text: str) -> bytes:
    """A string property as MSG files store it."""
    return text.encode("utf-16-le")


def msg_properties(header: bytes, entries: list[tuple[int, int]]) -> bytes:
    """A __properties_version1.0 stream: the header, then 16-byte fixed-size entries."""
    return header + b"".join(struct.pack("<IIQ", tag, 6, value) for tag, value in entries)


def write_msg(path: Path) -> Path:
    """A minimal Outlook message with a subject, headers, a body and one attachment."""
    submitted = (1717401600 + 11644473600) * 10_000_000  # 2024-06-03 08:00 UTC as FILETIME
    header = struct.pack("<8xIIII8x", 1, 1, 0, 1)  # next recipient/attachment id, counts
    writer = OleWriter()
    writer.addEntry("__properties_version1.0", msg_properties(header, [(0x00390040, submitted)]))
    writer.addEntry("__nameid_version1.0", storage=True)
    for stream in ("00020102", "00030102", "00040102"):
        writer.addEntry(f"__nameid_version1.0/__substg1.0_{stream}", b"")
    writer.addEntry("__substg1.0_001A001F", utf16("IPM.Note"))
    writer.addEntry("__substg1.0_0037001F", utf16("Huurovereenkomst kantoor"))
    writer.addEntry("__substg1.0_1000001F", utf16("Beste Jan,\r\nHierbij de huurovereenkomst.\r\n"))
    headers = "From: Piet <piet@example.nl>\r\nTo: Jan <jan@example.nl>\r\n\r\n"
    writer.addEntry("__substg1.0_007D001F", utf16(headers))
    add_msg_attachment(writer, "../contract.pdf", b"%PDF-1.4 attachment")
    writer.write(str(path))
    return path


def add_msg_attachment(writer: OleWriter, name: str, data: bytes) -> None:
    """Add attachment #0, stored by value (PR_ATTACH_METHOD 1), to an MSG being written."""
    storage = "__attach_version1.0_#00000000"
    writer.addEntry(storage, storage=True)
    method = msg_properties(bytes(8), [(0x37050003, 1)])
    writer.addEntry(f"{storage}/__properties_version1.0", method)
    writer.addEntry(f"{storage}/__substg1.0_3707001F", utf16(name))
    writer.addEntry(f"{storage}/__substg1.0_37010102", data)


def mail_bytes(message: EmailMessage) -> bytes:
    """A message as the bytes of an .eml file."""
    message["From"] = "Piet <piet@example.nl>"
    message["To"] = "Jan <jan@example.nl>"
    message["Subject"] = "Contract"
    message["Date"] = "Mon, 03 Jun 2024 10:00:00 +0200"
    return bytes(message)


def assert_inside(attachment: Attachment, folder: Path) -> None:
    """The attachment's file lies directly in folder, under a generated name, at its size."""
    path = Path(attachment.path)
    assert path.parent == folder.resolve()
    assert re.fullmatch(r"attachment-\w+\.bin", path.name)
    assert path.stat().st_size == attachment.size


# --- real documents ------------------------------------------------------------------------


def test_cuad_pdfs_give_text_per_page() -> None:
    folder = corpus_folder("cuad-dev")
    for name in CUAD_SAMPLES:
        pdf = folder / "pdf" / name
        result = extract(pdf, "pdf")
        assert result.status == Status.OK, (pdf.name, result.detail)
        assert result.page_count is not None and result.page_count > 1
        assert len(result.pages) == result.page_count
        assert sum(bool(page.strip()) for page in result.pages) >= result.page_count - 1
        assert result.text.count("\f") == result.page_count - 1
        # The corpus has the contract's text as CUAD extracted it: most words must be ours.
        reference = (folder / "txt" / f"{pdf.stem}.txt").read_text(encoding="utf-8")
        words = set(re.findall(r"[A-Za-z]{6,}", reference))
        found = set(re.findall(r"[A-Za-z]{6,}", result.text))
        assert len(words & found) >= 0.8 * len(words), pdf.name


def test_dutch_contract_docx_gives_its_words() -> None:
    document = corpus_folder(VNG) / GIBIT
    result = extract(document, "docx")
    assert result.status == Status.OK
    assert result.page_count is None and len(result.pages) == 1
    text = result.text.lower()
    for word in ("overeenkomst", "opdrachtgever", "leverancier", "verwerkersovereenkomst"):
        assert word in text
    assert "GIBIT 2023" in result.metadata["title"]


def test_word_list_numbers_become_article_numbers() -> None:
    # GIBIT numbers its articles through list styles: the XML holds no "Artikel 4." at all.
    text = extract(corpus_folder(VNG) / GIBIT, "docx").text
    assert "Artikel 1. Voorwerp van de Overeenkomst\n1.1. Leverancier verplicht zich" in text
    assert "\nArtikel 4. Looptijd\n4.1. De Overeenkomst treedt in werking" in text
    clauses = segment(text)
    numbers = [clause.number for clause in clauses]
    assert numbers[1:4] == ["1", "1.2", "1.3"]  # article 1's bare heading holds 1.1
    assert "1.1. Leverancier verplicht zich" in clauses[1].text
    assert "4.5" in numbers and "12" in numbers


def test_processor_agreement_docx_mentions_liability() -> None:
    document = corpus_folder(VNG) / "Bijlage 7 - Standaard-Verwerkersovereenkomst-v-2.51.docx"
    result = extract_here(document, "docx")
    assert result.status == Status.OK
    assert "aansprakelijkheid" in result.text.lower()


def test_docx_tables_are_tab_separated_rows() -> None:
    document = corpus_folder("docx") / "features_steps_test_files_tbl-having-applied-style.docx"
    result = extract_here(document, "docx")
    assert result.status == Status.OK
    assert "foo to you\tand a hearty foo to you too sir!" in result.text.splitlines()


def test_docx_headers_and_footers_of_all_sections() -> None:
    folder = corpus_folder("docx")
    first = extract_here(folder / "features_steps_test_files_hdr-header-footer.docx", "docx")
    assert "Header for section-1" in first.text
    assert "Footer for section 1" in first.text
    second = extract_here(folder / "features_steps_test_files_sct-first-page-hdrftr.docx", "docx")
    assert "First Page Header (section 2)" in second.text
    assert "Default (odd, primary) Header" in second.text


def test_docx_footnotes_are_read() -> None:
    result = extract_here(corpus_folder("docx") / "footnotes.docx", "docx")
    assert "A tachyon walks into a bar." in result.text


def test_vng_xlsx_gives_sheets_and_cells() -> None:
    workbook = corpus_folder(VNG) / "Bijlage 6 - Prijzenblad SWC.xlsx"
    result = extract(workbook, "xlsx")
    assert result.status == Status.OK
    assert [page.splitlines()[0] for page in result.pages] == [
        "[Toelichting]",
        "[Prijzenblad]",
    ]
    assert "Opdrachtgever\tVNG Realisatie" in result.pages[1].splitlines()


def test_every_vng_file_is_read() -> None:
    folder = corpus_folder(VNG)
    kinds = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}
    for path in sorted(folder.iterdir()):
        result = extract(path, kinds[path.suffix])
        if result.status == Status.OCR_UNAVAILABLE and not IN_CI:
            continue  # A poster PDF without text layer; OCR is tested elsewhere.
        assert result.status == Status.OK, (path.name, result.detail)
        assert len(result.text) > 100, path.name


# --- damaged and hostile PDFs --------------------------------------------------------------


def malformed_pdfs() -> list[Path]:
    """Every file of pdf-malformed, or one placeholder that makes the test skip."""
    folder = CORPUS / "pdf-malformed"
    return sorted(folder.rglob("*.pdf")) or [folder / "missing.pdf"]


@pytest.mark.parametrize("pdf", malformed_pdfs(), ids=lambda path: path.name)
def test_malformed_pdf_ends_with_a_status_in_time(pdf: Path) -> None:
    corpus_folder("pdf-malformed")
    started = time.monotonic()
    result = extract(pdf, "pdf", limits=HOSTILE)
    assert time.monotonic() - started < HOSTILE.wall_seconds + 5
    assert isinstance(result, Extraction) and result.status in set(Status)
    if result.status != Status.OK:
        assert result.detail


def test_known_malformed_pdfs() -> None:
    folder = corpus_folder("pdf-malformed/derived")
    expected = {
        "encrypted_user_password_openpassword.pdf": Status.ENCRYPTED,
        "zero_bytes.pdf": Status.UNREADABLE,
        "truncated_50pct.pdf": Status.UNREADABLE,
        "cyclic_page_tree.pdf": Status.UNREADABLE,
        "garbage_before_header.pdf": Status.OK,
        "xref_offsets_shifted.pdf": Status.OK,
    }
    for name, status in expected.items():
        assert extract_here(folder / name, "pdf").status == status, name


def test_flate_bomb_pdf_ends_without_hanging(tmp_path: Path) -> None:
    bomb = pdf_stream(deflated_zeros(2 * 1024**3), b"/Filter /FlateDecode")
    path = tmp_path / "bomb.pdf"
    path.write_bytes(paged_pdf([bomb]))
    assert path.stat().st_size < 4 * 1024 * 1024
    started = time.monotonic()
    result = extract(path, "pdf", limits=HOSTILE, ocr=False)
    assert time.monotonic() - started < HOSTILE.wall_seconds + 5
    assert result.status in BAD_OUTCOMES


def test_pdf_with_one_bomb_page_is_partial(tmp_path: Path) -> None:
    bomb = pdf_stream(deflated_zeros(256 * 1024**2), b"/Filter /FlateDecode")
    path = tmp_path / "half.pdf"
    path.write_bytes(paged_pdf([text_content("Artikel 1 Huurprijs"), bomb]))
    result = extract(path, "pdf", limits=HOSTILE, ocr=False)
    assert result.status == Status.PARTIAL
    assert result.detail == "1 of 2 pages could not be read"
    assert "Artikel 1 Huurprijs" in result.pages[0]
    assert result.pages[1] == ""


def test_pdf_page_limit_reads_the_first_pages(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(text_pdf([[f"Pagina nummer {n} van de overeenkomst"] for n in range(1, 6)]))
    result = extract_here(path, "pdf", limits=Limits(max_pages=2))
    assert result.status == Status.PARTIAL
    assert result.page_count == 5 and len(result.pages) == 2
    assert "only the first 2 of 5 pages" in result.detail
    assert "Pagina nummer 2" in result.pages[1]


def test_pdf_text_limit_truncates(tmp_path: Path) -> None:
    path = tmp_path / "text.pdf"
    path.write_bytes(text_pdf([["Een regel tekst die langer is dan de limiet"]] * 3))
    result = extract_here(path, "pdf", limits=Limits(max_text_chars=50))
    assert result.status == Status.PARTIAL
    assert "text truncated" in result.detail
    assert sum(len(page) for page in result.pages) == 50


def test_pdf_metadata_is_bounded_text(tmp_path: Path) -> None:
    title = b"<script>alert(1)</script>" + b"x" * 5000
    info = b"<< /Title (%s) /Author (Jan\r\nX-Evil: 1) >>" % title
    path = tmp_path / "meta.pdf"
    path.write_bytes(text_pdf([["Inhoud van de overeenkomst"]], info=info))
    result = extract_here(path, "pdf")
    assert result.metadata["title"].startswith("<script>alert(1)</script>")
    assert len(result.metadata["title"]) <= 500
    assert result.metadata["author"] == "Jan X-Evil: 1"


def test_long_pdf_stops_at_the_deadline_with_what_it_has(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(text_pdf([[f"Pagina {n} van de bijlage"] for n in range(1, 10_001)]))
    result = extract(path, "pdf", limits=Limits(wall_seconds=6))
    assert result.status == Status.PARTIAL
    assert result.page_count == 10_000
    assert "only the first 5000 of 10000 pages were read" in result.detail
    assert len(result.pages) <= 5000
    assert result.pages[0] == "Pagina 1 van de bijlage"


def test_pypdf_knows_every_limit_we_set() -> None:
    fields = {field.name for field in dataclasses.fields(pypdf.Configuration)}
    assert set(PYPDF_LIMITS) <= fields


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_pdf_encrypted_with_the_empty_password_is_read(tmp_path: Path, algorithm: str) -> None:
    source = tmp_path / "plain.pdf"
    source.write_bytes(text_pdf([["Vertrouwelijke overeenkomst"]]))
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt(user_password="", owner_password="eigenaar", algorithm=algorithm)
    path = tmp_path / "protected.pdf"
    writer.write(path)
    result = extract(path, "pdf")
    assert result.status == Status.OK, result.detail
    assert result.text == "Vertrouwelijke overeenkomst"


def test_encrypted_pdf_with_a_password_is_encrypted() -> None:
    pdf = corpus_folder("pdf-malformed/derived") / "encrypted_user_password_openpassword.pdf"
    result = extract(pdf, "pdf")
    assert result.status == Status.ENCRYPTED
    assert result.pages == [] and "password" in result.detail


# --- scans and OCR -------------------------------------------------------------------------


def test_scanned_pdf_without_ocr_has_no_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(image_pdf(striped_image(), pages=2))
    result = extract(path, "pdf", ocr=False)
    assert result.status == Status.NO_TEXT_LAYER
    assert result.page_count == 2 and result.pages == ["", ""]


def test_scanned_pdf_without_tesseract_says_ocr_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(image_pdf(striped_image()))
    hide_ocr_tools(monkeypatch, tmp_path)
    assert not ocr_available()
    result = extract(path, "pdf")
    assert result.status == Status.OCR_UNAVAILABLE
    assert "tesseract" in result.detail


def test_image_without_tesseract_says_ocr_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes(13))
    hide_ocr_tools(monkeypatch, tmp_path)
    assert extract_here(path, "png").status == Status.OCR_UNAVAILABLE


def test_scanned_pdf_is_read_with_ocr(tmp_path: Path) -> None:
    need_ocr()
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_text_pdf(tmp_path, ["Huurovereenkomst", "Aansprakelijkheid"]))
    result = extract(path, "pdf")
    assert result.status == Status.OK and result.detail == "ocr"
    assert "Huurovereenkomst" in result.text
    assert "Aansprakelijkheid" in result.text


@pytest.mark.parametrize(("kind", "option", "suffix"), [
    ("png", "-png", ".png"),
    ("jpeg", "-jpeg", ".jpg"),
    ("tiff", "-tiff", ".tif"),
])  # fmt: skip
def test_images_are_read_with_ocr(tmp_path: Path, kind: str, option: str, suffix: str) -> None:
    need_ocr()
    source = tmp_path / "source.pdf"
    source.write_bytes(text_pdf([["Verwerkersovereenkomst"]]))
    prefix = tmp_path / "image"
    command = ["pdftoppm", option, "-r", "150", "-singlefile", str(source), str(prefix)]
    subprocess.run(command, check=True, timeout=60)
    result = extract(prefix.with_suffix(suffix), kind)
    assert result.status == Status.OK, result.detail
    assert "Verwerkersovereenkomst" in result.text
    assert result.page_count is None


def test_image_with_absurd_dimensions_is_too_large(tmp_path: Path) -> None:
    need_ocr()
    path = tmp_path / "huge.png"
    header = struct.pack(">II", 100_000, 100_000) + b"\x08\x00\x00\x00\x00"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + header + bytes(4))
    assert extract_here(path, "png").status == Status.TOO_LARGE


# --- the child process ---------------------------------------------------------------------


def test_crashing_child_maps_to_unreadable() -> None:
    with pytest.raises(ChildFailed) as failed:
        run_isolated("ctypes:string_at", [0], HOSTILE)  # reads address 0: SIGSEGV
    assert failed.value.status == Status.UNREADABLE
    assert failed.value.detail == "the parser crashed (signal 11, SIGSEGV)"


def test_aborting_child_maps_to_unreadable() -> None:
    with pytest.raises(ChildFailed) as failed:
        run_isolated("os:abort", [], HOSTILE)
    assert failed.value.status == Status.UNREADABLE
    assert "signal 6" in failed.value.detail


def test_sleeping_child_is_killed_at_the_wall_limit() -> None:
    started = time.monotonic()
    with pytest.raises(ChildFailed) as failed:
        run_isolated("time:sleep", [60], Limits(wall_seconds=1))
    assert time.monotonic() - started < 10
    assert failed.value.status == Status.TIMED_OUT
    assert failed.value.detail == "took longer than 1 s"


def test_spinning_child_is_stopped_at_the_cpu_limit() -> None:
    started = time.monotonic()
    with pytest.raises(ChildFailed) as failed:
        # Catastrophic backtracking: exponential CPU time in pure C, no memory growth.
        run_isolated("re:match", ["(a*)*b", "a" * 40], Limits(cpu_seconds=1, wall_seconds=30))
    assert time.monotonic() - started < 20
    assert failed.value.status == Status.TIMED_OUT
    assert "CPU" in failed.value.detail


def test_memory_hungry_child_maps_to_too_large() -> None:
    limits = Limits(memory_bytes=300 * 1024 * 1024)
    with pytest.raises(ChildFailed) as failed:
        run_isolated("builtins:bytearray", [1024**3], limits)
    assert failed.value.status == Status.TOO_LARGE
    assert failed.value.detail == "needs more than 300 MB of memory"


def test_grandchildren_are_killed_with_the_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    with pytest.raises(ChildFailed):
        run_isolated("os:system", [script], Limits(wall_seconds=2))
    pid = int(pid_file.read_text())
    time.sleep(0.2)
    state = Path(f"/proc/{pid}/stat")
    # Gone, or a zombie waiting for a reaper that is not ours.
    assert not state.exists() or state.read_text().split()[2] == "Z"


def test_child_returns_plain_values() -> None:
    assert run_isolated("os.path:join", ["a", "b"], Limits()) == "a/b"


def test_extract_reports_a_missing_file(tmp_path: Path) -> None:
    result = extract(tmp_path / "nothing.pdf", "pdf")
    assert result.status == Status.UNREADABLE


def test_unknown_kind_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"data")
    result = extract(path, "exe")
    assert result.status == Status.UNREADABLE
    assert "'exe'" in result.detail


# --- Word, OpenDocument and zip containers -------------------------------------------------


def test_docx_with_many_paragraphs_and_little_memory_ends(tmp_path: Path) -> None:
    body = "<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 300_000
    path = write_docx(tmp_path / "many.docx", body, zipfile.ZIP_STORED)
    limits = Limits(wall_seconds=20, cpu_seconds=15, memory_bytes=200 * 1024 * 1024)
    started = time.monotonic()
    result = extract(path, "docx", limits=limits)
    assert time.monotonic() - started < limits.wall_seconds + 5
    assert result.status in BAD_OUTCOMES | {Status.OK}


def test_docx_text_is_capped(tmp_path: Path) -> None:
    body = "<w:p><w:r><w:t>Artikel</w:t></w:r></w:p>" * 1000
    path = write_docx(tmp_path / "long.docx", body)
    result = extract_here(path, "docx", limits=Limits(max_text_chars=100))
    assert result.status == Status.PARTIAL and result.detail == "text truncated"
    assert len(result.text) <= 100


def test_docx_skips_deleted_text_and_tab_stops(tmp_path: Path) -> None:
    body = (
        '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>'
        "<w:r><w:t>Huurder</w:t></w:r><w:r><w:tab/><w:t>betaalt</w:t></w:r>"
        "<w:del><w:r><w:delText>niet</w:delText></w:r></w:del></w:p>"
    )
    result = extract_here(write_docx(tmp_path / "t.docx", body), "docx")
    assert result.text == "Huurder\tbetaalt"


def test_zip_bomb_docx_is_refused_before_parsing(tmp_path: Path) -> None:
    body = "<w:p/>" * 1_000_000  # 6 MB that deflate squeezes far past the allowed ratio
    result = extract(write_docx(tmp_path / "bomb.docx", body), "docx")
    assert result.status == Status.UNREADABLE
    assert "ZIP bomb" in result.detail


def test_odt_text_tables_and_headers(tmp_path: Path) -> None:
    result = extract(write_odt(tmp_path / "huur.odt"), "odt")
    assert result.status == Status.OK
    assert [line for line in result.text.splitlines() if line] == [
        "Huurovereenkomst",
        "De huurder   betaalt maandelijks\tvooruit.",
        "Huurprijs\t1.250 euro",
        "Kopregel Gemeente",
    ]
    assert result.metadata == {"title": "Huur 2024", "author": "Gemeente"}


def test_odt_without_content_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "empty.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    assert extract_here(path, "odt").status == Status.UNREADABLE


# --- e-mail --------------------------------------------------------------------------------


def test_eml_attachments_are_saved_with_generated_names(tmp_path: Path) -> None:
    message = corpus_folder("eml") / "emails_mime_emails_raw_email7.eml"
    result = extract(message, "eml", attachments_dir=tmp_path)
    assert result.status == Status.OK
    assert [(a.filename, a.size) for a in result.attachments] == [
        ("test.rb", 25),
        ("test.pdf", 14),
    ]
    for attachment in result.attachments:
        assert_inside(attachment, tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        Path(a.path).name for a in result.attachments
    )  # nothing else left behind, no staging folder


def test_eml_body_and_headers_are_text() -> None:
    message = corpus_folder("eml") / "emails_attachment_emails_attachment_pdf.eml"
    result = extract_here(message, "eml")
    assert result.status == Status.OK
    assert result.text.startswith("From: ")
    assert "Subject: " in result.text
    assert result.attachments == []  # no attachments_dir: attachments are not saved
    assert {"from", "to", "subject", "date"} <= set(result.metadata)


def test_html_only_email_gives_text_without_tags(tmp_path: Path) -> None:
    message = EmailMessage()
    html = (
        "<html><head><title>t</title><style>p {color: red}</style></head><body>"
        "<script>alert('x')</script><p>Beste <b>Jan</b>,</p><p>Zie de bijlage&nbsp;&amp; "
        "teken.</p></body></html>"
    )
    message.set_content(html, subtype="html")
    path = tmp_path / "html.eml"
    path.write_bytes(mail_bytes(message))
    result = extract_here(path, "eml")
    body = result.text.split("\n\n", 1)[1]
    assert body == "Beste Jan,\nZie de bijlage & teken."


def test_corpus_html_email_has_no_markup() -> None:
    message = corpus_folder("eml") / "emails_error_emails_content_transfer_encoding_text-html.eml"
    result = extract_here(message, "eml")
    body = result.text.split("\n\n", 1)[1]
    assert "lowest rate in years" in body
    assert not re.search(r"<\s*/?\s*[a-zA-Z]", body)


def test_attachment_names_never_become_paths(tmp_path: Path) -> None:
    message = EmailMessage()
    message.set_content("Zie bijlagen.")
    for name in ("../../etc/passwd", "/tmp/x.pdf", "a\x00b.pdf"):
        message.add_attachment(b"data", maintype="application", subtype="pdf", filename=name)
    path = tmp_path / "names.eml"
    path.write_bytes(mail_bytes(message))
    folder = tmp_path / "attachments"
    folder.mkdir()
    result = extract(path, "eml", attachments_dir=folder)
    assert [a.filename for a in result.attachments] == ["../../etc/passwd", "/tmp/x.pdf", "a b.pdf"]
    for attachment in result.attachments:
        assert_inside(attachment, folder)


def test_attachment_limits_make_the_result_partial(tmp_path: Path) -> None:
    message = EmailMessage()
    message.set_content("Vier bijlagen.")
    for number, size in enumerate((10, 5000, 10, 10)):
        name = f"{number}.pdf"
        message.add_attachment(bytes(size), maintype="application", subtype="pdf", filename=name)
    path = tmp_path / "four.eml"
    path.write_bytes(mail_bytes(message))
    limits = Limits(max_attachments=2, max_attachment_bytes=1000)
    result = extract_here(path, "eml", attachments_dir=tmp_path, limits=limits)
    assert result.status == Status.PARTIAL
    assert [a.filename for a in result.attachments] == ["0.pdf", "2.pdf"]
    assert "1 attachment skipped beyond the first 2" in result.detail
    assert "1 attachment over 1000 bytes skipped" in result.detail


def test_eml_with_a_huge_subject_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "subject.eml"
    path.write_bytes(b"From: a@b.nl\r\nSubject: " + b"x" * 300_000 + b"\r\n\r\nbody\r\n")
    started = time.monotonic()
    result = extract_here(path, "eml")
    assert time.monotonic() - started < 2
    assert result.status == Status.UNREADABLE


def test_deeply_nested_mime_is_bounded(tmp_path: Path) -> None:
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{n}"\r\n\r\n--b{n}\r\n' for n in range(30)
    )
    path = tmp_path / "deep.eml"
    path.write_bytes(f"From: a@b.nl\r\nSubject: diep\r\n{head}\r\ninside\r\n".encode())
    result = extract_here(path, "eml")
    assert result.status in (Status.PARTIAL, Status.OK)
    assert "inside" not in result.text  # below the depth limit


def test_broken_charset_is_decoded_with_replacement(tmp_path: Path) -> None:
    path = tmp_path / "charset.eml"
    body = "Prijs: 10 €, café".encode("cp1252") + b"\xff\xfe"
    path.write_bytes(
        b"From: a@b.nl\r\nSubject: x\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n" + body
    )
    result = extract_here(path, "eml")
    assert result.status == Status.OK
    assert "Prijs: 10 €, café" in result.text


def test_msg_gives_headers_body_and_attachment(tmp_path: Path) -> None:
    path = write_msg(tmp_path / "mail.msg")
    folder = tmp_path / "attachments"
    folder.mkdir()
    result = extract(path, "msg", attachments_dir=folder)
    assert result.status == Status.OK, result.detail
    assert "Subject: Huurovereenkomst kantoor" in result.text
    assert "Hierbij de huurovereenkomst." in result.text
    assert result.metadata["from"] == "Piet <piet@example.nl>"
    assert result.metadata["date"].startswith("2024-06-03")
    [attachment] = result.attachments
    assert attachment.filename == "../contract.pdf"
    assert Path(attachment.path).read_bytes() == b"%PDF-1.4 attachment"
    assert_inside(attachment, folder)


def test_damaged_msg_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "bad.msg"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert extract(path, "msg").status == Status.UNREADABLE


# --- plain text ----------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "text"), [
    (b"\xef\xbb\xbfHuur \xe2\x82\xac 10", "Huur € 10"),
    ("Huur € 10, café".encode("cp1252"), "Huur € 10, café"),
    (b"regel 1\r\nregel 2\x00\x0c", "regel 1\nregel 2"),
])  # fmt: skip
def test_txt_decoding(tmp_path: Path, data: bytes, text: str) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    result = extract_here(path, "txt")
    assert result.status == Status.OK
    assert result.pages == [text]


def test_txt_is_truncated_at_the_text_limit(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("é" * 1000, encoding="utf-8")
    result = extract(path, "txt", limits=Limits(max_text_chars=100))
    assert result.status == Status.PARTIAL and result.detail == "text truncated"
    assert result.text == "é" * 100
