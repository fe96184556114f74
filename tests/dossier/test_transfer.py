"""Transfer packages in MDTO: a real export of a dossier with several documents and versions,
validated against the Nationaal Archief's schema, and the offline verifier catching damage.

The shipped selection list puts a services dossier in 16.1 of the Selectielijst gemeenten 2020
(destroy 10 years after the contract end), so the package says "Tijdelijk te bewaren" with a
period of P10Y.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import bagit
import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from lxml import etree
from pypdf import PdfReader

from dossier import (
    access,
    documents,
    indexing,
    mdto,
    memberships,
    records,
    transfer,
    transfer_verify,
)
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Document,
    DocumentKind,
    Dossier,
    GlobalRole,
    MemberRole,
    User,
)

NS = {"m": mdto.NAMESPACE}
CONTRACT_V1 = "Overeenkomst\n\nArtikel 1 Opdracht\nDe leverancier levert kantoorartikelen.\n"
CONTRACT_V2 = CONTRACT_V1 + "\nArtikel 2 Prijs\nDe prijs is vast voor de hele looptijd.\n"


@pytest.fixture(autouse=True)
def configured(app: Flask) -> None:
    records.ensure_shipped_list()
    db.session.commit()
    app.config["TRANSFER_ORGANISATION_NAME"] = "Gemeente Voorbeeld"
    app.config["TRANSFER_ORGANISATION_ID"] = (
        "https://identifier.overheid.nl/tooi/id/gemeente/gm9999"
    )


@pytest.fixture
def archivist(make_user: Callable[..., User]) -> User:
    return make_user("mdto-archivaris@example.org", GlobalRole.ARCHIVIST, "Anna Archivaris")


def _file(actor: User, dossier: Dossier, data: bytes, name: str, **values: object) -> Document:
    with documents.receive(io.BytesIO(data), name) as upload:
        document = documents.file_document(actor, dossier, upload, **values)  # type: ignore[arg-type]
    db.session.commit()
    return document


def _new_version(actor: User, document: Document, data: bytes, name: str) -> None:
    with documents.receive(io.BytesIO(data), name) as upload:
        documents.add_version(actor, document, upload, comment="prijsartikel toegevoegd")
    db.session.commit()


@pytest.fixture
def filled(admin: User, make_dossier: Callable[..., Dossier], corpus: Path) -> Dossier:
    """A services dossier with a contract in two versions (text), a Word annex, a PDF report
    and a confidential letter."""
    dossier = make_dossier(
        "MDTO-001",
        category="services",
        start_on=date(2019, 4, 1),
        end_on=date(2023, 3, 31),
        status="ended",
        description="Levering van kantoorartikelen <en> meer",
        supplier="Kantoor & Co B.V.",
        supplier_kvk="12345678",
    )
    contract = _file(
        admin, dossier, CONTRACT_V1.encode(), "contract v1.txt", kind=DocumentKind.CONTRACT
    )
    _new_version(admin, contract, CONTRACT_V2.encode(), "contract v2.txt")
    docx = (corpus / "docx" / "comments.docx").read_bytes()
    _file(admin, dossier, docx, "Bijlage 1.docx", kind=DocumentKind.ANNEX)
    pdf = next(iter(sorted((corpus / "pdf-varied").glob("*.pdf")))).read_bytes()
    _file(admin, dossier, pdf, "rapport.pdf", kind=DocumentKind.REPORT)
    _file(
        admin,
        dossier,
        b"Geachte heer,\n\nHierbij de offerte.\n",
        "brief.txt",
        kind=DocumentKind.CORRESPONDENCE,
        correspondent="Kantoor & Co",
        confidentiality="confidential",
    )
    indexing.drain()  # extraction: the text the PDF/A renditions are made of
    db.session.commit()
    return dossier


def _export(archivist: User, dossiers: list[Dossier], out: Path) -> transfer.Summary:
    summary = transfer.export(archivist, dossiers, out)
    db.session.commit()
    return summary


def _sidecars(package: Path) -> list[Path]:
    return sorted(package.rglob("*.mdto.xml"))


def test_package_of_a_dossier_validates_against_the_mdto_schema(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    summary = _export(archivist, [filled], package)

    # 5 versions of 4 documents: each an archiefstuk; files: 5 originals, 4 PDF/A renditions
    # (two contract versions, the Word annex and the letter; not the PDF), the audit trail.
    assert summary.archiefstukken == 5
    assert (summary.renditions, summary.files) == (4, 5 + 4 + 1)
    schema = etree.XMLSchema(etree.parse(str(mdto.SCHEMA_FILE)))
    sidecars = _sidecars(package)
    for sidecar in sidecars:
        tree = etree.parse(str(sidecar))
        assert schema.validate(tree), (sidecar, schema.error_log)
    informatieobjecten = [s for s in sidecars if not s.name.endswith(".bestand.mdto.xml")]
    assert len(informatieobjecten) == 1 + 5
    assert len(sidecars) - len(informatieobjecten) == summary.files
    assert transfer_verify.verify(package) == []

    root = etree.parse(str(package / "data" / "MDTO-001" / "MDTO-001.mdto.xml"))
    io_ = root.find("m:informatieobject", NS)
    assert io_.findtext("m:aggregatieniveau/m:begripLabel", namespaces=NS) == "Dossier"
    assert io_.findtext("m:waardering/m:begripCode", namespaces=NS) == "V"
    assert io_.findtext("m:bewaartermijn/m:termijnLooptijd", namespaces=NS) == "P10Y"
    assert io_.findtext("m:bewaartermijn/m:termijnEinddatum", namespaces=NS) == "2033-03-31"
    assert io_.findtext("m:informatiecategorie/m:begripCode", namespaces=NS) == "16.1"
    assert io_.findtext("m:archiefvormer/m:verwijzingNaam", namespaces=NS) == "Gemeente Voorbeeld"
    assert (
        io_.findtext("m:omschrijving", namespaces=NS) == "Levering van kantoorartikelen <en> meer"
    )
    assert io_.findtext("m:dekkingInTijd/m:dekkingInTijdBegindatum", namespaces=NS) == "2019-04-01"
    assert len(io_.findall("m:bevatOnderdeel", NS)) == 5
    actor = io_.find("m:betrokkene/m:betrokkeneActor", NS)
    assert actor.findtext("m:verwijzingIdentificatie/m:identificatieKenmerk", namespaces=NS) == (
        "12345678"
    )


def test_every_version_is_an_archiefstuk_with_its_original_and_a_pdfa_rendition(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _export(archivist, [filled], package)
    contract = db.session.scalar(
        sa.select(Document).where(
            Document.dossier_id == filled.id, Document.kind == DocumentKind.CONTRACT
        )
    )
    second = package / "data" / "MDTO-001" / f"MDTO-001-d{contract.id}-v2"
    original = second / "contract_v2.txt"
    assert original.read_bytes() == CONTRACT_V2.encode()  # the original, byte for byte
    piece = etree.parse(str(second / f"MDTO-001-d{contract.id}-v2.mdto.xml"))
    related = piece.find("m:informatieobject/m:gerelateerdInformatieobject", NS)
    assert (
        related.findtext(
            "m:gerelateerdInformatieobjectVerwijzing/m:verwijzingIdentificatie/m:identificatieKenmerk",
            namespaces=NS,
        )
        == f"MDTO-001/{contract.id}/1"
    )

    rendition = second / "contract_v2-pdfa.pdf"
    reader = PdfReader(rendition)
    assert _pdfa_identification(reader) == ("2", "B")
    # What PDF/A-2b needs beyond the claim: an output intent and every font embedded.
    intents = reader.trailer["/Root"]["/OutputIntents"]
    assert intents[0].get_object()["/S"] == "/GTS_PDFA1"
    fonts = [
        font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()
    ]
    assert fonts
    for font in fonts:
        descendants = font.get("/DescendantFonts")
        descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"]
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert "Artikel 2 Prijs" in "".join(page.extract_text() for page in reader.pages)

    facts = mdto.file_facts((second / "contract_v2-pdfa.pdf.bestand.mdto.xml").read_bytes())
    assert facts is not None
    assert facts.checksum == hashlib.sha256(rendition.read_bytes()).hexdigest()
    fmt = etree.parse(str(second / "contract_v2-pdfa.pdf.bestand.mdto.xml"))
    assert fmt.findtext("m:bestand/m:bestandsformaat/m:begripCode", namespaces=NS) == "fmt/477"
    # A PDF is durable already: no rendition beside it.
    report_dirs = [p for p in (package / "data" / "MDTO-001").iterdir() if p.is_dir()]
    assert sum(1 for d in report_dirs for f in d.glob("*-pdfa.pdf")) == 4
    pdf_dir = next(d for d in report_dirs if (d / "rapport.pdf").exists())
    assert not list(pdf_dir.glob("*-pdfa.pdf"))


PDFAID = "http://www.aiim.org/pdfa/ns/id/"


def _pdfa_identification(reader: PdfReader) -> tuple[str, str]:
    """The PDF/A part and conformance the file's XMP metadata claims (element or attribute)."""
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    xmp = etree.fromstring(raw)
    found = {}
    for name in ("part", "conformance"):
        element = xmp.find(f".//{{{PDFAID}}}{name}")
        if element is not None:
            found[name] = element.text
        for node in xmp.iter():
            if f"{{{PDFAID}}}{name}" in node.attrib:
                found[name] = node.attrib[f"{{{PDFAID}}}{name}"]
    return found.get("part", ""), found.get("conformance", "")


