"""Tests for ingest.detect: the real corpus is accepted, generated hostile files are refused."""

from __future__ import annotations

import io
import os
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from ingest.detect import (
    ACCEPTED_EXTENSIONS,
    DETECTED_NOUNS,
    FileType,
    Refused,
    check_zip,
    detect,
)

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

MACRO_CONTENT_TYPES = (
    '<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
    'ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>'
)
PLAIN_CONTENT_TYPES = '<?xml version="1.0"?><Types></Types>'

# pdf-malformed/ holds damaged PDFs. Only files that are not PDFs at all are refused here;
# truncated, byte-flipped or otherwise broken PDFs are accepted because extraction records
# them as unreadable, which is more useful to the user than a refused upload.
MALFORMED_REFUSED = {
    "derived/html_renamed.pdf": "HTML document",  # an HTML page renamed to .pdf
    "derived/text_renamed.pdf": "plain text",  # Dutch prose renamed to .pdf
    "derived/zero_bytes.pdf": "empty",
}


# --- helpers -------------------------------------------------------------------------------


def corpus_folder(relative: str) -> Path:
    """Return a corpus folder, skipping (or failing on CI) when the shared corpus is absent."""
    folder = CORPUS / relative
    if not folder.is_dir():
        message = f"the shared corpus folder {folder} is missing"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


def files_in(folder: Path, pattern: str = "*") -> list[Path]:
    """List the regular files of a folder matching a glob pattern, sorted for stable output."""
    return sorted(path for path in folder.glob(pattern) if path.is_file())


def kinds_of(paths: list[Path], root: Path) -> dict[str, str]:
    """Map each file (relative to root) to its detected kind or to its refusal reason."""
    result = {}
    for path in paths:
        try:
            result[str(path.relative_to(root))] = detect(path, path.name).kind
        except Refused as exc:
            result[str(path.relative_to(root))] = f"refused: {exc}"
    return result


def write(tmp_path: Path, data: bytes, name: str = "upload") -> Path:
    """Write bytes to a file under tmp_path and return its path."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refusal(path: Path, filename: str) -> str:
    """Return the refusal reason for a file, failing the test if it is accepted."""
    with pytest.raises(Refused) as caught:
        detect(path, filename)
    assert caught.value.reason == str(caught.value)
    return str(caught.value)


def make_zip(entries: list[tuple[str, bytes | str]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Build a ZIP archive in memory; duplicate names are allowed on purpose."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we want.
        with zipfile.ZipFile(buffer, "w", method) as archive:
            for name, content in entries:
                archive.writestr(name, content)
    return buffer.getvalue()


def docx_entries(*extra: tuple[str, bytes | str]) -> list[tuple[str, bytes | str]]:
    """The smallest set of parts our .docx check requires, plus extras."""
    return [
        ("[Content_Types].xml", PLAIN_CONTENT_TYPES),
        ("word/document.xml", "<w:document/>"),
        *extra,
    ]


def patch_central(data: bytes, name: str, field: int, fmt: str, value: int) -> bytes:
    """Overwrite one field of an entry's central-directory record (offsets per APPNOTE 4.3.12)."""
    out = bytearray(data)
    start = out.find(b"PK\x01\x02")
    while start >= 0:
        (name_length,) = struct.unpack_from("<H", out, start + 28)
        if out[start + 46 : start + 46 + name_length] == name.encode():
            struct.pack_into(fmt, out, start + field, value)
            return bytes(out)
        start = out.find(b"PK\x01\x02", start + 46)
    raise AssertionError(f"no central-directory record for {name}")


def patch_end_record(data: bytes, field: int, fmt: str, *values: int) -> bytes:
    """Overwrite fields of the end-of-central-directory record (APPNOTE 4.3.16)."""
    out = bytearray(data)
    struct.pack_into(fmt, out, out.rfind(b"PK\x05\x06") + field, *values)
    return bytes(out)


NO_STREAM = 0xFFFFFFFF
END_OF_CHAIN = 0xFFFFFFFE


