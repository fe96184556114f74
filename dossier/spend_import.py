"""Importing actual spend from the financial system (CSV or XLSX), with a preview first.

A file is read whole (`preview`): every row becomes a line or a message naming its row; a file
with any bad row cannot be committed (fix the rows, upload again), so nothing is half-imported.
`commit` books the lines an earlier import did not book yet.

Column headers (case, accents, punctuation ignored; Dutch or English), see `HEADERS`:
supplier name, KvK number, creditor number, contract reference, invoice number, invoice date,
amount (euro excluding VAT, "1.234,56" or "1234.56"; a credit note is negative).

The stable key of a line (`line_key`): the source (the financial system), the supplier as that
system knows it (creditor number, else KvK number, else the folded name), the invoice number,
the invoice date and the amount, plus the line's occurrence among identical lines of one file
(an invoice booked on two cost centres for the same amount is two lines). The same file, or an
overlapping export, imported again books nothing new.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import audit, dossiers
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Dossier,
    DossierStatus,
    Party,
    SpendAttribution,
    SpendImport,
    SpendImportStatus,
    SpendLine,
    SupplierKey,
    SupplierMapping,
    User,
    utcnow,
)
from dossier.spreadsheets import read_table
from dossier.text import clean_line, has_nul

FIELDS = (
    "supplier_name",
    "kvk_number",
    "creditor_number",
    "contract_reference",
    "invoice_number",
    "invoice_date",
    "amount",
)
# Every header the import reads, folded by `header_key`, and the field it fills.
HEADERS: dict[str, tuple[str, ...]] = {
    "supplier_name": (
        "supplier",
        "supplier name",
        "leverancier",
        "leveranciersnaam",
        "naam leverancier",
        "crediteur",
        "crediteurnaam",
        "naam crediteur",
        "relatie",
        "relatienaam",
    ),
    "kvk_number": ("kvk", "kvk number", "kvk nummer", "kvknummer", "kvk nr"),
    "creditor_number": (
        "creditor number",
        "creditor",
        "crediteurnummer",
        "crediteurnr",
        "crediteur nummer",
        "crediteur nr",
        "relatienummer",
        "vendor number",
    ),
    "contract_reference": (
        "contract reference",
        "contract",
        "contract number",
        "contractnummer",
        "contractreferentie",
        "contractkenmerk",
        "kenmerk contract",
        "dossier",
    ),
    "invoice_number": (
        "invoice number",
        "invoice",
        "factuurnummer",
        "factuur",
        "factuurnr",
        "boekstuknummer",
    ),
    "invoice_date": ("invoice date", "date", "factuurdatum", "datum", "boekdatum"),
    "amount": (
        "amount",
        "amount excl vat",
        "amount excluding vat",
        "bedrag",
        "bedrag excl btw",
        "nettobedrag",
        "netto bedrag",
    ),
}
REQUIRED = ("invoice_number", "invoice_date", "amount")
IDENTITY = ("supplier_name", "kvk_number", "creditor_number")
LENGTHS = {
    "supplier_name": 255,
    "creditor_number": 64,
    "contract_reference": 64,
    "invoice_number": 64,
}
# Statuses of a contract that was or is running: a draft or archived dossier takes no spend
# by itself (a line may still name it).
RUNNING = (DossierStatus.ACTIVE, DossierStatus.ENDED, DossierStatus.TERMINATED)
CENT = Decimal("0.01")


def header_key(header: str) -> str:
    decomposed = unicodedata.normalize("NFKD", header or "")
    text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def header_names() -> dict[str, str]:
    return {header_key(alias): name for name, aliases in HEADERS.items() for alias in aliases}


def fold_name(name: str) -> str:
    """A supplier's name as mappings match it: case, accents, punctuation and legal-form
    spacing ignored ("Acme B.V." is "acme bv")."""
    return header_key(name)


# Reading cells


class RowError(ValueError):
    pass


def parse_amount(value: Any) -> Decimal:
    """An amount in euros with at most two decimals; "1.234" and "1,234" are refused as
    ambiguous (a thousand or one), never guessed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError(_("the amount is empty"))
    if isinstance(value, bool):
        raise RowError(_("%(value)s is not an amount", value=repr(value)))
    if isinstance(value, int | float | Decimal):
        amount = Decimal(str(value))
    else:
        text = str(value).strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
        if re.fullmatch(r"-?\d{1,3}[.,]\d{3}", text):
            raise RowError(
                _(
                    "%(value)s is ambiguous: write 1.234,00 or 1234.00 for one thousand",
                    value=repr(value),
                )
            )
        try:
            amount = dossiers.coerce_decimal(text)
        except (InvalidOperation, ValueError):
            raise RowError(
                _("%(value)s is not an amount (write for example 1.234,56)", value=repr(value))
            ) from None
    if not amount.is_finite():
        raise RowError(_("%(value)s is not an amount", value=repr(value)))
    if amount != amount.quantize(CENT):
        raise RowError(_("%(value)s has more than two decimals", value=repr(value)))
    if abs(amount) >= Decimal("1e12"):
        raise RowError(_("%(value)s is too large", value=repr(value)))
    return amount.quantize(CENT)


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise RowError(_("the invoice date is empty"))
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowError(_("%(value)s is not a date (write 31-01-2026 or 2026-01-31)", value=repr(text)))


