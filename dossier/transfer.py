"""Transfer (overbrenging) packages in MDTO: a dossier, or several, exported for an archive.

A package is a BagIt bag (RFC 8493, written with the `bagit` library) whose payload follows the
Nationaal Archief's SIP specification (sidecar structure):

    bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
    data/pakbon.json                                  the packing slip: who, what, counts
    data/<reference>/<reference>.mdto.xml             the dossier (aggregatieniveau Dossier)
    data/<reference>/audit-trail.json                 the dossier's audit events, with hashes
    data/<reference>/audit-trail.json.bestand.mdto.xml
    data/<reference>/<reference>-d<id>-v<n>/          one archiefstuk per document version
        <reference>-d<id>-v<n>.mdto.xml
        <file name>                                   the original as filed
        <file name>.bestand.mdto.xml
        <file stem>-pdfa.pdf                          PDF/A-2b rendition of a text document
        <file stem>-pdfa.pdf.bestand.mdto.xml

dossier/mdto.py holds the mapping to MDTO; dossier/transfer_verify.py checks a package offline.
Every document that is not withdrawn goes in, confidential ones too: a transfer hands over the
whole record, and beperkingGebruik says what is confidential. A package is all or nothing: a
dossier without a selection-list category or a version whose blob is missing or damaged stops
the export with a message naming it, and nothing is left at the destination.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import bagit
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from dossier import audit, documents, mdto, pdf_rendering, records
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Document,
    DocumentVersion,
    Dossier,
    RetentionTrigger,
    SelectionCategory,
    User,
    Valuation,
    utcnow,
)
from dossier.transfer_verify import AUDIT_FILE, PACKING_SLIP
from storage import BlobNotFound

# File kinds whose extracted text gets a PDF/A rendition beside the original.
TEXT_KINDS = frozenset({"docx", "odt", "txt", "md", "eml", "msg"})
OWN_LIST = "Begrippenlijst Dossier"  # this application's begrippen MDTO has no list for
_UNSAFE = re.compile(r"[<>:\"/\\|?*#&\s\x00-\x1f\x7f]+")


class TransferError(DomainError):
    """The package cannot be made; the message names the dossier or file."""


@dataclass
class Summary:
    """What one export wrote."""

    path: Path
    dossiers: list[str] = field(default_factory=list)
    archiefstukken: int = 0
    files: int = 0
    renditions: int = 0
    payload_bytes: int = 0


def safe_name(name: str, fallback: str = "bestand") -> str:
    """A file or folder name the SIP specification allows: none of < > : " / \\ | ? * # &,
    no spaces or control characters, no leading dot, at most 200 characters."""
    cleaned = _UNSAFE.sub("_", name).lstrip(".")[:200]
    return cleaned or fallback


def organisation_name() -> str:
    """The archiefvormer's name (DOSSIER_TRANSFER_ORGANISATION_NAME); empty when not set."""
    return (current_app.config.get("TRANSFER_ORGANISATION_NAME") or "").strip()


def _settings() -> tuple[mdto.Ref, str]:
    config = current_app.config
    name = organisation_name()
    if not name:
        raise TransferError(
            _(
                "no archiefvormer is configured: set DOSSIER_TRANSFER_ORGANISATION_NAME (and, if "
                "known, DOSSIER_TRANSFER_ORGANISATION_ID) first"
            )
        )
    creator = mdto.Ref(
        name,
        (config.get("TRANSFER_ORGANISATION_ID") or "").strip(),
        (config.get("TRANSFER_ORGANISATION_ID_SOURCE") or "").strip() or "TOOI",
    )
    return creator, (config.get("TRANSFER_SOURCE_SYSTEM") or "Dossier").strip()


@dataclass
class _Context:
    creator: mdto.Ref
    source: str
    root: Path  # the payload folder being filled
    now: datetime
    summary: Summary


def _documents(dossier: Dossier) -> list[Document]:
    query = (
        sa.select(Document)
        .where(Document.dossier_id == dossier.id, Document.withdrawn_at.is_(None))
        .order_by(Document.id)
    )
    return list(db.session.scalars(query))


def extent(dossier: Dossier) -> tuple[int, int]:
    """The number of versions and their bytes a package of `dossier` would hold."""
    query = (
        sa.select(
            sa.func.count(DocumentVersion.id),
            sa.func.coalesce(sa.func.sum(DocumentVersion.size), 0),
        )
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.dossier_id == dossier.id, Document.withdrawn_at.is_(None))
    )
    versions, size = db.session.execute(query).one()
    return int(versions), int(size)


