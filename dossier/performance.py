"""Performance management (prestatiemanagement): agreeing KPIs on a dossier, recording what was
measured per period with the report it came from and any penalty, and the red/amber/green
status of each against its norm.

Status of a value against a KPI's norm, in the KPI's direction:
- green: the norm is met, exactly on the norm included;
- amber: on the wrong side of the norm by at most the KPI's tolerance (in its unit);
- red: further off than that;
- none: nothing measured yet (a KPI's status is that of its latest period).

Every list here is computed over `access.visible_dossiers(user)`; a measurement's report
document is named only to those who may read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from dossier import access, audit
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Document,
    Dossier,
    Kpi,
    KpiDirection,
    KpiMeasurement,
    KpiPeriod,
    Party,
    RagStatus,
    User,
)

MAX_NUMBER = Decimal("1e10")  # what Numeric(14, 4) holds
MAX_PENALTY = Decimal("1e12")  # what Numeric(14, 2) holds
_YEAR = r"(?P<year>\d{4})"
PERIOD_PATTERNS = {
    KpiPeriod.MONTH: re.compile(rf"{_YEAR}-(?P<month>\d{{1,2}})"),
    KpiPeriod.QUARTER: re.compile(rf"{_YEAR}-?[QK](?P<quarter>[1-4])", re.IGNORECASE),
    KpiPeriod.YEAR: re.compile(_YEAR),
}
PERIOD_EXAMPLE = {KpiPeriod.MONTH: "2026-03", KpiPeriod.QUARTER: "2026-Q1", KpiPeriod.YEAR: "2026"}


# Numbers and periods as people type them


def parse_number(text: str, limit: Decimal = MAX_NUMBER) -> Decimal:
    """A number typed with a decimal comma or point (99,5 or 99.5); the last of them is the
    decimal mark when both appear (1.234,5). Raises ValueError for anything else."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and "." in cleaned:
        mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        other = "." if mark == "," else ","
        cleaned = cleaned.replace(other, "").replace(mark, ".")
    else:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        raise ValueError(text)
    try:
        number = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if abs(number) >= limit:
        raise ValueError(text)
    return number


def parse_period(period: KpiPeriod, text: str) -> date:
    """The first day of the period `text` names (2026-03, 2026-Q1 or 2026-K1, 2026)."""
    found = PERIOD_PATTERNS[period].fullmatch(text.strip())
    if found is None:
        raise ValueError(text)
    year = int(found["year"])
    if not 1900 <= year <= 2200:
        raise ValueError(text)
    if period == KpiPeriod.MONTH:
        month = int(found["month"])
        if not 1 <= month <= 12:
            raise ValueError(text)
        return date(year, month, 1)
    if period == KpiPeriod.QUARTER:
        return date(year, 3 * int(found["quarter"]) - 2, 1)
    return date(year, 1, 1)


def period_label(period: KpiPeriod, start: date) -> str:
    if period == KpiPeriod.MONTH:
        return f"{start.year}-{start.month:02d}"
    if period == KpiPeriod.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


# Status


def rag_status(kpi: Kpi, value: Decimal | None) -> RagStatus:
    """How `value` scores against `kpi`'s norm (see the module's docstring)."""
    if value is None:
        return RagStatus.NONE
    shortfall = kpi.norm - value if kpi.direction == KpiDirection.HIGHER else value - kpi.norm
    if shortfall <= 0:
        return RagStatus.GREEN
    if shortfall <= (kpi.tolerance or 0):
        return RagStatus.AMBER
    return RagStatus.RED


def latest(kpi: Kpi) -> KpiMeasurement | None:
    return kpi.measurements[-1] if kpi.measurements else None


def kpi_status(kpi: Kpi) -> RagStatus:
    """The status of the latest period measured, or none."""
    last = latest(kpi)
    return rag_status(kpi, last.value if last else None)


def penalty_total(measurements: list[KpiMeasurement]) -> Decimal:
    return sum((m.penalty_amount or Decimal(0) for m in measurements), Decimal("0.00"))


# Changes (each audited; the caller commits)


KPI_FIELDS = ("name", "description", "norm", "unit", "direction", "period", "tolerance")


def plain(number: Decimal | None) -> str | None:
    """A number as text without trailing zeros or exponent (99.1000 and 99.1 read alike)."""
    return None if number is None else f"{number.normalize():f}"


def _fits(number: Decimal, limit: Decimal) -> bool:
    """Whether `number` is finite and fits its column (a larger one would overflow there)."""
    return number.is_finite() and abs(number) < limit