def build_cfb(streams: list[tuple[str, bytes]]) -> bytes:
    """Build a minimal OLE2 compound file (version 3, 512-byte sectors) with root streams.

    Streams are padded to 4096 bytes so they live in regular sectors and no mini stream is
    needed; sector 0 is the FAT, sector 1 the directory, which holds at most three streams.
    """
    fat = [0xFFFFFFFD, END_OF_CHAIN]
    entries = [cfb_entry("Root Entry", 5, child=1 if streams else NO_STREAM)]
    body = b""
    for index, (name, data) in enumerate(streams):
        padded = data.ljust(4096, b"\x00")
        first = len(fat)
        fat += [*range(first + 1, first + len(padded) // 512), END_OF_CHAIN]
        sibling = index + 2 if index + 1 < len(streams) else NO_STREAM
        entries.append(cfb_entry(name, 2, right=sibling, start=first, size=len(padded)))
        body += padded
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<5H6x7I", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096, END_OF_CHAIN, 0)
        + struct.pack("<II", END_OF_CHAIN, 0)
        + struct.pack("<109I", 0, *([0xFFFFFFFF] * 108))
    )
    fat_sector = struct.pack("<128I", *(fat + [0xFFFFFFFF] * (128 - len(fat))))
    return header + fat_sector + b"".join(entries).ljust(512, b"\x00") + body


def cfb_entry(
    name: str,
    kind: int,
    *,
    child: int = NO_STREAM,
    right: int = NO_STREAM,
    start: int = END_OF_CHAIN,
    size: int = 0,
) -> bytes:
    """One 128-byte compound-file directory entry (5: root storage, 2: stream)."""
    raw = name.encode("utf-16-le") + b"\x00\x00"
    return (
        raw.ljust(64, b"\x00")
        + struct.pack("<HBB3I", len(raw), kind, 1, NO_STREAM, right, child)
        + bytes(36)
        + struct.pack("<IQ", start, size)
    )


def minimal_jpeg(*segments: bytes) -> bytes:
    """A structurally valid JPEG (SOI, APP0, SOF0, SOS, EOI) with extra segments after APP0."""
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + b"".join(segments) + sof0 + sos + bytes(16) + b"\xff\xd9"


def minimal_png() -> bytes:
    """The PNG signature and an IHDR chunk for a 1x1 greyscale image."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + bytes(4)


def fake_elf() -> bytes:
    """An ELF64 header for an x86-64 executable, enough for libmagic to say so."""
    return b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(200)


def fake_pe() -> bytes:
    """An MZ stub with the DOS message and a PE header, the way Windows executables start."""
    stub = b"MZ" + bytes(58) + struct.pack("<I", 0x80)
    stub += (
        b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21" + b"This program cannot be run in DOS mode.\r\r\n$"
    )
    return stub.ljust(0x80, b"\x00") + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 1) + bytes(300)


# --- the real corpus -----------------------------------------------------------------------


def test_every_eml_in_the_corpus_is_accepted() -> None:
    # All 104 are e-mails, including the RFC 2822 example whose headers use the obsolete
    # "Name  :" syntax, and the ones libmagic calls text/plain or text/html.
    folder = corpus_folder("eml")
    paths = files_in(folder, "*.eml")
    assert len(paths) >= 100
    kinds = kinds_of(paths, folder)
    assert {name: kind for name, kind in kinds.items() if kind != "eml"} == {}


def test_every_docx_in_the_corpus_is_accepted() -> None:
    # All are accepted, including the 17 that libmagic calls application/octet-stream.
    folders = [corpus_folder("docx"), corpus_folder("dutch/vng-softwarecatalogus-aanbesteding")]
    paths = [path for folder in folders for path in files_in(folder, "*.docx")]
    assert len(paths) >= 70
    kinds = kinds_of(paths, CORPUS)
    assert {name: kind for name, kind in kinds.items() if kind != "docx"} == {}


def test_every_cuad_pdf_is_accepted() -> None:
    folder = corpus_folder("cuad-dev/pdf")
    paths = files_in(folder)  # Some are named .PDF; the extension is compared lowercased.
    assert len(paths) >= 60
    kinds = kinds_of(paths, folder)
    assert {name: kind for name, kind in kinds.items() if kind != "pdf"} == {}


def test_every_varied_pdf_is_accepted() -> None:
    folder = corpus_folder("pdf-varied")
    kinds = kinds_of(files_in(folder), folder)
    assert {name: kind for name, kind in kinds.items() if kind != "pdf"} == {}


def test_every_cuad_text_is_accepted_as_utf8_text() -> None:
    # One of them starts with "SP" and libmagic calls it an HP-GL plot; it is still text.
    folder = corpus_folder("cuad-dev/txt")
    paths = files_in(folder, "*.txt")
    assert len(paths) >= 60
    kinds = {}
    for path in paths:
        result = detect(path, path.name)
        kinds[path.name] = (result.kind, result.mime)
    assert set(kinds.values()) == {("txt", "text/plain; charset=utf-8")}


def test_every_dutch_markdown_text_is_accepted_as_markdown() -> None:
    """The converted Dutch regulations (libmagic: text/plain) are Markdown, served as such."""
    folder = corpus_folder("dutch")
    paths = files_in(folder, "*.md")
    assert len(paths) >= 8
    found = {(detect(path, path.name).kind, detect(path, path.name).mime) for path in paths}
    assert found == {("md", "text/markdown; charset=utf-8")}


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        ("## Artikel 5 \u2013 Aansprakelijkheid\n\nEén keer.\n".encode(), "utf-8"),
        ("# Prijs\n\nPrijs per jaar: \u20ac 1.200.\n".encode("cp1252"), "windows-1252"),
    ],
)
def test_a_markdown_file_is_text_with_its_charset(tmp_path: Path, data: bytes, mime: str) -> None:
    detected = detect(write(tmp_path, data), "Voorwaarden.MD")
    assert (detected.kind, detected.mime) == ("md", f"text/markdown; charset={mime}")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<html><body><h1>Contract</h1></body></html>\n", "an HTML document (text/html)"),
        (b"# Titel\n\x1b[31mrood\n", "control character U+001B"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
        (fake_pe(), "Windows"),
    ],
)
def test_markdown_files_that_are_not_text_are_refused(
    tmp_path: Path, data: bytes, words: str
) -> None:
    assert words in refusal(write(tmp_path, data), "README.md")


def test_the_dutch_tender_dossier_is_accepted_with_the_right_kinds() -> None:
    folder = corpus_folder("dutch/vng-softwarecatalogus-aanbesteding")
    expected = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx"}
    paths = files_in(folder)
    assert len(paths) == 18
    kinds = kinds_of(paths, folder)
    assert kinds == {str(path.relative_to(folder)): expected[path.suffix] for path in paths}


def test_malformed_pdfs_are_accepted_unless_they_are_not_pdfs_at_all() -> None:
    folder = corpus_folder("pdf-malformed")
    kinds = kinds_of(files_in(folder, "*/*.pdf"), folder)
    refused = {name: kind for name, kind in kinds.items() if kind != "pdf"}
    assert set(refused) == set(MALFORMED_REFUSED)
    for name, words in MALFORMED_REFUSED.items():
        assert words in refused[name], name


def test_junk_before_the_pdf_header_is_accepted() -> None:
    # Acrobat reads a header anywhere in the first KiB; libmagic then says octet-stream.
    path = corpus_folder("pdf-malformed") / "derived" / "garbage_before_header.pdf"
    assert detect(path, path.name) == FileType("pdf", "application/pdf", "application/octet-stream")


# --- the API -------------------------------------------------------------------------------


def test_accepted_extensions() -> None:
    assert sorted(ACCEPTED_EXTENSIONS) == [
        ".docx",
        ".eml",
        ".jpeg",
        ".jpg",
        ".md",
        ".msg",
        ".odt",
        ".pdf",
        ".png",
        ".tif",
        ".tiff",
        ".txt",
        ".xlsx",
    ]


@pytest.mark.parametrize(
    ("data", "filename", "kind", "mime"),
    [
        (minimal_png(), "scan.png", "png", "image/png"),
        (minimal_jpeg(), "photo.JPEG", "jpeg", "image/jpeg"),
        (b"II*\x00\x08\x00\x00\x00" + bytes(64), "fax.tif", "tiff", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08" + bytes(64), "fax.tiff", "tiff", "image/tiff"),
        (b"%PDF-1.7\n%%EOF\n", "../../etc/contract.pdf", "pdf", "application/pdf"),
        (b"%PDF-1.4\n", "truncated.pdf", "pdf", "application/pdf"),
        (b"Hello, world.\r\n", "note.txt", "txt", "text/plain; charset=utf-8"),
        (
            "Prijs: 12 \u20ac".encode("cp1252"),
            "note.txt",
            "txt",
            "text/plain; charset=windows-1252",
        ),
        (
            b"From: a@example.nl\r\nSubject: offerte\r\n\r\n<html><body>hi</body></html>\r\n",
            "mail.eml",
            "eml",
            "message/rfc822",
        ),
        (
            b"From a@example.nl Mon May  2 16:07:05 2005\nTo: b\n\nhi\n",
            "x.eml",
            "eml",
            "message/rfc822",
        ),
    ],
)
def test_small_valid_files_are_accepted(
    tmp_path: Path, data: bytes, filename: str, kind: str, mime: str
) -> None:
    result = detect(write(tmp_path, data), filename)
    assert (result.kind, result.mime) == (kind, mime)


def test_an_odt_is_accepted_and_a_spreadsheet_renamed_odt_is_not(tmp_path: Path) -> None:
    odt = make_zip(
        [("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<x/>")]
    )
    assert detect(write(tmp_path, odt), "brief.odt").kind == "odt"
    ods = make_zip([("mimetype", "application/vnd.oasis.opendocument.spreadsheet")])
    assert "mimetype entry" in refusal(write(tmp_path, ods), "brief.odt")


def test_an_xlsx_needs_a_workbook(tmp_path: Path) -> None:
    xlsx = make_zip([("[Content_Types].xml", PLAIN_CONTENT_TYPES), ("xl/workbook.xml", "<w/>")])
    assert detect(write(tmp_path, xlsx), "prijzen.xlsx").kind == "xlsx"
    assert "xl/workbook.xml" in refusal(write(tmp_path, make_zip(docx_entries())), "prijzen.xlsx")


def test_an_outlook_message_is_accepted(tmp_path: Path) -> None:
    msg = build_cfb(
        [
            ("__properties_version1.0", bytes(32)),
            ("__substg1.0_0037001F", "Offerte".encode("utf-16-le")),
        ]
    )
    result = detect(write(tmp_path, msg), "offerte.msg")
    assert (result.kind, result.mime) == ("msg", "application/vnd.ms-outlook")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (build_cfb([("WordDocument", bytes(32))]), "Word 97-2003 document"),
        (build_cfb([("Contents", bytes(32))]), "no Outlook message properties"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "OLE2 structure is unreadable"),
    ],
)
def test_other_compound_files_renamed_msg_are_refused(
    tmp_path: Path, data: bytes, words: str
) -> None:
    assert words in refusal(write(tmp_path, data), "offerte.msg")


# --- hostile files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body>%PDF-1.4\n<script>alert(1)</script></body></html>",
        b"<!-- %PDF-1.4 -->\n<html><script>alert(1)</script></html>",
        b"<!DOCTYPE html>\n%PDF-1.7\n<script>alert(document.cookie)</script>",
    ],
)
def test_html_with_a_pdf_header_near_the_start_is_refused(tmp_path: Path, data: bytes) -> None:
    reason = refusal(write(tmp_path, data), "contract.pdf")
    assert "HTML" in reason


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (fake_elf(), "an ELF executable (application/x-executable)"),
        (fake_pe(), "Windows"),
        (fake_pe()[:120], "Windows or DOS executable"),
    ],
)
def test_executables_renamed_pdf_are_refused(tmp_path: Path, data: bytes, words: str) -> None:
    reason = refusal(write(tmp_path, data), "contract.pdf")
    assert reason.startswith("The file name says .pdf but the content is")
    assert words in reason


@pytest.mark.parametrize("filename", ["logo.png", "logo.svg", "logo.txt"])
def test_svg_is_refused_under_any_name(tmp_path: Path, filename: str) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert "an SVG image (image/svg+xml)" in refusal(write(tmp_path, svg), filename)


@pytest.mark.parametrize(
    "entries",
    [
        [("[Content_Types].xml", MACRO_CONTENT_TYPES), ("word/document.xml", "<w:document/>")],
        docx_entries(("word/vbaProject.bin", bytes(512))),
        [
            ("[Content_Types].xml", MACRO_CONTENT_TYPES),
            ("word/document.xml", "<w:document/>"),
            ("word/vbaProject.bin", bytes(512)),
        ],
    ],
)
def test_a_docm_renamed_docx_is_refused(
    tmp_path: Path, entries: list[tuple[str, bytes | str]]
) -> None:
    assert "macros" in refusal(write(tmp_path, make_zip(entries)), "contract.docx")


def test_an_xlsm_renamed_xlsx_is_refused(tmp_path: Path) -> None:
    xlsm = make_zip(
        [
            ("[Content_Types].xml", PLAIN_CONTENT_TYPES),
            ("xl/workbook.xml", "<w/>"),
            ("xl/vbaProject.bin", bytes(512)),
        ]
    )
    assert "macros" in refusal(write(tmp_path, xlsm), "prijzen.xlsx")


def test_check_zip_passes_real_office_files() -> None:
    folder = corpus_folder("dutch/vng-softwarecatalogus-aanbesteding")
    paths = files_in(folder, "*.docx") + files_in(folder, "*.xlsx")
    assert len(paths) == 14
    for path in paths:
        check_zip(path)


def test_check_zip_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(Refused, match="not a readable ZIP archive"):
        check_zip(write(tmp_path, b"%PDF-1.4\n"))


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = write(tmp_path, make_zip(docx_entries(("word/media/zeros.bin", bytes(50_000_000)))))
    assert bomb.stat().st_size < 100_000
    assert "ZIP bomb" in refusal(bomb, "contract.docx")
    with pytest.raises(Refused, match="ZIP bomb"):
        check_zip(bomb)


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        (docx_entries(("word/document.xml", "<again/>")), "occurs more than once"),
        (docx_entries(("../../etc/cron.d/evil", "x")), "points outside the archive"),
        (docx_entries(("word/../../evil", "x")), "points outside the archive"),
        (docx_entries(("/etc/passwd", "x")), "points outside the archive"),
        (docx_entries(("C:\\Windows\\evil.dll", "x")), "points outside the archive"),
        (
            docx_entries(*[(f"word/media/{n}.png", "") for n in range(10_001)]),
            "it declares 10003 entries",
        ),
    ],
)
def test_unsafe_archives_are_refused(
    tmp_path: Path, entries: list[tuple[str, bytes | str]], words: str
) -> None:
    path = write(tmp_path, make_zip(entries))
    assert words in refusal(path, "contract.docx")
    with pytest.raises(Refused, match=words):
        check_zip(path)


def test_a_lie_about_the_entry_count_does_not_help(tmp_path: Path) -> None:
    entries = docx_entries(*[(f"word/media/{n}.png", "") for n in range(10_001)])
    data = patch_end_record(make_zip(entries), 8, "<HH", 3, 3)  # Entries on disk, in total.
    assert "it has 10003 entries" in refusal(write(tmp_path, data), "contract.docx")


def test_an_oversized_central_directory_is_refused_before_parsing(tmp_path: Path) -> None:
    data = patch_end_record(make_zip(docx_entries()), 12, "<I", 3 * 1024 * 1024)
    assert "its central directory takes 3 MiB" in refusal(write(tmp_path, data), "contract.docx")


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    # Both central-directory records point at the first local header ("quoted overlap").
    data = make_zip(docx_entries(("word/styles.xml", "<s/>")), zipfile.ZIP_STORED)
    data = patch_central(data, "word/styles.xml", 42, "<I", 0)
    assert "overlaps" in refusal(write(tmp_path, data), "contract.docx")


def test_declared_sizes_are_capped(tmp_path: Path) -> None:
    data = make_zip(docx_entries(("word/media/big.bin", os.urandom(4096))), zipfile.ZIP_STORED)
    data = patch_central(data, "word/media/big.bin", 24, "<I", 600 * 1024 * 1024)
    assert "at most 512 MiB per entry" in refusal(write(tmp_path, data), "contract.docx")


def test_the_total_declared_size_is_capped(tmp_path: Path) -> None:
    # Each entry is incompressible, so only the declared total (3 x 400 MiB) is out of line.
    parts = [(f"word/media/{n}.bin", os.urandom(3 * 1024 * 1024)) for n in range(3)]
    data = make_zip(docx_entries(*parts), zipfile.ZIP_STORED)
    for name, _ in parts:
        data = patch_central(data, name, 24, "<I", 400 * 1024 * 1024)
    assert "at most 1024 MiB" in refusal(write(tmp_path, data), "contract.docx")


@pytest.mark.parametrize(
    "data",
    [
        # A JPEG header followed directly by script, without any segment structure.
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00<script>alert(1)</script>",
        # A well-formed JPEG with script hidden in a comment segment.
        minimal_jpeg(b"\xff\xfe\x00\x1b<script>alert(1)</script>"),
    ],
)
def test_a_jpeg_header_followed_by_script_is_refused(tmp_path: Path, data: bytes) -> None:
    assert "script" in refusal(write(tmp_path, data), "photo.jpg")


def test_a_jpeg_with_a_broken_segment_chain_is_refused(tmp_path: Path) -> None:
    data = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00garbage" + bytes(
        64
    )
    assert "segment structure is broken" in refusal(write(tmp_path, data), "photo.jpg")


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert refusal(write(tmp_path, b""), "contract.pdf") == "The file is empty."


@pytest.mark.parametrize(
    ("filename", "words"),
    [
        ("setup.exe", "Files ending in .exe are not accepted"),
        ("setup", "The file name has no extension"),
        ("contract.pdf\x00.exe", "Files ending in .exe are not accepted"),
        ("contract\u202efdp.exe", "Files ending in .exe are not accepted"),
        ("contract.pdf.", "The file name has no extension"),
    ],
)
def test_unknown_extensions_are_refused(tmp_path: Path, filename: str, words: str) -> None:
    reason = refusal(write(tmp_path, fake_pe()), filename)
    assert reason.startswith(words)
    assert "Windows" in reason  # The detected type is named too.


def test_control_characters_in_the_file_name_do_not_reach_the_reason(tmp_path: Path) -> None:
    reason = refusal(write(tmp_path, b"%PDF-1.4\n"), "contract.pdf\r\nX-Injected: 1")
    assert reason.isprintable()
    assert "\r" not in reason and "\n" not in reason


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"Hello\x00world\n", "NUL bytes"),
        ("Hallo".encode("utf-16"), "UTF-16"),
        (b"Hello \x1b[31mred\x1b[0m\n", "control character U+001B"),
        (b"<html><body><p>Contract</p></body></html>\n", "an HTML document (text/html)"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
    ],
)
def test_text_files_that_are_not_plain_text_are_refused(
    tmp_path: Path, data: bytes, words: str
) -> None:
    assert words in refusal(write(tmp_path, data), "note.txt")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<!DOCTYPE html>\n<html><body>From: me</body></html>\n", "first line is not"),
        (b"X-Whatever: 1\n\nbody\n", "none of the headers"),
        (b"Subject: hi\r\n" + b"X-Spam: 1\r\n" * 600 + b"\r\nbody\r\n", "more than 500 header"),
    ],
)
def test_non_mail_renamed_eml_is_refused(tmp_path: Path, data: bytes, words: str) -> None:
    assert words in refusal(write(tmp_path, data), "mail.eml")


@pytest.mark.parametrize("body", [b"", b"\r\n\r\nbody\r\n"])
def test_a_300_kb_subject_is_refused_without_parsing_it(tmp_path: Path, body: bytes) -> None:
    # The email package needs seconds for such a header; the size cap refuses it first.
    data = b"From: a@example.nl\r\nSubject: " + b"A" * 300_000 + body
    assert "a header is longer than 64 KiB" in refusal(write(tmp_path, data), "mail.eml")


def test_a_header_block_that_never_ends_is_refused(tmp_path: Path) -> None:
    # 300 headers of 900 bytes: each within the caps, but no blank line in the first 256 KiB.
    data = b"Subject: hi\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (n, b"p" * 900) for n in range(300))
    assert "does not end within" in refusal(write(tmp_path, data), "mail.eml")


# --- machine-readable refusals -------------------------------------------------------------


def refused(path: Path, filename: str) -> Refused:
    """Return the Refused exception for a file, failing the test if it is accepted."""
    with pytest.raises(Refused) as caught:
        detect(path, filename)
    return caught.value


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "contract.pdf", "empty"),
        (fake_pe(), "setup", "extension_missing"),
        (fake_pe(), "setup.exe", "extension_not_accepted"),
        (fake_elf(), "contract.pdf", "content_mismatch"),
        (b"<html><body><p>Contract</p></body></html>\n", "note.txt", "content_mismatch"),
        (
            b"<!-- %PDF-1.4 -->\n<html><script>alert(1)</script></html>",
            "contract.pdf",
            "html_before_pdf",
        ),
        (make_zip(docx_entries(("word/vbaProject.bin", bytes(512)))), "a.docx", "macro_enabled"),
        (make_zip(docx_entries(("word/document.xml", "<again/>"))), "a.docx", "zip_refused"),
        ("Hallo".encode("utf-16"), "note.txt", "utf16_text"),
        (
            minimal_jpeg(b"\xff\xfe\x00\x1b<script>alert(1)</script>"),
            "photo.jpg",
            "script_in_image",
        ),
        (b"X-Whatever: 1\n\nbody\n", "mail.eml", "invalid_structure"),
    ],
)
def test_refusals_carry_a_stable_code(
    tmp_path: Path, data: bytes, filename: str, code: str
) -> None:
    exc = refused(write(tmp_path, data), filename)
    assert exc.code == code
    assert exc.reason == str(exc)  # the English reason is unchanged
    assert all(value.isprintable() and value.isascii() for value in exc.params.values())


def test_a_mismatch_names_the_extension_and_what_was_detected(tmp_path: Path) -> None:
    exc = refused(write(tmp_path, fake_elf()), "contract.pdf")
    assert exc.params == {
        "extension": ".pdf",
        "kind": "pdf",
        "detected": "ELF executable (application/x-executable)",
        "detected_key": "signature:elf",
        "magic_mime": "application/x-executable",
    }


def test_what_was_detected_has_a_language_neutral_key(tmp_path: Path) -> None:
    """A caller words the detected type from `detected_key` (a noun of DETECTED_NOUNS), or
    from the MIME type when libmagic's own prose named it (no key)."""
    cases = [
        (fake_elf(), "contract.pdf", "signature:elf"),
        (fake_pe(), "setup", "signature:mz"),
        (b"%PDF-1.7\n" + b"x" * 200, "brief.txt", "application/pdf"),
        (b"\x1f\x8b\x08\x00" + bytes(200), "archief.gz", ""),  # gzip: libmagic's prose
    ]
    for data, name, key in cases:
        exc = refused(write(tmp_path, data), name)
        assert exc.params["detected_key"] == key, (name, exc.params)
        assert not key or key in DETECTED_NOUNS
        assert exc.params["detected"].startswith(DETECTED_NOUNS.get(key, ""))


def test_an_unaccepted_extension_names_the_accepted_ones(tmp_path: Path) -> None:
    exc = refused(write(tmp_path, fake_pe()), "contract.pdf\x00.exe")
    assert exc.params["extension"] == ".exe"
    assert exc.params["detected"].startswith("Windows or DOS executable (")
    assert exc.params["accepted"] == ", ".join(sorted(ACCEPTED_EXTENSIONS))
    assert "extension" not in refused(write(tmp_path, fake_pe()), "setup").params


def test_a_structural_refusal_gives_the_detail(tmp_path: Path) -> None:
    exc = refused(write(tmp_path, b"Hello\x00world\n"), "note.txt")
    assert exc.code == "invalid_structure"
    assert exc.params["kind"] == "txt"
    assert exc.params["detail"] == "it contains NUL bytes in the first 64 KiB"


def test_check_zip_refusals_carry_a_code(tmp_path: Path) -> None:
    with pytest.raises(Refused) as caught:
        check_zip(write(tmp_path, b"%PDF-1.4\n"))
    assert caught.value.code == "zip_refused"
    assert "not a readable ZIP archive" in caught.value.params["detail"]
