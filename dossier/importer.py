"""Importing folders of files into dossiers (the `dossier import` command's domain side)."""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from dossier import access, documents, dossiers
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import Document, DocumentKind, DocumentVersion, Dossier, User
from dossier.text import clean_line

# A name that starts with "Bijlage 3.01 - ..." is an annex (of a tender, a contract, ...)
# whatever it is about: the annex "Overeenkomst" of a tender is not the signed contract.
_ANNEX_PREFIX = re.compile(r"^\W*(bijlage|annex|appendix|exhibit)\b")
# Agreements of their own kind, annexed or not: checked first.
_AGREEMENT_HINTS = (
    (DocumentKind.PROCESSING_AGREEMENT, r"verwerkersovereenkomst|processing.agreement|\bdpa\b"),
    (DocumentKind.SLA, r"service.?level.?agreement|\bsla\b|\bdvo\b|dienstverleningsovereenkomst"),
)
_ABOUT_AN_AGREEMENT = re.compile(r"rapport|report|verslag|notulen|minutes|factuur|invoice")
# Words in a file name that tell what kind of document it is, checked in this order.
_KIND_HINTS = (
    (DocumentKind.AMENDMENT, r"wijziging|amendment|addendum"),
    (DocumentKind.EXECUTION_PLAN, r"uitvoeringsplan|execution.?plan|plan.van.aanpak"),
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
    # An SLA or processing agreement is one whether or not it is annexed to the contract (a
    # report or minutes about the SLA is not).
    if not _ABOUT_AN_AGREEMENT.search(name):
        for kind, pattern in _AGREEMENT_HINTS:
            if re.search(pattern, name):
                return kind
    if _ANNEX_PREFIX.search(name):
        return DocumentKind.ANNEX
    for kind, pattern in _KIND_HINTS:
        if re.search(pattern, name):
            return kind
    return DocumentKind.OTHER


def readable_name(name: str) -> str:
    """A file or folder name (or path) as text that can be stored and printed.

    The file system hands over bytes; a name that is not UTF-8 (an old Windows share writes
    Windows-1252) arrives with surrogate escapes, which neither the database nor a terminal
    takes. Such a name is read as Windows-1252 instead; a UTF-8 name is returned unchanged.
    """
    raw = os.fsencode(name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _reference_chars(folder: Path) -> str:
    decomposed = unicodedata.normalize("NFKD", readable_name(folder.name))
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
    words = re.sub(r"[-_\s]+", " ", clean_line(readable_name(folder.name))).strip(" .")
    return (words[:1].upper() + words[1:])[:255] or reference_for(folder)


# Why an entry of an imported folder is listed as refused instead of imported.
LINK_REFUSAL = "a symbolic link; links are never followed"
SPECIAL_REFUSAL = "not a regular file or folder"


@dataclass
class Plan:
    """What an import reads: the files per dossier folder, and the entries it will not read."""

    groups: list[tuple[Path, list[Path]]]
    refused: list[tuple[Path, str]]  # symbolic links and special files, with the reason


def scan(root: Path) -> Plan:
    """Which files go into which dossier: the files of a folder are one dossier, and each
    subfolder is one dossier of its own. Hidden files and folders are skipped.

    Nothing is followed: a symbolic link (to a file or a folder) and a special file (a pipe,
    a device) are listed as refused, so a link to a file outside the folder is never filed.
    """
    if not root.is_dir():
        raise DomainError(f"{readable_name(str(root))} is not a folder")
    files, folders, refused = _listing(root)
    groups = [(root, files)] if files else []
    for folder in folders:
        folder_files, _deeper, folder_refused = _listing(folder)
        groups.append((folder, folder_files))
        refused.extend(folder_refused)
    return Plan(groups, refused)


def plan(root: Path) -> list[tuple[Path, list[Path]]]:
    """The files per dossier folder that `scan` finds."""
    return scan(root).groups


def _listing(folder: Path) -> tuple[list[Path], list[Path], list[tuple[Path, str]]]:
    """The visible files, subfolders and refused entries of a folder, by name, without
    following any link (`os.scandir` answers from lstat)."""
    files: list[Path] = []
    folders: list[Path] = []
    refused: list[tuple[Path, str]] = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            path = folder / entry.name
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                refused.append((path, LINK_REFUSAL))
            elif entry.is_dir(follow_symlinks=False):
                folders.append(path)
            elif entry.is_file(follow_symlinks=False):
                files.append(path)
            else:
                refused.append((path, SPECIAL_REFUSAL))
    return files, folders, refused


def open_beneath(root: Path, path: Path) -> BinaryIO:
    """Open a listed file for reading without following a link anywhere below `root`.

    Every step from `root` down is opened with O_NOFOLLOW relative to the folder above it,
    so a file or folder swapped for a link after the listing is refused, not read.
    """
    parts = path.relative_to(root).parts
    if not parts:
        raise DomainError(SPECIAL_REFUSAL)
    folder_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            inner = _open_step(part, flags, folder_fd)
            os.close(folder_fd)
            folder_fd = inner
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        file_fd = _open_step(parts[-1], flags, folder_fd)
    finally:
        os.close(folder_fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise DomainError(SPECIAL_REFUSAL)
    return os.fdopen(file_fd, "rb")


def _open_step(name: str, flags: int, folder_fd: int) -> int:
    try:
        return os.open(name, flags, dir_fd=folder_fd)
    except OSError as exc:
        # O_NOFOLLOW on a link fails with ELOOP, or ENOTDIR together with O_DIRECTORY.
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, folder_fd):
            raise DomainError(LINK_REFUSAL) from exc
        raise


def _is_link(name: str, folder_fd: int) -> bool:
    try:
        mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
    except OSError:
        return False
    return stat.S_ISLNK(mode)


@dataclass
class Outcome:
    filed: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    # Files whose bytes the dossier already holds, with the document and version that has them.
    duplicates: list[tuple[str, str]] = field(default_factory=list)


class DuplicateFile(Exception):
    """The file's bytes are already in the dossier; the message names where."""


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


def import_file(
    actor: User,
    dossier: Dossier,
    path: Path,
    kind: DocumentKind | None,
    *,
    root: Path | None = None,
) -> str:
    """File one file: a new document, or a new version of the document filed from the same name.

    The file is opened without following links below `root` (default: its own folder).
    Returns "filed", "version" or "unchanged"; raises UploadRefused with the reason, and
    DuplicateFile when any version of any document in the dossier has the same bytes.
    """
    name = readable_name(path.name)
    with (
        open_beneath(root or path.parent, path) as stream,
        documents.receive(stream, name) as upload,
    ):
        existing = _document_named(dossier, upload.filename)
        current = existing.current_version if existing is not None else None
        if current is not None and current.blob_key == upload.staged.sha256:
            return "unchanged"
        same = documents.versions_with_content(dossier, upload.staged.sha256)
        if same:
            raise DuplicateFile(_where(same[0]))
        source = readable_name(str(path))
        if existing is None:
            documents.file_document(
                actor,
                dossier,
                upload,
                kind=kind or guess_kind(Path(upload.filename)),
                imported_from=source,
            )
            return "filed"
        documents.add_version(actor, existing, upload, imported_from=source)
        return "version"


def _document_named(dossier: Dossier, filename: str) -> Document | None:
    """The document of `dossier` whose current version was filed under this (cleaned) name."""
    return db.session.scalar(
        sa.select(Document)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(
            Document.dossier_id == dossier.id,
            Document.withdrawn_at.is_(None),
            DocumentVersion.number == Document.current_version_number,
            DocumentVersion.original_filename == filename,
        )
    )


def _where(version: DocumentVersion) -> str:
    document = version.document
    withdrawn = ", withdrawn" if document.withdrawn_at is not None else ""
    return (
        f"already in the dossier as {document.title!r} "
        f"(document {document.id}{withdrawn}), version {version.number}"
    )


def iter_targets(root: Path) -> Iterator[tuple[Path, Path]]:
    """Every (dossier folder, file) pair the import will handle, in order."""
    for folder, files in plan(root):
        for path in files:
            yield folder, path