def _kpi_values(kpi: Kpi) -> dict[str, Any]:
    values = {field: getattr(kpi, field) for field in KPI_FIELDS}
    return {k: plain(v) if isinstance(v, Decimal) else v for k, v in values.items()}


def _check_kpi(dossier: Dossier, values: dict[str, Any], kpi: Kpi | None = None) -> None:
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = str(_l("Give the KPI a name."))
    else:
        query = sa.select(Kpi.id).where(Kpi.dossier_id == dossier.id, Kpi.name == name)
        if kpi is not None:
            query = query.where(Kpi.id != kpi.id)
        if db.session.scalar(query) is not None:
            errors["name"] = str(_l("This dossier already has a KPI with this name."))
    if values.get("norm") is None or not _fits(values["norm"], MAX_NUMBER):
        errors["norm"] = str(_l("Give the norm as a number."))
    tolerance = values.get("tolerance")
    if tolerance is not None and (tolerance < 0 or not _fits(tolerance, MAX_NUMBER)):
        errors["tolerance"] = str(_l("The tolerance cannot be negative."))
    if errors:
        raise ValidationError(errors)


def create_kpi(actor: User, dossier: Dossier, values: dict[str, Any]) -> Kpi:
    """Agree a KPI on `dossier`: name, norm, unit, direction, period, tolerance for amber."""
    _check_kpi(dossier, values)
    kpi = Kpi(
        dossier=dossier,
        name=values["name"].strip(),
        description=values.get("description") or "",
        norm=values["norm"],
        unit=(values.get("unit") or "").strip(),
        direction=KpiDirection(values["direction"]),
        period=KpiPeriod(values["period"]),
        tolerance=values.get("tolerance") or Decimal(0),
        created_by_id=actor.id,
    )
    db.session.add(kpi)
    db.session.flush()
    audit.record(
        actor, AuditAction.KPI_CREATE, "kpi", kpi.id, dossier_id=dossier.id, after=_kpi_values(kpi)
    )
    return kpi


def update_kpi(actor: User, kpi: Kpi, values: dict[str, Any]) -> bool:
    """Correct a KPI's details (its period stays: measurements are kept per period)."""
    _check_kpi(kpi.dossier, values, kpi)
    before = _kpi_values(kpi)
    kpi.name = values["name"].strip()
    kpi.description = values.get("description") or ""
    kpi.norm = values["norm"]
    kpi.unit = (values.get("unit") or "").strip()
    kpi.direction = KpiDirection(values["direction"])
    kpi.tolerance = values.get("tolerance") or Decimal(0)
    after = _kpi_values(kpi)
    changed = {k: v for k, v in after.items() if before[k] != v}
    if not changed:
        return False
    db.session.flush()
    audit.record(
        actor,
        AuditAction.KPI_UPDATE,
        "kpi",
        kpi.id,
        dossier_id=kpi.dossier_id,
        before={k: before[k] for k in changed},
        after=changed,
    )
    return True


def _measurement_values(kpi: Kpi, measurement: KpiMeasurement) -> dict[str, Any]:
    return {
        "kpi": kpi.name,
        "period": period_label(kpi.period, measurement.period_start),
        "value": plain(measurement.value),
        "document_id": measurement.document_id,
        "penalty_amount": plain(measurement.penalty_amount),
        "penalty_note": measurement.penalty_note,
        "note": measurement.note,
        "status": rag_status(kpi, measurement.value).value,
    }


def record_measurement(actor: User, kpi: Kpi, values: dict[str, Any]) -> KpiMeasurement:
    """Record (or correct) the value of one period: `values` holds `period` (text such as
    2026-Q1), `value`, optionally `document_id` (a report of the same dossier `actor` may
    read), `penalty_amount` (euro), `penalty_note` and `note`."""
    errors: dict[str, str] = {}
    try:
        start = parse_period(kpi.period, values.get("period") or "")
    except ValueError:
        start = None
        errors["period"] = str(
            _l("Write the period as %(example)s.", example=PERIOD_EXAMPLE[kpi.period])
        )
    if values.get("value") is None or not _fits(values["value"], MAX_NUMBER):
        errors["value"] = str(_l("Give the measured value as a number."))
    penalty = values.get("penalty_amount")
    if penalty is not None and penalty < 0:
        errors["penalty_amount"] = str(_l("A penalty cannot be negative."))
    elif penalty is not None and not _fits(penalty, MAX_PENALTY):
        errors["penalty_amount"] = str(_l("This amount is too large."))
    document = _report_document(actor, kpi.dossier, values.get("document_id"), errors)
    if errors:
        raise ValidationError(errors)
    measurement = db.session.scalar(
        sa.select(KpiMeasurement).where(
            KpiMeasurement.kpi_id == kpi.id, KpiMeasurement.period_start == start
        )
    )
    before = _measurement_values(kpi, measurement) if measurement else None
    if measurement is None:
        measurement = KpiMeasurement(kpi=kpi, period_start=start)
        db.session.add(measurement)
    measurement.value = values["value"]
    measurement.document_id = document.id if document else None
    measurement.penalty_amount = penalty
    measurement.penalty_note = values.get("penalty_note") or ""
    measurement.note = values.get("note") or ""
    measurement.recorded_by_id = actor.id
    db.session.flush()
    db.session.refresh(kpi, ["measurements"])
    audit.record(
        actor,
        AuditAction.KPI_MEASURE,
        "kpi",
        kpi.id,
        dossier_id=kpi.dossier_id,
        before=before,
        after=_measurement_values(kpi, measurement),
    )
    return measurement


