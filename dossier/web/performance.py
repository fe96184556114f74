"""Performance management pages: a dossier's KPIs with their status, one KPI's measurements and
trend, recording a period, the dossier's export, and the supplier scorecard."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from dossier import access, labels, performance, performance_tables
from dossier.charts import NARROW_POINTS, NARROW_WIDTH, trend_chart
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import Dossier, Kpi, Party
from dossier.web import int_arg
from dossier.web.performance_forms import KpiEditForm, KpiForm, MeasurementForm, format_number
from dossier.web.reports import EXPORT_TYPES, table_download

bp = Blueprint("performance", __name__)


def _kpi_or_404(dossier: Dossier, kpi_id: int) -> Kpi:
    return performance.get_kpi(dossier, kpi_id) or abort(404)


def _flash_errors(error: ValidationError, form: KpiForm | MeasurementForm) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


@bp.get("/dossiers/<reference>/performance")
@login_required
def index(reference: str, form: KpiForm | None = None) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    kpis = performance.dossier_kpis(dossier)
    return render_template(
        "performance/index.html",
        dossier=dossier,
        kpis=[
            (
                k,
                performance.latest(k),
                performance.kpi_status(k),
                performance.penalty_total(k.measurements),
            )
            for k in kpis
        ],
        penalties=performance.penalty_total([m for k in kpis for m in k.measurements]),
        form=form or KpiForm(),
        can_define=access.can_define_kpis(current_user, dossier),
        fmt=format_number,
        label=performance.period_label,
    )


@bp.post("/dossiers/<reference>/performance")
@login_required
def create_kpi(reference: str) -> str | Response | tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_define_kpis(current_user, dossier))
    form = KpiForm()
    if form.validate_on_submit():
        try:
            kpi = performance.create_kpi(current_user, dossier, form.data)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("KPI saved."), "success")
            return redirect(url_for(".kpi", reference=reference, kpi_id=kpi.id))
    return index(reference, form), 400


def _report_choices(dossier: Dossier) -> list[SelectChoice]:
    documents = performance.report_documents(current_user, dossier)
    return [SelectChoice("", "—")] + [SelectChoice(str(d.id), d.title) for d in documents]


def _kpi_page(
    dossier: Dossier, kpi: Kpi, form: MeasurementForm, edit: KpiEditForm | None = None
) -> str:
    form.document_id.choices = _report_choices(dossier)
    readable = performance.readable_document_ids(
        current_user, {m.document_id for m in kpi.measurements if m.document_id}
    )
    rows = [
        (m, performance.rag_status(kpi, m.value), performance_tables.report_title(m, readable))
        for m in reversed(kpi.measurements)
    ]
    return render_template(
        "performance/kpi.html",
        dossier=dossier,
        kpi=kpi,
        rows=rows,
        readable=readable,
        status=performance.kpi_status(kpi),
        penalties=performance.penalty_total(kpi.measurements),
        chart=_chart(kpi),
        form=form,
        edit=edit or KpiEditForm(obj=kpi),
        example=performance.PERIOD_EXAMPLE[kpi.period],
        can_record=access.can_record_performance(current_user, dossier),
        can_define=access.can_define_kpis(current_user, dossier),
        fmt=format_number,
        label=performance.period_label,
    )


def _chart(kpi: Kpi) -> Markup | None:
    if not kpi.measurements:
        return None
    unit = f" {kpi.unit}" if kpi.unit else ""
    columns = [
        (
            performance.period_label(kpi.period, m.period_start),
            float(m.value),
            f"{format_number(m.value)}{unit}",
            performance.rag_status(kpi, m.value).value,
        )
        for m in kpi.measurements
    ]
    norm = _("norm %(value)s", value=f"{format_number(kpi.norm)}{unit}")
    title = _("Trend of %(name)s", name=kpi.name)

    def scale(value: float) -> str:
        return format_number(Decimal(f"{value:.2f}"))

    # A laptop's chart and a phone's narrower twin; app.css shows the one that fits.
    wide = trend_chart(title, columns, float(kpi.norm), norm, scale, css="chart-wide")
    narrow = trend_chart(
        title,
        columns,
        float(kpi.norm),
        norm,
        scale,
        width=NARROW_WIDTH,
        max_points=NARROW_POINTS,
        css="chart-narrow",
    )
    return wide + narrow


@bp.get("/dossiers/<reference>/performance/<int:kpi_id>")
@login_required
def kpi(reference: str, kpi_id: int) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    return _kpi_page(dossier, _kpi_or_404(dossier, kpi_id), MeasurementForm())


@bp.post("/dossiers/<reference>/performance/<int:kpi_id>")
@login_required
def update_kpi(reference: str, kpi_id: int) -> str | Response | tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = _kpi_or_404(dossier, kpi_id)
    access.require(access.can_define_kpis(current_user, dossier))
    form = KpiEditForm()
    if form.validate_on_submit():
        try:
            changed = performance.update_kpi(current_user, item, form.data)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("KPI saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for(".kpi", reference=reference, kpi_id=kpi_id))
    db.session.refresh(item)
    return _kpi_page(dossier, item, MeasurementForm(formdata=None), form), 400


@bp.post("/dossiers/<reference>/performance/<int:kpi_id>/measurements")
@login_required
def measure(reference: str, kpi_id: int) -> str | Response | tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = _kpi_or_404(dossier, kpi_id)
    access.require(access.can_record_performance(current_user, dossier))
    form = MeasurementForm()
    form.document_id.choices = _report_choices(dossier)
    if form.validate_on_submit():
        values = {**form.data, "document_id": int(form.document_id.data or 0) or None}
        try:
            performance.record_measurement(current_user, item, values)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("Measurement saved."), "success")
            return redirect(url_for(".kpi", reference=reference, kpi_id=kpi_id))
    item = _kpi_or_404(dossier, kpi_id)
    return _kpi_page(dossier, item, form), 400


@bp.get("/dossiers/<reference>/performance/export.<kind>")
@login_required
def export(reference: str, kind: str) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    if kind not in EXPORT_TYPES:
        abort(404)
    table = performance_tables.measurement_table(
        current_user, dossier, performance.dossier_kpis(dossier)
    )
    name = f"kpis-{dossier.reference}"
    return table_download(kind, name, table.headings, labels.report_rows(table))


@bp.get("/performance")
@login_required
def scorecard() -> str:
    supplier_id = int_arg("supplier")
    supplier = db.session.get(Party, supplier_id) if supplier_id else None
    scores = performance.scorecard(current_user, supplier.id if supplier else None)
    if supplier is not None and not scores:
        supplier = None  # a supplier of no visible KPI is not named, whatever its id
        scores = performance.scorecard(current_user)
    kpis = performance_tables.kpi_table(current_user, supplier.id if supplier else None)
    return render_template(
        "performance/scorecard.html",
        scores=scores,
        supplier=supplier,
        kpis=kpis.records(),
        fmt=format_number,
    )