def test_the_audit_excerpt_carries_the_dossiers_events_with_their_hashes(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _export(archivist, [filled], package)
    events = json.loads((package / "data" / "MDTO-001" / "audit-trail.json").read_text("utf-8"))
    stored = db.session.scalars(
        sa.select(AuditEvent.hash)
        .where(
            AuditEvent.dossier_id == filled.id,
            AuditEvent.action.not_in([AuditAction.TRANSFER_EXPORT, AuditAction.VERSION_READ]),
        )
        .order_by(AuditEvent.id)
    ).all()
    assert [e["hash"] for e in events] == list(stored)
    # The confidential letter went into the package: its read is audited, as a download's.
    reads = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.VERSION_READ)
    ).all()
    assert [(e.actor_id, e.after["number"]) for e in reads] == [(archivist.id, 1)]
    assert all(transfer_verify.event_digest(e) == e["hash"] for e in events)
    export_events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.TRANSFER_EXPORT)
    ).all()
    assert [(e.dossier_id, e.actor_id) for e in export_events] == [(filled.id, archivist.id)]


def _flip(path: Path, offset: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_names_a_file_with_one_flipped_byte(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _export(archivist, [filled], package)
    target = next((package / "data" / "MDTO-001").rglob("rapport.pdf"))
    _flip(target)
    problems = transfer_verify.verify(package)
    rel = target.relative_to(package).as_posix()
    assert {p.path for p in problems} == {rel}
    messages = [p.message for p in problems]
    assert "SHA-256 does not match the manifest" in messages
    assert "SHA-256 differs from its MDTO sidecar" in messages


def test_verify_finds_a_missing_file_an_extra_file_and_an_edited_sidecar(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _export(archivist, [filled], package)
    removed = next(package.rglob("brief.txt"))
    removed.unlink()
    (package / "data" / "MDTO-001" / "extra.txt").write_text("untracked")
    problems = {(p.path, p.message) for p in transfer_verify.verify(package)}
    rel = removed.relative_to(package).as_posix()
    assert (rel, "listed in the manifest but missing") in problems
    assert ("data/MDTO-001/extra.txt", "present but not listed in the manifest") in problems
    assert (rel + ".bestand.mdto.xml", "describes " + rel[5:] + ", which is missing") in problems

    fresh = tmp_path / "fresh"
    _export(archivist, [filled], fresh)
    sidecar = fresh / "data" / "MDTO-001" / "MDTO-001.mdto.xml"
    sidecar.write_bytes(sidecar.read_bytes().replace(b"<waardering>", b"<waardering><x/>"))
    problems = transfer_verify.verify(fresh)
    assert [p.path for p in problems] == ["data/MDTO-001/MDTO-001.mdto.xml"] * len(problems)
    assert "SHA-256 does not match the manifest" in [p.message for p in problems]


def test_schema_errors_are_found_even_when_the_manifests_were_rewritten(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    """Someone edits a sidecar and regenerates the manifests: the schema still catches it,
    and a changed checksum in a sidecar no longer matches its file."""
    package = tmp_path / "package"
    _export(archivist, [filled], package)
    dossier_xml = package / "data" / "MDTO-001" / "MDTO-001.mdto.xml"
    text = dossier_xml.read_text("utf-8")
    dossier_xml.write_text(text.replace("<naam>", "<titel>").replace("</naam>", "</titel>"))
    file_xml = next(package.rglob("rapport.pdf.bestand.mdto.xml"))
    facts = mdto.file_facts(file_xml.read_bytes())
    assert facts is not None
    file_xml.write_text(file_xml.read_text("utf-8").replace(facts.checksum, "0" * 64))
    trail = package / "data" / "MDTO-001" / "audit-trail.json"
    events = json.loads(trail.read_text("utf-8"))
    events[0]["actor_label"] = "someone-else@example.org"
    trail.write_text(json.dumps(events))
    bag = bagit.Bag(str(package))
    bag.save(manifests=True)

    problems = transfer_verify.verify(package)
    by_path: dict[str, list[str]] = {}
    for p in problems:
        by_path.setdefault(p.path, []).append(p.message)
    assert any("not valid MDTO 1.0.1" in m for m in by_path["data/MDTO-001/MDTO-001.mdto.xml"])
    pdf_rel = file_xml.relative_to(package).as_posix()[: -len(".bestand.mdto.xml")]
    assert by_path[pdf_rel] == ["SHA-256 differs from its MDTO sidecar"]
    # Its sidecar's size and checksum no longer agree either; the event is named.
    assert (
        f"audit event {events[0]['id']} does not match its hash"
        in (by_path["data/MDTO-001/audit-trail.json"])
    )


def test_a_zip_package_verifies_and_a_damaged_zip_is_reported(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    out = tmp_path / "overbrenging.zip"
    _export(archivist, [filled], out)
    assert transfer_verify.verify(out) == []
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert "bagit.txt" in names and "manifest-sha256.txt" in names
    assert "data/pakbon.json" in names
    damaged = tmp_path / "damaged.zip"
    shutil.copy(out, damaged)
    _flip(damaged, offset=damaged.stat().st_size // 2)  # inside a member's compressed data
    problems = transfer_verify.verify(damaged)
    assert [p.path for p in problems] == ["damaged.zip"]
    assert problems[0].message.startswith("cannot be read as a package")


def test_export_refuses_without_organisation_category_or_blob_and_leaves_nothing(
    app: Flask,
    filled: Dossier,
    archivist: User,
    make_dossier: Callable[..., Dossier],
    tmp_path: Path,
) -> None:
    out = tmp_path / "package"
    app.config["TRANSFER_ORGANISATION_NAME"] = ""
    with pytest.raises(transfer.TransferError, match="TRANSFER_ORGANISATION_NAME"):
        transfer.export(archivist, [filled], out)
    app.config["TRANSFER_ORGANISATION_NAME"] = "Gemeente Voorbeeld"

    records.set_category(archivist, filled, records.category_by_code("16.1"), "vastgesteld")
    db.session.commit()
    app.config["RETENTION_DEFAULTS"] = {}
    bare = make_dossier("MDTO-002")
    with pytest.raises(transfer.TransferError, match="MDTO-002 has no selection-list category"):
        transfer.export(archivist, [filled, bare], out)
    assert not out.exists()
    app.config["RETENTION_DEFAULTS"] = {"default": "16.1"}

    version = filled_version(filled)
    blob = Path(app.config["BLOB_ROOT"])
    for path in blob.rglob(version.blob_key + "*"):
        path.chmod(0o600)
        path.unlink()
    with pytest.raises(transfer.TransferError, match="missing from the blob store"):
        transfer.export(archivist, [filled], out)
    assert not out.exists()
    assert list(tmp_path.glob(".transfer-*")) == []
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.TRANSFER_EXPORT)
    ).all()
    assert events == []


def test_a_dossier_on_an_approved_destruction_list_is_not_transferred(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    """Its documents are withdrawn for the grace period: the package would hold its metadata
    alone and verify as sound. Refused until the destruction is cancelled."""
    records.ensure_shipped_list()
    listing = records.propose(None, date(2034, 1, 1))  # 31 March 2023 + 10 years has passed
    assert listing is not None
    records.approve(archivist, listing, grace_days=30)
    db.session.commit()
    out = tmp_path / "package"
    with pytest.raises(transfer.TransferError, match="MDTO-001 is on an approved destruction"):
        transfer.export(archivist, [filled], out)
    assert not out.exists()
    records.cancel(archivist, listing, "alsnog overbrengen")
    db.session.commit()
    summary = _export(archivist, [filled], out)
    assert summary.files > 0


def filled_version(dossier: Dossier):  # type: ignore[no-untyped-def]
    document = db.session.scalar(
        sa.select(Document).where(
            Document.dossier_id == dossier.id, Document.kind == DocumentKind.REPORT
        )
    )
    return document.current_version


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (GlobalRole.ARCHIVIST, True),
        (GlobalRole.ADMIN, True),
        (GlobalRole.AUDITOR, False),
        (GlobalRole.PORTFOLIO, False),
        (GlobalRole.BEHEERDER, False),
        (None, False),
    ],
)
def test_who_may_export_transfer_packages(
    make_user: Callable[..., User], role: GlobalRole | None, allowed: bool
) -> None:
    user = make_user(f"mdto-{role or 'none'}@example.org", role)
    assert access.can_export_transfer(user) is allowed


# The command line


@pytest.fixture
def invoke(app: Flask) -> Callable[..., Result]:
    runner: FlaskCliRunner = app.test_cli_runner()

    def run(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


def test_cli_exports_verifies_and_reports_a_flipped_byte(
    filled: Dossier,
    archivist: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    invoke: Callable[..., Result],
    tmp_path: Path,
) -> None:
    beheerder = make_user("mdto-beheerder@example.org", GlobalRole.BEHEERDER)
    make_dossier("MDTO-003", members={beheerder: MemberRole.BEHEERDER}, category="works")
    insured = make_dossier("MDTO-004", status="ended", end_on=date(2020, 1, 1))
    records.set_category(archivist, insured, records.category_by_code("16.1.5"), "verzekering")
    db.session.commit()
    out = tmp_path / "pkg"
    refused = invoke("transfer", "export", "MDTO-001", "--out", str(out), "--as", beheerder.email)
    assert refused.exit_code == 1
    assert "may not export transfer packages" in refused.output
    assert not out.exists()

    unknown = invoke("transfer", "export", "NOPE-1", "--out", str(out), "--as", archivist.email)
    assert unknown.exit_code == 1 and "no dossier NOPE-1" in unknown.output

    result = invoke(
        "transfer", "export", "--category", "16.1", "--ended", "--out", str(out),
        "--as", archivist.email, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    # MDTO-003 (works, also 16.1) is not ended; MDTO-004 ended but is 16.1.5.
    assert outcome["dossiers"] == ["MDTO-001"]
    assert outcome["archiefstukken"] == 5

    sound = invoke("transfer", "verify", str(out))
    assert sound.exit_code == 0 and "sound" in sound.output
    target = next(out.rglob("contract_v1.txt"))
    _flip(target, offset=3)
    faulty = invoke("transfer", "verify", str(out))
    assert faulty.exit_code == 1
    assert f"FAULT {target.relative_to(out).as_posix()}: SHA-256" in faulty.output


# The download on the dossier page


def test_an_archivist_downloads_the_package_of_a_dossier_as_a_zip(
    filled: Dossier,
    archivist: User,
    admin: User,
    make_user: Callable[..., User],
    client_for: Callable[[User | None], FlaskClient],
    tmp_path: Path,
) -> None:
    page = client_for(archivist).get(f"/dossiers/{filled.reference}")
    assert b'id="transfer-package"' in page.data
    beheerder = make_user("mdto-web-beheerder@example.org", GlobalRole.BEHEERDER)
    memberships.set_role(admin, filled, beheerder, MemberRole.BEHEERDER)
    db.session.commit()
    page = client_for(beheerder).get(f"/dossiers/{filled.reference}")
    assert page.status_code == 200 and b'id="transfer-package"' not in page.data
    refused = client_for(beheerder).post(f"/dossiers/{filled.reference}/transfer.zip")
    assert refused.status_code == 403

    response = client_for(archivist).post(f"/dossiers/{filled.reference}/transfer.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert "overbrenging-MDTO-001.zip" in response.headers["Content-Disposition"]
    package = tmp_path / "download.zip"
    package.write_bytes(response.get_data())
    response.close()
    assert transfer_verify.verify(package) == []
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.TRANSFER_EXPORT)
    ).all()
    assert [e.actor_id for e in events] == [archivist.id]


def test_the_download_explains_a_missing_organisation_and_audits_nothing(
    app: Flask,
    filled: Dossier,
    archivist: User,
    admin: User,
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    app.config["TRANSFER_ORGANISATION_NAME"] = ""
    client = client_for(archivist)
    response = client.post(f"/dossiers/{filled.reference}/transfer.zip")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "DOSSIER_TRANSFER_ORGANISATION_NAME" in page
    # The dossier page says what is missing instead of offering a download that cannot work:
    # to an archivist in words, to an administrator with the settings' names as well.
    assert 'action="/dossiers/' + filled.reference + '/transfer.zip"' not in page
    page = client.get(f"/dossiers/{filled.reference}").get_data(as_text=True)
    assert "Vraag dit aan de beheerder van Dossier" in page
    assert "DOSSIER_TRANSFER_ORGANISATION_NAME" not in page
    page = client_for(admin).get(f"/dossiers/{filled.reference}").get_data(as_text=True)
    assert "DOSSIER_TRANSFER_ORGANISATION_NAME" in page
    app.config["TRANSFER_ORGANISATION_NAME"] = "Gemeente Voorbeeld"
    page = client.get(f"/dossiers/{filled.reference}").get_data(as_text=True)
    assert 'action="/dossiers/' + filled.reference + '/transfer.zip"' in page
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.TRANSFER_EXPORT)
    ).all()


def test_a_document_with_a_category_of_its_own_carries_it_in_its_archiefstuk(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    letter = db.session.scalar(
        sa.select(Document).where(
            Document.dossier_id == filled.id, Document.kind == DocumentKind.CORRESPONDENCE
        )
    )
    records.set_document_category(archivist, letter, records.category_by_code("12.1.5"))
    db.session.commit()
    package = tmp_path / "package"
    _export(archivist, [filled], package)
    assert transfer_verify.verify(package) == []
    folder = package / "data" / "MDTO-001" / f"MDTO-001-d{letter.id}-v1"
    piece = etree.parse(str(folder / f"MDTO-001-d{letter.id}-v1.mdto.xml")).find(
        "m:informatieobject", NS
    )
    assert piece.findtext("m:informatiecategorie/m:begripCode", namespaces=NS) == "12.1.5"
    assert piece.findtext("m:bewaartermijn/m:termijnLooptijd", namespaces=NS) == "P7Y"
    restriction = piece.findtext(
        "m:beperkingGebruik/m:beperkingGebruikType/m:begripLabel", namespaces=NS
    )
    assert restriction == "Vertrouwelijk"
    other = package / "data" / "MDTO-001" / "MDTO-001.mdto.xml"
    dossier_xml = etree.parse(str(other)).find("m:informatieobject", NS)
    assert dossier_xml.findtext("m:informatiecategorie/m:begripCode", namespaces=NS) == "16.1"


def test_verify_refuses_symbolic_links_in_a_package(
    filled: Dossier, archivist: User, tmp_path: Path
) -> None:
    package = tmp_path / "package"
    _export(archivist, [filled], package)
    original = next(package.rglob("rapport.pdf"))
    outside = tmp_path / "outside.pdf"
    original.replace(outside)
    original.symlink_to(outside)
    problems = transfer_verify.verify(package)
    assert [(p.path, p.message) for p in problems] == [
        (original.relative_to(package).as_posix(), "is a symbolic link")
    ]


def test_a_dossier_too_large_for_a_request_is_sent_to_the_command_line(
    app: Flask, filled: Dossier, archivist: User, client_for: Callable[[User | None], FlaskClient]
) -> None:
    assert transfer.extent(filled)[0] == 5
    app.config["TRANSFER_WEB_MAX_VERSIONS"] = 4
    client = client_for(archivist)
    response = client.post(f"/dossiers/{filled.reference}/transfer.zip")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "dossier transfer export MDTO-001" in page
    app.config["TRANSFER_WEB_MAX_VERSIONS"] = 5
    app.config["TRANSFER_WEB_MAX_BYTES"] = transfer.extent(filled)[1] - 1
    assert client.post(f"/dossiers/{filled.reference}/transfer.zip").status_code == 303
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.TRANSFER_EXPORT)
    ).all()
