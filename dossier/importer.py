"""Importing folders of files into dossiers (the `dossier import` command's domain side)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from dossier import access, documents, dossiers
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.filenames import clean_filename
from dossier.models import Document, DocumentKind, DocumentVersion, Dossier, User

# A name that starts with "Bijlage 3.01 - ..." is an annex (of a tender, a contract, ...)
# whatever it is about: the annex "Overeenkomst" of a tender is not the signed contract.
_ANNEX_PREFIX = re.compile(r"^\W*(bijlage|annex|appendix|exhibit)\b")
# Words in a file name that tell what kind of document it is, checked in this order.
_KIND_HINTS = (
    (DocumentKind.AMENDMENT, r"wijziging|amendment|addendum"),
    (DocumentKind.CONTRACT, r"overeenkomst|contract|agreement"),
    # A "verslag" is minutes of a meeting, but a jaar-/kwartaal-/maandverslag is a report.
    (
        DocumentKind.MINUTES,
        r"notulen|minutes|(?<!jaar)(?<!kwartaal)(?<!maand)verslag|kennismaking",
    ),
    (DocumentKind.INVOICE, r"factuur|invoice"),
    (DocumentKind.REPORT, r"rapport|rapportage|report|verslag"),
    (DocumentKind.ANNEX, r"bijlage|annex|schedule|exhibit|appendix"),
)


def guess_kind(path: Path) -> DocumentKind:
    """A document kind from the file name; e-mails are correspondence."""
    if path.suffix.lower() in (".eml", ".msg"):
        return DocumentKind.CORRESPONDENCE
    name = path.stem.lower()
    if _ANNEX_PREFIX.search(name):
        return DocumentKind.ANNEX
    for kind, pattern in _KIND_HINTS:
        if re.search(pattern, name):
            return kind
    return DocumentKind.OTHER


def _reference_chars(folder: Path) -> str:
    decomposed = unicodedata.normalize("NFKD", folder.name)
    ascii_name = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-._")


def reference_for(folder: Path) -> str:
    """A dossier reference made from a folder name (letters, digits, - . _ ; at most 64).

    A longer name is cut after its last whole word that fits; `reference_shortened` tells.
    """
    cleaned = _reference_chars(folder)
    if len(cleaned) > dossiers.REFERENCE_MAX:
        cut = cleaned[: dossiers.REFERENCE_MAX + 1]
        boundary = max(cut.rfind(sep) for sep in "-._")
        cleaned = cut[:boundary] if boundary > 0 else cut[: dossiers.REFERENCE_MAX]
    return cleaned[: dossiers.REFERENCE_MAX].rstrip("-._") or "import"


def reference_shortened(folder: Path) -> bool:
    """Whether the folder name was too long to be the reference as a whole."""
    return len(_reference_chars(folder)) > dossiers.REFERENCE_MAX


def title_for(folder: Path) -> str:
    """A readable dossier title from a folder name: separators become spaces, first letter up."""
    words = re.sub(r"[-_\s]+", " ", folder.name).strip(" .")
    return (words[:1].upper() + words[1:])[:255] or reference_for(folder)


def plan(root: Path) -> list[tuple[Path, list[Path]]]:
    """Which files go into which dossier: the files of a folder are one dossier, and each
    subfolder is one dossier of its own. Hidden files and folders are skipped."""
    if not root.is_dir():
        raise DomainError(f"{root} is not a folder")
    files = _files(root)
    groups = [(root, files)] if files else []
    return groups + [(sub, _files(sub)) for sub in sorted(root.iterdir()) if _visible_dir(sub)]


def _visible_dir(path: Path) -> bool:
    return path.is_dir() and not path.name.startswith(".")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


@dataclass
class Outcome:
    filed: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def find_or_create_dossier(actor: User, folder: Path, reference: str | None) -> Dossier:
    """The dossier to import into: by reference, created from the folder name when new."""
    reference = reference or reference_for(folder)
    # References are unique ignoring case, so "abc-1" finds the dossier ABC-1.
    existing = db.session.scalar(
        sa.select(Dossier).where(sa.func.lower(Dossier.reference) == reference.lower())
    )
    if existing is not None:
        if not access.can_file(actor, existing):
            raise DomainError(f"{actor.email} may not file into dossier {existing.reference}")
        return existing
    if not access.can_create_dossier(actor):
        raise DomainError(f"{actor.email} may not register new dossiers")
    return dossiers.create_dossier(actor, {"reference": reference, "title": title_for(folder)})


def import_file(actor: User, dossier: Dossier, path: Path, kind: DocumentKind | None) -> str:
    """File one file: a new document, or a new version of the document filed from the same name.

    Returns "filed", "version" or "unchanged"; raises UploadRefused with the reason.
    """
    title = path.stem[:255]
    existing = db.session.scalar(
        sa.select(Document)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            Document.dossier_id == dossier.id,
            Document.withdrawn_at.is_(None),
            DocumentVersion.number == Document.current_version_number,
            DocumentVersion.original_filename == clean_filename(path.name),
        )
    )
    with path.open("rb") as stream, documents.receive(stream, path.name) as upload:
        if existing is None:
            documents.file_document(
                actor,
                dossier,
                upload,
                kind=kind or guess_kind(path),
                title=title,
                imported_from=str(path),
            )
            return "filed"
        current = existing.current_version
        if current is not None and current.blob_key == upload.staged.sha256:
            return "unchanged"
        documents.add_version(actor, existing, upload, imported_from=str(path))
        return "version"


def iter_targets(root: Path) -> Iterator[tuple[Path, Path]]:
    """Every (dossier folder, file) pair the import will handle, in order."""
    for folder, files in plan(root):
        for path in files:
            yield folder, path
