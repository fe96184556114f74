"""Performance as report tables, for pages, CSV/XLSX exports and `dossier report`: the KPIs of
every visible dossier, the supplier scorecard, and one dossier's measurements.

A measurement's report document is named only when the reader may read it: to everyone else
the column is empty, so not even the existence of a confidential report shows.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dossier import performance
from dossier.models import Dossier, Kpi, KpiMeasurement, User
from dossier.reports import Table


def _supplier(dossier: Dossier) -> str:
    return dossier.supplier.name if dossier.supplier else ""


def kpi_table(user: User, supplier_id: int | None = None) -> Table:
    """One row per KPI of the dossiers `user` may see, with its latest period and status."""
    table = Table(
        "kpis",
        _l("KPI status"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("kpi", _l("KPI")),
            ("norm", _l("Norm")),
            ("unit", _l("Unit")),
            ("kpi_direction", _l("Direction")),
            ("kpi_period", _l("Measurement period")),
            ("tolerance", _l("Tolerance (amber)")),
            ("last_period", _l("Last period")),
            ("last_value", _l("Last value")),
            ("rag_status", _l("Status")),
            ("periods", _l("Periods measured")),
            ("penalties", _l("Penalties")),
        ],
    )
    for kpi in performance.visible_kpis(user, supplier_id):
        last = performance.latest(kpi)
        table.rows.append(
            [
                kpi.dossier.reference,
                kpi.dossier.title,
                _supplier(kpi.dossier),
                kpi.name,
                float(kpi.norm),
                kpi.unit,
                kpi.direction.value,
                kpi.period.value,
                float(kpi.tolerance),
                performance.period_label(kpi.period, last.period_start) if last else "",
                float(last.value) if last else None,
                performance.kpi_status(kpi).value,
                len(kpi.measurements),
                performance.penalty_total(kpi.measurements),
            ]
        )
    return table


def scorecard_table(user: User, supplier_id: int | None = None) -> Table:
    """The supplier scorecard: per supplier, its KPIs by current status and its penalties."""
    table = Table(
        "scorecard",
        _l("Supplier scorecard"),
        [
            ("supplier", _l("Supplier")),
            ("dossiers", _l("Dossiers")),
            ("kpis", _l("KPIs")),
            ("green", _l("Green")),
            ("amber", _l("Amber")),
            ("red", _l("Red")),
            ("unmeasured", _l("Not measured")),
            ("measurements", _l("Periods measured")),
            ("penalties", _l("Penalties")),
        ],
    )
    for score in performance.scorecard(user, supplier_id):
        table.rows.append(
            [
                score.name,
                sorted(score.dossiers),
                score.kpis,
                score.green,
                score.amber,
                score.red,
                score.unmeasured,
                score.measurements,
                score.penalties,
            ]
        )
    return table


def measurement_table(user: User, dossier: Dossier, kpis: list[Kpi]) -> Table:
    """Every measurement of `kpis` (of `dossier`), oldest period first per KPI."""
    table = Table(
        "measurements",
        _l("Measurements"),
        [
            ("reference", _l("Reference")),
            ("kpi", _l("KPI")),
            ("norm", _l("Norm")),
            ("unit", _l("Unit")),
            ("period", _l("Period")),
            ("value", _l("Value")),
            ("rag_status", _l("Status")),
            ("report", _l("Report")),
            ("penalty", _l("Penalty")),
            ("penalty_note", _l("Penalty note")),
            ("note", _l("Note")),
        ],
    )
    measurements = [m for kpi in kpis for m in kpi.measurements]
    readable = performance.readable_document_ids(
        user, {m.document_id for m in measurements if m.document_id}
    )
    for kpi in kpis:
        for m in kpi.measurements:
            table.rows.append(
                [
                    dossier.reference,
                    kpi.name,
                    float(kpi.norm),
                    kpi.unit,
                    performance.period_label(kpi.period, m.period_start),
                    float(m.value),
                    performance.rag_status(kpi, m.value).value,
                    report_title(m, readable),
                    m.penalty_amount,
                    m.penalty_note,
                    m.note,
                ]
            )
    return table


def report_title(measurement: KpiMeasurement, readable: set[int]) -> str:
    """The title of the measurement's report; empty when there is none or the reader may not
    read it (confidential, or withdrawn since)."""
    if measurement.document_id not in readable or measurement.document is None:
        return ""
    return measurement.document.title