def _category(dossier: Dossier) -> SelectionCategory:
    if records.is_being_destroyed(dossier):
        # Its documents are withdrawn (or gone): a package would hold the metadata alone.
        raise TransferError(
            _(
                "dossier %(reference)s is on an approved destruction list: cancel the "
                "destruction before transferring it",
                reference=dossier.reference,
            )
        )
    category, _default = records.category_of(dossier)
    if category is None:
        raise TransferError(
            _(
                "dossier %(reference)s has no selection-list category: assign one first",
                reference=dossier.reference,
            )
        )
    return category


def _valuation(category: SelectionCategory) -> mdto.Term:
    if category.valuation == Valuation.KEEP:
        return mdto.Term("Blijvend te bewaren", mdto.VALUATION_LIST, "B")
    return mdto.Term("Tijdelijk te bewaren", mdto.VALUATION_LIST, "V")


_TRIGGERS = {
    RetentionTrigger.CONTRACT_END: "Einde overeenkomst",
    RetentionTrigger.DOSSIER_CLOSED: "Sluiting dossier",
    RetentionTrigger.DOCUMENT_DATE: "Documentdatum",
}


def _restrictions(confidential: bool, personal_data: bool) -> list[tuple[mdto.Term, str]]:
    found = [
        (
            mdto.Term("Vertrouwelijk", OWN_LIST, "vertrouwelijk"),
            "Alleen voor de beheerder, manager en eigenaar van het dossier.",
        )
        if confidential
        else (mdto.Term("Geen beperking", OWN_LIST, "normaal"), "")
    ]
    if personal_data:
        found.append((mdto.Term("Persoonsgegevens", OWN_LIST, "persoonsgegevens"), ""))
    return found


def _dossier_ref(dossier: Dossier, ctx: _Context) -> mdto.Ref:
    return mdto.Ref(dossier.title, dossier.reference, ctx.source)


def _piece_id(dossier: Dossier, document: Document, number: int) -> str:
    return f"{dossier.reference}/{document.id}/{number}"


def _piece_ref(
    dossier: Dossier, document: Document, version: DocumentVersion, ctx: _Context
) -> mdto.Ref:
    name = f"{document.title} (versie {version.number})"
    return mdto.Ref(name, _piece_id(dossier, document, version.number), ctx.source)


def _describe(ctx: _Context, path: Path, kind: str, represents: mdto.Ref, ident: str) -> mdto.Ref:
    """Write the bestand sidecar of a file already in the package, from its bytes on disk."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        head = stream.read(1024)
        digest.update(head)
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    size = path.stat().st_size
    ref = mdto.Ref(path.name, ident, ctx.source)
    facts = mdto.FileObject(
        identification=ref,
        size=size,
        file_format=mdto.file_format(kind, head),
        sha256=digest.hexdigest(),
        checked_at=ctx.now,
        url=path.relative_to(ctx.root).as_posix(),
        represents=represents,
    )
    path.with_name(f"{path.name}.bestand.mdto.xml").write_bytes(mdto.file_object_xml(facts))
    ctx.summary.files += 1
    ctx.summary.payload_bytes += size
    return ref


def _copy_blob(dossier: Dossier, version: DocumentVersion, target: Path) -> None:
    """Stream the version's blob to `target`; TransferError when it is missing or damaged."""
    from dossier import services

    digest = hashlib.sha256()
    try:
        with services.blob_store().open(version.blob_key) as source, target.open("wb") as out:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    except BlobNotFound as exc:
        raise TransferError(
            _(
                "dossier %(reference)s: the file of %(title)s version %(number)d is missing "
                "from the blob store",
                reference=dossier.reference,
                title=version.document.title,
                number=version.number,
            )
        ) from exc
    if digest.hexdigest() != version.blob_key:
        raise TransferError(
            _(
                "dossier %(reference)s: the file of %(title)s version %(number)d is damaged "
                "(its SHA-256 no longer matches)",
                reference=dossier.reference,
                title=version.document.title,
                number=version.number,
            )
        )


