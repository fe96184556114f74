"""The contract register as a spreadsheet: import (create or update dossiers) and export.

Column headers. Import reads each column by its machine key (`cpv_code`, `end_on`: the names
of `dossiers.FIELDS` and `DERIVED`), by its label (`LABELS`) in English and in every language
of the interface ("CPV code", "CPV-code"), or by a common Dutch register name (`ALIASES`),
ignoring case, accents, underscores and extra spaces; the derived dates are read and skipped.
The web export (`header_labels`) heads its columns with the labels in the user's language
(Dutch by default): it is meant for people, and imports back as it is. `dossier register
export` keeps the machine keys whatever `--lang` (which only chooses the CSV dialect): its
files feed scripts and diffs, so their header does not change with the language or with a
reworded label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from dossier import access, amendments, deadlines, dossiers
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    Category,
    Confidentiality,
    Dossier,
    DossierStatus,
    NoticeUnit,
    Procedure,
    User,
)
from dossier.spreadsheets import read_table, write_table
from dossier.text import clean_line, clean_text, has_nul

# Dutch column names that registers commonly use, mapped to our field names.
ALIASES = {
    "kenmerk": "reference",
    "referentie": "reference",
    "contractnummer": "reference",
    "titel": "title",
    "omschrijving": "description",
    "leverancier": "supplier",
    "kvk": "supplier_kvk",
    "kvk-nummer": "supplier_kvk",
    "afdeling": "client_department",
    "contracteigenaar": "owner",
    "contractmanager": "manager",
    "contractbeheerder": "beheerder",
    "ondertekend": "signed_on",
    "ingangsdatum": "start_on",
    "begindatum": "start_on",
    "einddatum": "end_on",
    "opties": "option_count",
    "optieduur": "option_months",
    "beslistermijn optie": "option_lead_months",
    "doorlooptijd aanbesteding": "tender_lead_months",
    "opzegtermijn": "notice_value",
    "eenheid opzegtermijn": "notice_unit",
    "stilzwijgende verlenging": "auto_renewal",
    "waarde": "value",
    "contractwaarde": "value",
    "jaarwaarde": "annual_value",
    "procedure": "procedure",
    "aanbestedingskenmerk": "tender_reference",
    "cpv": "cpv_code",
    "categorie": "category",
    "vertrouwelijkheid": "confidentiality",
    "bewaartermijn": "retention_years",
    "labels": "tags",
    "persoonsgegevens": "personal_data",
    "evaluatietermijn": "review_months",
}
# Derived columns the export writes and the import reads and skips: the running term's dates
# and the current value (initial value plus approved amendments, `amendments.current_value`).
DERIVED = ("notice_deadline", "max_end_on", "current_value")
COLUMNS = (*dossiers.FIELDS, *DERIVED)
# The label of each column: the dossier form's, and the register page's for the derived dates.
LABELS = {
    "reference": _l("Reference"),
    "title": _l("Title"),
    "description": _l("Description"),
    "supplier": _l("Supplier"),
    "supplier_kvk": _l("Supplier KvK number"),
    "client_department": _l("Client department"),
    "owner": _l("Contract owner"),
    "manager": _l("Contract manager"),
    "beheerder": _l("Contract administrator"),
    "status": _l("Status"),
    "signed_on": _l("Signed on"),
    "start_on": _l("Start date"),
    "end_on": _l("End date"),
    "option_count": _l("Renewal options left"),
    "option_months": _l("Length of each option (months)"),
    "option_lead_months": _l("Option decision: months before the end (empty: the default)"),
    "tender_lead_months": _l("New tender: months before the maximum end (empty: the default)"),
    "notice_value": _l("Notice period"),
    "notice_unit": _l("Notice period unit"),
    "auto_renewal": _l("Renews automatically"),
    "value": _l("Contract value (EUR, excl. VAT)"),
    "annual_value": _l("Annual value (EUR, excl. VAT)"),
    "procedure": _l("Procurement procedure"),
    "tender_reference": _l("Tender reference"),
    "cpv_code": _l("CPV code"),
    "category": _l("Category"),
    "confidentiality": _l("Confidentiality"),
    "retention_years": _l("Retention period (years)"),
    "personal_data": _l("The supplier processes personal data"),
    "review_months": _l("Review the execution plan every (months)"),
    "tags": _l("Tags (comma separated)"),
    "notice_deadline": _l("Notice deadline"),
    "max_end_on": _l("Maximum end date"),
    "current_value": _l("Current value (EUR, excl. VAT, with approved amendments)"),
}
_STATUS_NL = {
    "concept": "draft",
    "actief": "active",
    "lopend": "active",
    "afgelopen": "ended",
    "beeindigd": "ended",
    "opgezegd": "terminated",
    "gearchiveerd": "archived",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TRUE = {"1", "true", "yes", "ja", "y", "j", "x"}
_FALSE = {"0", "false", "no", "nee", "n", ""}


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


def _header_key(header: str) -> str:
    return " ".join(_fold(header).replace("_", " ").split())


def header_labels() -> list[str]:
    """The labels of `COLUMNS` in the active language, for an export meant for people."""
    return [str(LABELS[name]) for name in COLUMNS]


def header_names() -> dict[str, str]:
    """Every header import reads (as `_header_key` folds it), with the column it names.

    The first claim on a name wins: machine keys, then the Dutch aliases, then the labels in
    English and in each interface language (tests/dossier/test_register_io.py checks that no label
    names a second column).
    """
    names = {_header_key(name): name for name in COLUMNS}
    for alias, name in ALIASES.items():
        names.setdefault(_header_key(alias), name)
    languages = ["en", *(lang for lang in current_app.config["LANGUAGES"] if lang != "en")]
    for language in languages:  # English (the msgids) first
        with force_locale(language):
            for name, label in LABELS.items():
                names.setdefault(_header_key(str(label)), name)
    return names


def _column(header: str, names: dict[str, str]) -> str | None:
    return names.get(_header_key(header))


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use 2026-01-31 or 31-01-2026)")


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float | Decimal) and Decimal(str(value)).is_finite():
        return Decimal(str(value)).quantize(Decimal("0.01"))
    try:
        return dossiers.coerce_decimal(str(value)).quantize(Decimal("0.01"))
    except dossiers.AmbiguousAmount as exc:
        raise ValueError(
            f"{value!r} is unclear: {exc.thousands} or {exc.decimal}? "
            "Write thousands with a point and cents with a comma"
        ) from None
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


def _bool(value: Any) -> bool:
    text = _fold(str(value if value is not None else ""))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes or no")


def _enum(enum_cls: Any, synonyms: dict[str, str] | None = None) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value in (None, ""):
            return None
        text = _fold(str(value)).replace(" ", "_").replace("-", "_")
        text = (synonyms or {}).get(text, text)
        try:
            return enum_cls(text)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            raise ValueError(f"{value!r} is not one of: {allowed}") from None

    return parse


def _text(value: Any, clean: Callable[[str | None], str] = clean_line) -> str:
    """A cell as text, cleaned of control and bidi-override characters like form input."""
    text = clean("" if value is None else str(value)).strip()
    # Undo the apostrophe that export puts before formula-like text, so a round trip is exact.
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def _text_block(value: Any) -> str:
    """A multi-line cell (the description): its lines and tabs are kept."""
    return _text(value, clean_text)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "signed_on": _date,
    "start_on": _date,
    "end_on": _date,
    "option_count": _int,
    "option_months": _int,
    "option_lead_months": _int,
    "tender_lead_months": _int,
    "notice_value": _int,
    "retention_years": _int,
    "review_months": _int,
    "personal_data": _bool,
    "value": _decimal,
    "annual_value": _decimal,
    "auto_renewal": _bool,
    "status": _enum(DossierStatus, _STATUS_NL),
    "notice_unit": _enum(NoticeUnit, {"dagen": "days", "maanden": "months"}),
    "procedure": _enum(Procedure),
    "category": _enum(Category),
    "confidentiality": _enum(
        Confidentiality, {"normaal": "normal", "vertrouwelijk": "confidential"}
    ),
    "tags": lambda v: [t.strip() for t in _text(v).split(",") if t.strip()],
    "description": _text_block,
}
NUL_MESSAGE = "holds a NUL character; save the file again as UTF-8 text"


def parse_row(row: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """Domain values from one spreadsheet row; unknown columns are ignored.

    `names`: `header_names()`, when the caller reads many rows.
    """
    names = names if names is not None else header_names()
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for header, raw in row.items():
        name = _column(header or "", names)
        if name is None or name in DERIVED:
            continue
        if isinstance(raw, str) and has_nul(raw):
            # Refused, not stripped: a NUL means the file was read wrongly (UTF-16 as UTF-8).
            problems[header] = NUL_MESSAGE
            continue
        try:
            values[name] = PARSERS.get(name, _text)(raw)
        except ValueError as exc:
            problems[header] = str(exc)
    if problems:
        raise ValidationError(problems)
    if values.get("option_count") is None and "option_count" in values:
        values["option_count"] = 0
    return values


def import_register(actor: User, path: Path) -> ImportReport:
    """Create or update one dossier per row; a row that fails changes nothing at all."""
    report = ImportReport()
    rows = list(read_table(path))
    if not rows:
        raise DomainError(f"{path.name} has no rows under its header")
    names = header_names()
    for number, row in rows:
        try:
            with db.session.begin_nested():
                _import_row(actor, row, report, names)
        except (ValidationError, DomainError) as exc:
            report.errors.append((number, str(exc)))
        except (sa.exc.DataError, sa.exc.IntegrityError) as exc:
            # A value the database refuses (too long, too large) fails only its own row.
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "refused"
            report.errors.append((number, f"the database refused a value: {reason}"))
    return report


def _import_row(
    actor: User, row: dict[str, Any], report: ImportReport, names: dict[str, str]
) -> None:
    values = parse_row(row, names)
    reference = values.get("reference")
    if not reference:
        raise ValidationError({"reference": "every row needs a reference"})
    # References are unique ignoring case, so the row "abc-1" is the dossier ABC-1.
    dossier = db.session.scalar(
        sa.select(Dossier).where(sa.func.lower(Dossier.reference) == reference.lower())
    )
    if not values.get("beheerder"):
        # An empty cell names no one: a new dossier gets the importing user as its beheerder
        # (as create_dossier does when none is named), an existing one keeps its beheerder.
        values.pop("beheerder", None)
    if dossier is None:
        if not access.can_create_dossier(actor):
            raise DomainError("you may not register new dossiers")
        dossiers.create_dossier(actor, values)
        report.created.append(reference)
        return
    # The default actor of `dossier register import` is an administrator, who may make
    # themselves a member of any dossier anyway; other users need to be its beheerder.
    if not (actor.is_admin or access.can_edit_dossier(actor, dossier)):
        raise DomainError(f"you may not change dossier {reference}")
    if dossiers.update_dossier(actor, dossier, values):
        report.updated.append(reference)
    else:
        report.unchanged.append(reference)


def export_rows(actor: User) -> Iterator[list[Any]]:
    """Every visible dossier as a register row, derived dates last."""
    query = access.visible_dossiers(actor).order_by(Dossier.reference)
    return register_rows(db.session.scalars(query), deadlines.local_today())


def register_rows(rows: Iterable[Dossier], today: date) -> Iterator[list[Any]]:
    """Each dossier as a register row (the columns of FIELDS, then DERIVED, of the running
    term on `today`)."""
    rows = list(rows)
    holders = dossiers.people_of(d.id for d in rows)
    current = amendments.current_values(rows)
    for dossier in rows:
        snap = dossiers.snapshot(dossier, holders[dossier.id])
        derived = deadlines.running_dates(dossier, today)
        yield [snap[f] for f in dossiers.FIELDS] + [
            derived.notice_deadline,
            derived.max_end_on,
            current[dossier.id],
        ]


def export_register(actor: User, path: Path, locale: str = "en") -> int:
    """Write the register the actor may see to `path` (.csv or .xlsx); returns the row count.

    A CSV file follows `locale`'s Excel (Dutch: `;` and decimal commas); import reads both.
    The header holds the machine keys in every language (see the module's docstring).
    """
    rows = list(export_rows(actor))
    write_table(path, list(COLUMNS), rows, locale=locale)
    return len(rows)
