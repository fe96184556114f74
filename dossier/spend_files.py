"""Reading spend files from the financial system (CSV or XLSX): headers, cells, and the
stable key of each line.

Column headers (case, accents, punctuation ignored; Dutch or English), see `HEADERS`:
supplier name, KvK number, creditor number, contract reference, invoice number, invoice date,
amount (euro excluding VAT, "1.234,56" or "1234.56"; a credit note is negative). "1.234" and
"1,234" are refused as ambiguous, never guessed.

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
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from dossier import dossiers
from dossier.errors import DomainError
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


def file_sha256(path: Path) -> str:
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
