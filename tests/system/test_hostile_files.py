"""Hostile files end to end (R7): through the web upload form and through `dossier import`, every
generated hostile file and every PDF of the shared corpus's pdf-malformed and pdf-varied ends
filed with an extraction status or refused with a clear message, within the extraction child's
own limits; the application keeps answering and its memory stays bounded; `dossier verify`
is clean afterwards.

The parsers' own behaviour on such files is tested in test_detect.py and test_extract.py; this
module checks the whole path a file takes through the application."""

from __future__ import annotations

import html
import json
import re
import resource
import secrets
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import indexing, verify
from dossier.cli import cli
from dossier.extensions import db
from dossier.filenames import clean_filename
from dossier.models import Document, DocumentVersion, Dossier, ExtractionStatus, User
from dossier.services import blob_store
from tests.ingest.hostile_corpus import ANY_STATUS, REFUSED, Hostile, generate

pytestmark = pytest.mark.any_database

REFUSAL_NL = "Het bestand is niet toegevoegd: "
# Growth of the test process's peak resident memory allowed over a whole run of uploads and
# extractions: the bombs inflate to gigabytes, but only inside the rlimited extraction child.
MAX_RSS_GROWTH_KB = 200 * 1024
EXTRACT_SECONDS = 20.0


@dataclass
class Outcome:
    name: str
    outcome: str  # REFUSED or the extraction status
    message: str = ""
    document_id: int | None = None


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.fixture
def hostile_app(app: Flask) -> Flask:
    """Extraction under the app's own child limits; OCR off (scans are not what is tested)."""
    app.config.update(EXTRACT_TIMEOUT=EXTRACT_SECONDS, OCR=False)
    return app


def _refusal(page: str) -> str:
    match = re.search(r'<div class="flash flash-error" role="alert">(.*?)</div>', page, re.S)
    assert match, "a refused upload says why"
    return html.unescape(match.group(1)).strip()


def multipart(fields: dict[str, str], field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with the file name as RFC 2231 percent-encoded UTF-8.

    That encoding carries any character, CR, LF and NUL included, to the server's parser, as
    a hostile client would send them (a browser would escape them itself).
    """
    boundary = "----hostile" + secrets.token_hex(8)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}\r\n"
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload_all(
    client: FlaskClient, reference: str, files: Iterable[tuple[str, bytes]]
) -> list[Outcome]:
    """Upload each file through the form; after each, the application still answers."""
    outcomes = []
    for name, data in files:
        body, content_type = multipart(
            {"kind": "other", "confidentiality": "normal"}, "file", name, data
        )
        response = client.post(
            f"/dossiers/{reference}/documents/new", data=body, content_type=content_type
        )
        assert response.status_code in (302, 400), (name, response.status_code)
        if response.status_code == 302:
            location = response.headers["Location"]
            match = re.fullmatch(rf"/dossiers/{reference}/documents/(\d+)", location)
            assert match, location
            outcomes.append(Outcome(name, "filed", document_id=int(match.group(1))))
        else:
            message = _refusal(response.text)
            assert message.startswith(REFUSAL_NL) and len(message) > len(REFUSAL_NL) + 10
            assert "Traceback" not in response.text
            outcomes.append(Outcome(name, REFUSED, message))
        assert client.get(f"/dossiers/{reference}").status_code == 200, f"healthy after {name!r}"
    return outcomes


def settle(outcomes: list[Outcome]) -> None:
    """Drain the outbox (extraction in the child), then read each filed version's status."""
    indexing.drain()
    db.session.rollback()
    for outcome in outcomes:
        if outcome.outcome == REFUSED:
            continue
        version = db.session.scalar(
            sa.select(DocumentVersion).where(DocumentVersion.document_id == outcome.document_id)
        )
        assert version is not None
        assert version.extraction_status != ExtractionStatus.PENDING, outcome.name
        outcome.outcome = version.extraction_status.value
        if outcome.outcome != "ok":
            assert version.extraction_detail, f"{outcome.name}: a status says why"


def check_downloads(client: FlaskClient, reference: str, outcomes: list[Outcome]) -> None:
    """Every filed hostile file is shown and served back safely, with our own headers."""
    for outcome in outcomes:
        if outcome.document_id is None:
            continue
        base = f"/dossiers/{reference}/documents/{outcome.document_id}"
        assert client.get(base).status_code == 200, outcome.name
        response = client.get(f"{base}/versions/1/download")
        response.get_data()
        response.close()
        assert response.status_code == 200, outcome.name
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert not set(disposition) & {"\r", "\n", "\x00", "/"}, disposition
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def assert_verified() -> None:
    db.session.rollback()
    report = verify.run(blob_store())
    assert report.ok, report.problems
    assert report.pending == []


def _by_name(outcomes: list[Outcome]) -> dict[str, Outcome]:
    return {o.name: o for o in outcomes}


def _expect(files: Iterable[Hostile], outcomes: list[Outcome], name_of: Callable) -> None:
    found = _by_name(outcomes)
    wrong = {
        repr(h.filename): (found[name_of(h)].outcome, found[name_of(h)].message)
        for h in files
        if found[name_of(h)].outcome not in h.outcomes
    }
    assert not wrong, wrong


# Generated hostile files


def test_hostile_files_through_the_web_form(
    hostile_app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    files = generate()
    dossier = make_dossier("2025-666")
    client = hostile_app.test_client(user=admin)
    before = peak_rss_kb()
    outcomes = upload_all(client, dossier.reference, ((h.filename, h.data) for h in files))
    settle(outcomes)
    assert peak_rss_kb() - before < MAX_RSS_GROWTH_KB
    _expect(files, outcomes, lambda h: h.filename)
    check_downloads(client, dossier.reference, outcomes)
    # Names are cleaned: no path, no control characters, no header injection.
    stored = set(db.session.scalars(sa.select(DocumentVersion.original_filename)))
    assert stored >= {"passwd.txt", "nulbyte.txt"}, stored
    assert not any(set(name) & {"\r", "\n", "\x00", "/", "\u202e"} for name in stored)
    assert client.get("/search?q=injectie").status_code == 200
    assert_verified()


def test_hostile_files_through_the_import_command(
    hostile_app: Flask, admin: User, tmp_path: Path
) -> None:
    files = generate()
    folder = tmp_path / "vijandig"
    folder.mkdir()
    for hostile in files:
        (folder / hostile.on_disk).write_bytes(hostile.data)
    before = peak_rss_kb()
    result = hostile_app.test_cli_runner().invoke(
        cli, ["import", str(folder), "--dossier", "2025-667", "--json"]
    )
    assert result.exit_code == 2, result.output  # some files refused, the rest filed
    assert "Traceback" not in result.output
    report = json.loads(result.stdout)["2025-667"]
    assert peak_rss_kb() - before < MAX_RSS_GROWTH_KB

    outcomes = [Outcome(name, REFUSED, reason) for name, reason in report["refused"]]
    assert all(len(o.message) > 10 for o in outcomes)
    db.session.rollback()
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == "2025-667"))
    assert dossier is not None
    for name in report["filed"]:
        document_id = db.session.scalar(
            sa.select(Document.id)
            .join(DocumentVersion)
            .where(
                Document.dossier_id == dossier.id,
                DocumentVersion.original_filename == clean_filename(name),
            )
        )
        outcomes.append(Outcome(name, "filed", document_id=document_id))
    assert sorted(o.name for o in outcomes) == sorted(h.on_disk for h in files)
    settle(outcomes)  # the command already drained; nothing may be left pending
    _expect(files, outcomes, lambda h: h.on_disk)
    check_downloads(hostile_app.test_client(user=admin), "2025-667", outcomes)
    verified = hostile_app.test_cli_runner().invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output