def _add_version(
    ctx: _Context,
    dossier: Dossier,
    document: Document,
    version: DocumentVersion,
    base: mdto.InformationObject,
) -> mdto.Ref:
    ref = _piece_ref(dossier, document, version, ctx)
    folder_name = safe_name(f"{dossier.reference}-d{document.id}-v{version.number}")
    folder = ctx.root / safe_name(dossier.reference) / folder_name
    folder.mkdir(parents=True)
    original = folder / safe_name(version.original_filename)
    _copy_blob(dossier, version, original)
    files = [_describe(ctx, original, version.file_kind, ref, f"{ref.kenmerk}/origineel")]
    if version.file_kind in TEXT_KINDS and (version.text or "").strip():
        pdf = pdf_rendering.text_rendition(document.title, version.text or "")
        rendition = folder / f"{original.stem}-pdfa.pdf"
        rendition.write_bytes(pdf)
        files.append(_describe(ctx, rendition, "pdfa-2b", ref, f"{ref.kenmerk}/pdfa"))
        ctx.summary.renditions += 1
    related = []
    if version.number > 1:
        previous = mdto.Ref(
            f"{document.title} (versie {version.number - 1})",
            _piece_id(dossier, document, version.number - 1),
            ctx.source,
        )
        related.append((previous, mdto.Term("Vorige versie", OWN_LIST, "vorige_versie")))
    valuation, retention, category = base.valuation, base.retention, base.category
    own = records.document_category(document)  # a category of its own, where the list allows
    if own is not None:
        valuation, category = _valuation(own), _category_term(ctx, own)
        retention = _retention(own, None, records.document_disposal_date(document))
    piece = mdto.InformationObject(
        identification=ref,
        level=mdto.Term("Archiefstuk", mdto.AGGREGATION_LIST),
        valuation=valuation,
        creator=ctx.creator,
        restrictions=_restrictions(document.is_confidential, dossier.personal_data),
        keywords=[document.kind.value],
        descriptions=[d for d in (version.comment,) if d],
        coverage=(
            (mdto.Term("Documentdatum", OWN_LIST), document.document_date, None)
            if document.document_date
            else None
        ),
        retention=retention,
        category=category,
        part_of=[_dossier_ref(dossier, ctx)],
        representations=files,
        related=related,
        involved=(
            [(mdto.Term("Correspondent", OWN_LIST), mdto.Ref(document.correspondent))]
            if document.correspondent
            else []
        ),
    )
    (folder / f"{folder_name}.mdto.xml").write_bytes(mdto.information_object_xml(piece))
    ctx.summary.archiefstukken += 1
    return ref


def audit_excerpt(dossier: Dossier) -> list[dict[str, object]]:
    """The dossier's audit events, oldest first, with every field their hash covers, so a
    receiver can recompute each event's hash (audit.digest_of)."""
    query = sa.select(AuditEvent).where(AuditEvent.dossier_id == dossier.id).order_by(AuditEvent.id)
    rows = []
    for event in db.session.scalars(query):
        rows.append({"id": event.id, **audit.hashed_fields(event), "hash": event.hash})
    return rows


def _category_term(ctx: _Context, category: SelectionCategory) -> mdto.Term:
    return mdto.Term(category.description, "Selectielijst " + ctx.creator.name, category.code)


def _retention(category: SelectionCategory, start: date | None, end: date | None) -> mdto.Retention:
    return mdto.Retention(
        trigger=mdto.Term(_TRIGGERS[category.trigger], OWN_LIST, category.trigger.value),
        start_on=start,
        years=category.retention_years if category.valuation == Valuation.DESTROY else None,
        end_on=end,
    )


def _dossier_object(ctx: _Context, dossier: Dossier) -> mdto.InformationObject:
    category = _category(dossier)
    start = records.retention_start(dossier)
    retention = _retention(category, start, records.disposal_date(dossier))
    involved = []
    if dossier.supplier is not None:
        supplier = dossier.supplier
        actor = mdto.Ref(
            supplier.name, supplier.kvk_number or "", "KvK" if supplier.kvk_number else ""
        )
        involved.append((mdto.Term("Contractpartij", OWN_LIST, "leverancier"), actor))
    coverage = None
    if dossier.start_on:
        coverage = (mdto.Term("Looptijd overeenkomst", OWN_LIST), dossier.start_on, dossier.end_on)
    keywords = list(dossier.tag_names)
    if dossier.category is not None:
        keywords.append(dossier.category.value)
    return mdto.InformationObject(
        identification=_dossier_ref(dossier, ctx),
        level=mdto.Term("Dossier", mdto.AGGREGATION_LIST),
        valuation=_valuation(category),
        creator=ctx.creator,
        restrictions=_restrictions(
            dossier.confidentiality.value == "confidential", dossier.personal_data
        ),
        keywords=keywords,
        descriptions=[dossier.description] if dossier.description else [],
        coverage=coverage,
        language="nl",
        retention=retention,
        category=_category_term(ctx, category),
        involved=involved,
    )