def _report_document(
    actor: User, dossier: Dossier, document_id: int | None, errors: dict[str, str]
) -> Document | None:
    if not document_id:
        return None
    found = access.readable_documents(actor, dossier, {document_id})
    if not found:
        errors["document_id"] = str(_l("Choose a document of this dossier."))
        return None
    return found[0]


# Reading


def dossier_kpis(dossier: Dossier) -> list[Kpi]:
    """The KPIs of a dossier the caller has already checked the user may see."""
    query = (
        sa.select(Kpi)
        .where(Kpi.dossier_id == dossier.id)
        .order_by(Kpi.name, Kpi.id)
        .options(orm.selectinload(Kpi.measurements))
    )
    return list(db.session.scalars(query))


def get_kpi(dossier: Dossier, kpi_id: int) -> Kpi | None:
    """A KPI looked up through its dossier, never by its id alone."""
    return db.session.scalar(sa.select(Kpi).where(Kpi.id == kpi_id, Kpi.dossier_id == dossier.id))


def report_documents(user: User, dossier: Dossier) -> list[Document]:
    """The documents of `dossier` that `user` may read, to pick a measurement's report from."""
    query = access.visible_documents(user).where(Document.dossier_id == dossier.id)
    return list(db.session.scalars(query.order_by(Document.document_date.desc(), Document.id)))


def readable_document_ids(user: User, document_ids: set[int]) -> set[int]:
    """Those of `document_ids` that `user` may read (report links of measurements)."""
    if not document_ids:
        return set()
    query = access.visible_documents(user).with_only_columns(Document.id)
    return set(db.session.scalars(query.where(Document.id.in_(document_ids))))


def visible_kpis(user: User, supplier_id: int | None = None) -> list[Kpi]:
    """Every KPI of the dossiers `user` may see (of one supplier, when given)."""
    query = (
        sa.select(Kpi)
        .join(Dossier, Kpi.dossier_id == Dossier.id)
        .where(Dossier.id.in_(access.visible_dossier_ids(user)))
        .order_by(Dossier.reference, Kpi.name, Kpi.id)
        .options(
            orm.selectinload(Kpi.measurements),
            orm.contains_eager(Kpi.dossier).joinedload(Dossier.supplier),
        )
    )
    if supplier_id is not None:
        query = query.where(Dossier.supplier_id == supplier_id)
    return list(db.session.scalars(query))


@dataclass
class SupplierScore:
    """One supplier's performance over the contracts a user may see."""

    supplier: Party | None
    dossiers: set[str]
    kpis: int = 0
    measurements: int = 0
    green: int = 0
    amber: int = 0
    red: int = 0
    unmeasured: int = 0
    penalties: Decimal = Decimal("0.00")

    @property
    def name(self) -> str:
        return self.supplier.name if self.supplier else ""


def scorecard(user: User, supplier_id: int | None = None) -> list[SupplierScore]:
    """Per supplier: its KPIs by current status and the penalties recorded, over the dossiers
    `user` may see; suppliers without KPIs are left out."""
    scores: dict[int | None, SupplierScore] = {}
    for kpi in visible_kpis(user, supplier_id):
        supplier = kpi.dossier.supplier
        key = supplier.id if supplier else None
        score = scores.setdefault(key, SupplierScore(supplier=supplier, dossiers=set()))
        score.dossiers.add(kpi.dossier.reference)
        score.kpis += 1
        score.measurements += len(kpi.measurements)
        score.penalties += penalty_total(kpi.measurements)
        status = kpi_status(kpi)
        if status == RagStatus.NONE:
            score.unmeasured += 1
        else:
            setattr(score, status.value, getattr(score, status.value) + 1)
    return sorted(scores.values(), key=lambda s: (s.supplier is None, s.name.lower()))