# The shared corpus of damaged and varied PDFs (SQLite only: this is about parsing, not storage).
# Every damaged PDF goes through both paths; the 143 varied ones (well-formed PDFs of many
# producers) alternate between the two, which halves the time and still runs each through one
# real path.


def corpus_pdfs(corpus: Path, folder: str) -> list[Path]:
    paths = sorted((corpus / folder).rglob("*.pdf"))
    assert paths, f"{folder} holds PDFs"
    return paths


def shared_pdfs(corpus: Path, path_kind: str) -> dict[str, list[Path]]:
    """The corpus files one path (web or import) takes, by corpus folder."""
    varied = corpus_pdfs(corpus, "pdf-varied")
    return {
        "pdf-malformed": corpus_pdfs(corpus, "pdf-malformed"),
        "pdf-varied": varied[0::2] if path_kind == "web" else varied[1::2],
    }


# Files of pdf-malformed that are no PDF at all (see test_detect.MALFORMED_REFUSED).
NOT_PDFS = {"html_renamed.pdf", "text_renamed.pdf", "zero_bytes.pdf"}


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_corpus_pdfs_through_the_web_form(
    hostile_app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> None:
    client = hostile_app.test_client(user=admin)
    before = peak_rss_kb()
    for folder, paths in shared_pdfs(corpus, "web").items():
        dossier = make_dossier(folder)
        names = [str(p.relative_to(corpus / folder)) for p in paths]
        outcomes = upload_all(
            client, dossier.reference, zip(names, (p.read_bytes() for p in paths), strict=True)
        )
        settle(outcomes)
        refused = {Path(o.name).name for o in outcomes if o.outcome == REFUSED}
        assert refused == (NOT_PDFS if folder == "pdf-malformed" else set())
        assert {o.outcome for o in outcomes} <= ANY_STATUS | {REFUSED}
        assert len(outcomes) == len(paths)
    assert peak_rss_kb() - before < MAX_RSS_GROWTH_KB
    assert_verified()


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_corpus_pdfs_through_the_import_command(
    hostile_app: Flask, admin: User, corpus: Path, tmp_path: Path
) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    for folder, paths in shared_pdfs(corpus, "import").items():
        target = root / folder
        target.mkdir()
        for number, path in enumerate(paths):
            # Copies, not links: the import never follows a symbolic link.
            shutil.copyfile(path, target / f"{number:03d}-{path.name}")
    before = peak_rss_kb()
    result = hostile_app.test_cli_runner().invoke(cli, ["import", str(root), "--json"])
    assert result.exit_code == 2, result.output
    assert peak_rss_kb() - before < MAX_RSS_GROWTH_KB
    report = json.loads(result.stdout)
    assert sorted(report) == ["pdf-malformed", "pdf-varied"]
    assert {name.split("-", 1)[1] for name, _ in report["pdf-malformed"]["refused"]} == NOT_PDFS
    assert report["pdf-varied"]["refused"] == []
    db.session.rollback()
    statuses = db.session.scalars(sa.select(DocumentVersion.extraction_status)).all()
    assert len(statuses) == sum(len(r["filed"]) for r in report.values())
    assert ExtractionStatus.PENDING not in statuses
    verified = hostile_app.test_cli_runner().invoke(cli, ["verify"])
    assert verified.exit_code == 0, verified.output