def _add_dossier(ctx: _Context, dossier: Dossier) -> None:
    base = _dossier_object(ctx, dossier)
    folder = ctx.root / safe_name(dossier.reference)
    folder.mkdir()
    for document in _documents(dossier):
        for version in sorted(document.versions, key=lambda v: v.number):
            base.parts.append(_add_version(ctx, dossier, document, version, base))
    trail = folder / AUDIT_FILE
    trail.write_text(json.dumps(audit_excerpt(dossier), indent=1, ensure_ascii=False), "utf-8")
    ident = f"{dossier.reference}/audittrail"
    trail_ref = _describe(ctx, trail, "json", base.identification, ident)
    base.additional_metadata.append(trail_ref)
    name = f"{safe_name(dossier.reference)}.mdto.xml"
    (folder / name).write_bytes(mdto.information_object_xml(base))
    ctx.summary.dossiers.append(dossier.reference)


def export(actor: User | None, dossiers: Sequence[Dossier], out: Path) -> Summary:
    """Write the transfer package of `dossiers` to `out` (a new folder, or a .zip file) and
    audit the export per dossier; the caller commits. TransferError leaves nothing behind."""
    if not dossiers:
        raise TransferError(_("no dossier to export"))
    if out.exists():
        raise TransferError(_("%(path)s already exists; choose a new path", path=str(out)))
    creator, source = _settings()
    for dossier in dossiers:
        _category(dossier)  # refuse before writing anything
    with tempfile.TemporaryDirectory(prefix=".transfer-", dir=out.parent) as work:
        bag_dir = Path(work) / "bag"
        bag_dir.mkdir()
        summary = Summary(out)
        ctx = _Context(creator, source, bag_dir, utcnow(), summary)
        for dossier in dossiers:
            _add_dossier(ctx, dossier)
        _write_packing_slip(ctx, actor)
        bagit.make_bag(str(bag_dir), _bag_info(ctx), processes=1, checksums=["sha256"])
        if out.suffix.lower() == ".zip":
            _zip(bag_dir, out)
        else:
            shutil.move(str(bag_dir), out)
    for dossier in dossiers:
        audit.record(
            actor,
            AuditAction.TRANSFER_EXPORT,
            "dossier",
            dossier.id,
            dossier_id=dossier.id,
            after={"package": out.name, "mdto": mdto.SCHEMA_VERSION},
        )
        # The package holds every version: a confidential one is read as by a download.
        for document in _documents(dossier):
            if document.is_confidential:
                for version in document.versions:
                    documents.record_read(actor, version)  # type: ignore[arg-type]
    return summary


def _write_packing_slip(ctx: _Context, actor: User | None) -> None:
    """pakbon.json: what the SIP specification asks a packing slip to state."""
    slip = {
        "mdto_version": mdto.SCHEMA_VERSION,
        "created_at": ctx.now.replace(microsecond=0).isoformat(),
        "archiefvormer": ctx.creator.name,
        "archiefvormer_id": ctx.creator.kenmerk,
        "source_system": ctx.source,
        "contact": actor.email if actor else "",
        "dossiers": ctx.summary.dossiers,
        "informatieobjecten": len(ctx.summary.dossiers) + ctx.summary.archiefstukken,
        "bestanden": ctx.summary.files,
        "renditions_pdfa": ctx.summary.renditions,
        "content_bytes": ctx.summary.payload_bytes,
        "audit_chain_head": _chain_head(),
    }
    (ctx.root / PACKING_SLIP).write_text(json.dumps(slip, indent=1, ensure_ascii=False), "utf-8")


def _chain_head() -> str:
    head = db.session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return head or audit.GENESIS


def _bag_info(ctx: _Context) -> dict[str, str]:
    return {
        "Source-Organization": ctx.creator.name,
        "External-Description": "MDTO "
        + mdto.SCHEMA_VERSION
        + " transfer package of "
        + ", ".join(ctx.summary.dossiers),
        "External-Identifier": ",".join(ctx.summary.dossiers),
        "Bagging-Software": "Dossier (dossier transfer export)",
    }


def _zip(bag_dir: Path, out: Path) -> None:
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bag_dir.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(bag_dir).as_posix())
    partial.replace(out)
