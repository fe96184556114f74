"""Importing actual spend from the financial system (CSV or XLSX), with a preview first.

A file is read whole (`preview`, through dossier/spend_files.py): every row becomes a line or a
message naming its row; a file with any bad row cannot be committed (fix the rows, upload
again), so nothing is half-imported. The preview waits in the database (any web node can commit
it); `commit` books the lines that no import booked yet, matched to our suppliers and contracts
by dossier/spend_matching.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import audit
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    SpendImport,
    SpendImportStatus,
    SpendLine,
    User,
    utcnow,
)
from dossier.spend_files import file_sha256, read_lines
from dossier.spend_matching import Resolver
from dossier.text import clean_line

PREVIEW_LINES = 500  # lines the preview page lists; its counts cover every line


@dataclass
class Preview:
    """What an import would do: the new lines with where they would go, and the bad rows."""

    spend_import: SpendImport
    lines: list[dict[str, Any]]
    errors: list[tuple[int, str]]
    ignored_columns: list[str]

    @property
    def can_commit(self) -> bool:
        return not self.errors and self.spend_import.status == SpendImportStatus.PENDING

    @property
    def counts(self) -> dict[str, int]:
        """Of the new lines: how many go to a contract, how many stay without, how many have a
        supplier no party matches."""
        return {
            "to_contract": sum(1 for line in self.lines if line["dossier"] is not None),
            "without_contract": sum(1 for line in self.lines if line["dossier"] is None),
            "unknown_supplier": sum(1 for line in self.lines if line["party"] is None),
        }


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    return audit.jsonable(values)


def _loaded(stored: dict[str, Any]) -> dict[str, Any]:
    values = dict(stored)
    values["invoice_date"] = date.fromisoformat(stored["invoice_date"])
    values["amount"] = Decimal(stored["amount"])
    return values


def known_keys(keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            db.session.scalars(sa.select(SpendLine.line_key).where(SpendLine.line_key.in_(chunk)))
        )
    return found


def preview(actor: User, path: Path, source: str, filename: str | None = None) -> Preview:
    """Read `path` and keep what committing it would book as a pending import."""
    source = clean_line(source).strip()[:64] or "finance"
    lines, errors, ignored, row_count = read_lines(path, source)
    known = known_keys(line["key"] for line in lines)
    new = [line for line in lines if line["key"] not in known]
    spend_import = SpendImport(
        source=source,
        filename=clean_line(filename or path.name)[:255],
        file_sha256=file_sha256(path),
        pending_lines=[_stored(line) for line in new] if not errors else [],
        errors=[[n, m] for n, m in errors],
        row_count=row_count,
        new_count=len(new),
        known_count=len(lines) - len(new),
        created_by_id=actor.id,
    )
    db.session.add(spend_import)
    db.session.flush()
    resolver = Resolver(source)
    return Preview(spend_import, [resolver.resolve(line) for line in new], errors, ignored)


def load_preview(spend_import: SpendImport) -> Preview:
    resolver = Resolver(spend_import.source)
    lines = [resolver.resolve(_loaded(line)) for line in spend_import.pending_lines or []]
    errors = [(int(n), str(m)) for n, m in spend_import.errors or []]
    return Preview(spend_import, lines, errors, [])


def commit(actor: User, spend_import: SpendImport) -> int:
    """Book the pending lines that no import booked meanwhile; returns how many were new.

    The import's row is locked first (PostgreSQL), so a double click commits once; two imports
    of overlapping files committed at the same moment meet the unique line key, and the caller
    rolls back and says so (an IntegrityError), never half of either.
    """
    db.session.refresh(spend_import, with_for_update=True)
    if spend_import.status != SpendImportStatus.PENDING:
        raise DomainError(_("This import was already committed or discarded."))
    if spend_import.errors:
        raise DomainError(
            _("The file has rows with errors; correct them and upload the file again.")
        )
    pending = [_loaded(line) for line in spend_import.pending_lines or []]
    known = known_keys(line["key"] for line in pending)
    booked = 0
    resolver = Resolver(spend_import.source)
    for values in pending:
        if values["key"] in known:
            continue
        party = resolver.party(values)
        dossier, attribution = resolver.dossier(values, party)
        db.session.add(
            SpendLine(
                line_key=values["key"],
                import_id=spend_import.id,
                source=spend_import.source,
                supplier_name=values["supplier_name"],
                kvk_number=values["kvk_number"],
                creditor_number=values["creditor_number"],
                contract_reference=values["contract_reference"],
                invoice_number=values["invoice_number"],
                invoice_date=values["invoice_date"],
                amount=values["amount"],
                party_id=party.id if party else None,
                dossier_id=dossier.id if dossier else None,
                attribution=attribution,
            )
        )
        booked += 1
    spend_import.known_count += spend_import.new_count - booked
    spend_import.new_count = booked
    spend_import.status = SpendImportStatus.COMMITTED
    spend_import.committed_at = utcnow()
    spend_import.pending_lines = []
    db.session.flush()
    audit.record(
        actor,
        AuditAction.SPEND_IMPORT,
        "spend_import",
        spend_import.id,
        after={
            "source": spend_import.source,
            "filename": spend_import.filename,
            "sha256": spend_import.file_sha256,
            "rows": spend_import.row_count,
            "new": booked,
            "already_imported": spend_import.known_count,
        },
    )
    return booked


def discard(spend_import: SpendImport) -> None:
    if spend_import.status == SpendImportStatus.PENDING:
        spend_import.status = SpendImportStatus.DISCARDED
        spend_import.pending_lines = []
        db.session.flush()


def get_import(import_id: int) -> SpendImport | None:
    return db.session.get(SpendImport, import_id)


def recent_imports(limit: int = 20) -> list[SpendImport]:
    query = sa.select(SpendImport).order_by(SpendImport.id.desc()).limit(limit)
    return list(db.session.scalars(query))