def parse_kvk(value: Any) -> str:
    if value is None or value == "":
        return ""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    text = re.sub(r"[\s.]", "", text)
    if not text:
        return ""
    if not text.isdigit() or len(text) > 8:
        raise RowError(_("%(value)s is not a KvK number (eight digits)", value=repr(value)))
    return text.zfill(8)  # a spreadsheet drops leading zeros of a number


def _text(value: Any, name: str) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an invoice number read as a number: 2026001.0 is "2026001"
    text = clean_line("" if value is None else str(value)).strip()
    if len(text) > LENGTHS[name]:
        raise RowError(
            _(
                "%(value)s… is longer than %(num)d characters",
                value=repr(text[:40]),
                num=LENGTHS[name],
            )
        )
    return text


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


def parse_row(row: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for header, name in columns.items():
        raw = row.get(header)
        if isinstance(raw, str) and has_nul(raw):
            raise RowError(
                _(
                    "%(column)s: holds a NUL character; save the file again as UTF-8 text",
                    column=header,
                )
            )
        try:
            if name == "amount":
                values[name] = parse_amount(raw)
            elif name == "invoice_date":
                values[name] = parse_date(raw)
            elif name == "kvk_number":
                values[name] = parse_kvk(raw)
            else:
                values[name] = _text(raw, name)
        except RowError as exc:
            raise RowError(f"{header}: {exc}") from None
    for name in FIELDS:
        values.setdefault(name, "")
    if not values["invoice_number"]:
        raise RowError(_("the invoice number is empty"))
    if not any(values[name] for name in IDENTITY):
        raise RowError(_("no supplier: give a name, KvK number or creditor number"))
    return values


def supplier_identity(values: dict[str, Any]) -> str:
    if values["creditor_number"]:
        return f"creditor:{values['creditor_number']}"
    if values["kvk_number"]:
        return f"kvk:{values['kvk_number']}"
    return f"name:{fold_name(values['supplier_name'])}"


def line_key(source: str, values: dict[str, Any], occurrence: int) -> str:
    parts = [
        source.strip().lower(),
        supplier_identity(values),
        values["invoice_number"],
        values["invoice_date"].isoformat(),
        str(values["amount"]),
        str(occurrence),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _columns(header: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    names = header_names()
    columns: dict[str, str] = {}
    ignored = []
    for cell in header:
        name = names.get(header_key(cell))
        if name is None or name in columns.values():
            ignored.append(cell)
        else:
            columns[cell] = name
    missing = [n for n in REQUIRED if n not in columns.values()]
    if not any(n in columns.values() for n in IDENTITY):
        missing.append("supplier_name / kvk_number / creditor_number")
    if missing:
        raise DomainError(
            _(
                "the file lacks the columns %(missing)s; recognised: %(found)s",
                missing=", ".join(missing),
                found=", ".join(columns) or "—",
            )
        )
    return columns, ignored


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_lines(
    path: Path, source: str
) -> tuple[list[dict[str, Any]], list[tuple[int, str]], list[str], int]:
    """The lines of a file with their keys, the bad rows, the ignored columns, the row count."""
    rows = list(read_table(path))
    if not rows:
        raise DomainError(_("%(name)s has no rows under its header", name=path.name))
    columns, ignored = _columns(rows[0][1].keys())
    lines: list[dict[str, Any]] = []
    errors: list[tuple[int, str]] = []
    seen: Counter[str] = Counter()
    for number, row in rows:
        try:
            values = parse_row(row, columns)
        except RowError as exc:
            errors.append((number, str(exc)))
            continue
        base = line_key(source, values, 0)
        seen[base] += 1
        values["key"] = line_key(source, values, seen[base] - 1)
        values["row"] = number
        lines.append(values)
    return lines, errors, ignored, len(rows)


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
        file_sha256=_file_sha256(path),
        pending_lines=[_stored(line) for line in new] if not errors else [],
        errors=[[n, m] for n, m in errors],
        row_count=row_count,
        new_count=len(new),
        known_count=len(lines) - len(new),
        created_by_id=actor.id,
    )
    db.session.add(spend_import)
    db.session.flush()
    return Preview(spend_import, [resolve(line, source) for line in new], errors, ignored)


def load_preview(spend_import: SpendImport) -> Preview:
    lines = [
        resolve(_loaded(line), spend_import.source) for line in spend_import.pending_lines or []
    ]
    errors = [(int(n), str(m)) for n, m in spend_import.errors or []]
    return Preview(spend_import, lines, errors, [])


# Matching suppliers and contracts


def find_party(source: str, values: dict[str, Any]) -> Party | None:
    """Our party for a line: a remembered mapping (creditor number, KvK, name), a party with
    the line's KvK number, or a party of exactly the line's name."""
    keys = []
    if values.get("creditor_number"):
        keys.append((SupplierKey.CREDITOR, source, values["creditor_number"]))
    if values.get("kvk_number"):
        keys.append((SupplierKey.KVK, "", values["kvk_number"]))
    if values.get("supplier_name"):
        keys.append((SupplierKey.NAME, "", fold_name(values["supplier_name"])))
    for kind, key_source, identifier in keys:
        mapping = db.session.scalar(
            sa.select(SupplierMapping).where(
                SupplierMapping.kind == kind,
                SupplierMapping.source == key_source,
                SupplierMapping.identifier == identifier,
            )
        )
        if mapping is not None:
            return mapping.party
    if values.get("kvk_number"):
        party = db.session.scalars(
            sa.select(Party).where(Party.kvk_number == values["kvk_number"]).order_by(Party.id)
        ).first()
        if party is not None:
            return party
    if values.get("supplier_name"):
        return db.session.scalar(
            sa.select(Party).where(sa.func.lower(Party.name) == values["supplier_name"].lower())
        )
    return None


def find_dossier(
    values: dict[str, Any], party: Party | None
) -> tuple[Dossier | None, SpendAttribution]:
    """The contract a line counts against: the one it names, else the supplier's only
    contract running on the invoice date, else none."""
    reference = values.get("contract_reference") or ""
    if reference:
        dossier = db.session.scalar(
            sa.select(Dossier).where(sa.func.lower(Dossier.reference) == reference.lower())
        )
        if dossier is not None:
            return dossier, SpendAttribution.REFERENCE
        return None, SpendAttribution.NONE
    if party is None:
        return None, SpendAttribution.NONE
    day = values["invoice_date"]
    running = list(
        db.session.scalars(
            sa.select(Dossier).where(
                Dossier.supplier_id == party.id,
                Dossier.status.in_(RUNNING),
                sa.or_(Dossier.start_on.is_(None), Dossier.start_on <= day),
                sa.or_(Dossier.end_on.is_(None), Dossier.end_on >= day),
            )
        )
    )
    if len(running) == 1:
        return running[0], SpendAttribution.ONLY_CONTRACT
    return None, SpendAttribution.NONE


def resolve(values: dict[str, Any], source: str) -> dict[str, Any]:
    """`values` with the party and dossier the line would go to (for the preview)."""
    party = find_party(source, values)
    dossier, attribution = find_dossier(values, party)
    return {**values, "party": party, "dossier": dossier, "attribution": attribution}


def commit(actor: User, spend_import: SpendImport) -> int:
    """Book the pending lines that no import booked meanwhile; returns how many were new."""
    if spend_import.status != SpendImportStatus.PENDING:
        raise DomainError(_("This import was already committed or discarded."))
    if spend_import.errors:
        raise DomainError(
            _("The file has rows with errors; correct them and upload the file again.")
        )
    pending = [_loaded(line) for line in spend_import.pending_lines or []]
    known = known_keys(line["key"] for line in pending)
    booked = 0
    for values in pending:
        if values["key"] in known:
            continue
        party = find_party(spend_import.source, values)
        dossier, attribution = find_dossier(values, party)
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


# Unknown suppliers


@dataclass
class UnknownSupplier:
    source: str
    creditor_number: str
    kvk_number: str
    supplier_name: str
    count: int
    total: Decimal


def unknown_suppliers() -> list[UnknownSupplier]:
    """The suppliers of booked lines that match none of our parties, largest total first."""
    columns = (
        SpendLine.source,
        SpendLine.creditor_number,
        SpendLine.kvk_number,
        SpendLine.supplier_name,
    )
    query = (
        sa.select(*columns, sa.func.count(), sa.func.sum(SpendLine.amount))
        .where(SpendLine.party_id.is_(None))
        .group_by(*columns)
    )
    found = [
        UnknownSupplier(s, c, k, n, count, Decimal(total or 0).quantize(CENT))
        for s, c, k, n, count, total in db.session.execute(query)
    ]
    return sorted(found, key=lambda u: (-u.total, u.supplier_name))


def map_supplier(
    actor: User, party: Party, source: str, creditor_number: str, kvk_number: str, name: str
) -> int:
    """Remember that this supplier of the financial system is `party` (by its creditor number,
    else its KvK number, else its name) and match the lines that are now known; returns how many
    lines found their party."""
    if creditor_number:
        kind, key_source, identifier = SupplierKey.CREDITOR, source, creditor_number
    elif kvk_number:
        kind, key_source, identifier = SupplierKey.KVK, "", kvk_number
    elif name.strip():
        kind, key_source, identifier = SupplierKey.NAME, "", fold_name(name)
    else:
        raise DomainError(_("Nothing identifies this supplier."))
    mapping = db.session.scalar(
        sa.select(SupplierMapping).where(
            SupplierMapping.kind == kind,
            SupplierMapping.source == key_source,
            SupplierMapping.identifier == identifier[:255],
        )
    )
    before = {"party": mapping.party.name} if mapping else None
    if mapping is None:
        mapping = SupplierMapping(
            kind=kind, source=key_source, identifier=identifier[:255], created_by_id=actor.id
        )
        db.session.add(mapping)
    mapping.party_id = party.id
    db.session.flush()
    db.session.expire(mapping, ["party"])
    matched, attributed = rematch()
    audit.record(
        actor,
        AuditAction.SPEND_SUPPLIER_MAP,
        "supplier_mapping",
        mapping.id,
        before=before,
        after={
            "key": kind.value,
            "source": key_source,
            "identifier": identifier,
            "party": party.name,
            "lines_matched": matched,
            "lines_to_contract": attributed,
        },
    )
    return matched


def rematch() -> tuple[int, int]:
    """Give lines without a party the party they now match, and lines without a contract the
    contract they now count against; returns (lines matched to a party, lines to a contract)."""
    matched = attributed = 0
    query = sa.select(SpendLine).where(
        sa.or_(SpendLine.party_id.is_(None), SpendLine.dossier_id.is_(None))
    )
    for line in db.session.scalars(query):
        values = {name: getattr(line, name) for name in FIELDS}
        if line.party_id is None:
            party = find_party(line.source, values)
            if party is None:
                continue
            line.party_id = party.id
            line.party = party
            matched += 1
        if line.dossier_id is None:
            dossier, attribution = find_dossier(values, line.party)
            if dossier is not None:
                line.dossier_id = dossier.id
                line.attribution = attribution
                attributed += 1
    db.session.flush()
    return matched, attributed
