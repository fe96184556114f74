"""The dashboard, the management reports with their charts and exports, deadline statuses and
the personal calendar feed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import format_date, format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from dossier import (
    access,
    calendar_feed,
    checks,
    deadlines,
    digest,
    extraction_notes,
    labels,
    reports,
    spend,
)
from dossier.charts import bar_chart
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.i18n import format_money
from dossier.models import DeadlineKind, DeadlineStatus, User
from dossier.spreadsheets import table_bytes
from dossier.web.forms import DeadlineForm

bp = Blueprint("reports", __name__)

EXPORT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TASK_PAGES = {
    deadlines.ACTION: "management.actions",
    deadlines.OBLIGATION: "management.obligations",
}
_KEY_LABELS: dict[str, dict[Any, Any]] = {
    "value_category": labels.CATEGORY,
    "value_procedure": labels.PROCEDURE,
}


def _cell(table: reports.Table, key: str, value: Any) -> Any:
    """How one value of a report table is shown on the page (exports keep the plain value)."""
    if value is None or value == "" or value == []:
        return "—"
    if key == "reference":
        return Markup('<a href="{}">{}</a>').format(
            url_for("dossiers.show", reference=value), value
        )
    mapping = {
        "kind": labels.REPORT_COLUMN["kind"],
        "party": labels.OBLIGATION_PARTY,
        "recurrence": labels.RECURRENCE,
        "action_status": labels.ACTION_STATUS,
        "status": labels.DEADLINE_STATUS,
        "category": labels.CATEGORY,
        "extraction_status": labels.EXTRACTION_STATUS,
        "rule": labels.CHECK_RULE,
        "procedure_needed": labels.PROCEDURE_NEEDED,
    }.get(key) or (_KEY_LABELS.get(table.name) if key == "key" else None)
    if mapping is not None:
        return mapping.get(value, value)
    if key == "missing":
        return ", ".join(str(labels.REQUIREMENT.get(k, k)) for k in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key.endswith(("_percent", "_warning")):  # the spend report's percentages
        return f"{format_decimal(value, '#,##0.#')} %"
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, date):
        return current_app.jinja_env.filters["date_nl"](value)
    if key == "month" and isinstance(value, str):  # "2026-12" (sortable in the exports)
        year, month = value.split("-")
        return format_date(date(int(year), int(month), 1), "LLLL y")
    if table.name == "extraction" and key == "detail" and isinstance(value, str):
        return extraction_notes.note_text(value)  # as the export and the document page say it
    return value


def _display(table: reports.Table) -> list[list[Any]]:
    shown = []
    for row in table.rows:
        cells = [_cell(table, k, v) for k, v in zip(table.keys, row, strict=True)]
        if table.name == "deadlines":  # the kind links to the page that sets its status
            record = dict(zip(table.keys, row, strict=True))
            if record["kind"] in TASK_PAGES:  # an action or obligation: the dossier's list
                url = url_for(TASK_PAGES[record["kind"]], reference=record["reference"])
            else:
                url = url_for(
                    "reports.deadline",
                    reference=record["reference"],
                    kind=record["kind"],
                    due=record["due_on"].isoformat(),
                )
            index = table.keys.index("kind")
            cells[index] = Markup('<a href="{}">{}</a>').format(url, cells[index])
        if table.name == "checks":  # the figures as a sentence; the rule links to its source
            record = dict(zip(table.keys, row, strict=True))
            index = table.keys.index("figures")
            cells[index] = labels.report_value(table.name, "figures", record["figures"], record)
            if record["amendment_id"]:
                url = url_for(
                    "amendments.show",
                    reference=record["reference"],
                    amendment_id=record["amendment_id"],
                )
            else:
                url = url_for("dossiers.show", reference=record["reference"])
            index = table.keys.index("rule")
            cells[index] = Markup('<a href="{}">{}</a>').format(url, cells[index])
        if "document_id" in table.keys:  # the title links to the document; the id stays hidden
            record = dict(zip(table.keys, row, strict=True))
            url = url_for(
                "documents.show", reference=record["reference"], document_id=record["document_id"]
            )
            index = table.keys.index("title")
            cells[index] = Markup('<a href="{}">{}</a>').format(url, cells[index])
        shown.append(cells)
    return shown


def _chart(title: str, table: reports.Table, label_key: str, value_key: str) -> Markup | None:
    """A bar chart of one table's column; None when there is nothing to draw (all zero)."""
    keys = table.keys
    if not any(row[keys.index(value_key)] for row in table.rows):
        return None
    bars = []
    for row in table.rows:
        label = _cell(table, label_key, row[keys.index(label_key)])
        value = row[keys.index(value_key)]
        if value is None:  # unknown: no bar, and a dash rather than a made-up zero
            bars.append((str(label), 0, "—"))
            continue
        text = format_money(value) if isinstance(value, Decimal) else str(value)
        bars.append((str(label), value, text))
    return bar_chart(title, bars)


def _render(template: str, tables: list[reports.Table], **context: Any) -> str:
    shown = [(t, _display(t)) for t in tables]
    return render_template(template, tables=shown, **context)


@bp.get("/overview")
@login_required
def dashboard() -> str:
    today = deadlines.local_today()
    mine = reports.member_dossiers(current_user)
    items = deadlines.for_dossiers(mine, today)
    windows = deadlines.windows(items, current_app.config["DEADLINE_WINDOWS"])
    return render_template(
        "reports/dashboard.html",
        today=today,
        dossiers=mine,
        # The end of the running term, as the register shows it (tacit renewals roll on).
        ends={d.id: deadlines.current_end(d, today) for d in mine if d.end_on},
        windows=windows,
        longest=windows[-1][1] if windows else [],
        missed=deadlines.missed(items),
        plan_attention=reports.plan_attention(mine, today),
        decisions_needed=reports.decisions_needed(mine, today),
        documents=reports.recent_documents(current_user),
        digest=digest.compose(current_user, today),
        spend_warnings=spend.warnings(mine, today),
        check_count=len(checks.visible(current_user, today)),
    )


@bp.get("/reports")
@login_required
def index() -> Response:
    return redirect(url_for("reports.deadlines"))


@bp.get("/reports/deadlines", endpoint="deadlines")
@login_required
def deadlines_page() -> str:
    today = deadlines.local_today()
    table = reports.deadline_report(current_user, today)
    items: list[Any] = deadlines.visible(current_user, today)
    # Open actions and obligations' due dates count too, as the table lists them.
    visible_ids = db.session.scalars(access.visible_dossier_ids(current_user))
    items += deadlines.tasks_for(visible_ids, today, ahead=max(_windows(), default=0))
    counts = [(days, len(found)) for days, found in deadlines.windows(items, _windows())]
    missed = len(deadlines.missed(items))
    bars = [
        (ngettext("within %(num)d day", "within %(num)d days", d), n, str(n)) for d, n in counts
    ]
    bars.append((_("missed"), missed, str(missed)))
    return _render(
        "reports/deadlines.html",
        [table, reports.past_end_report(current_user, today)],
        chart=bar_chart(_("Open deadlines"), bars),
        counts=counts,
        missed=missed,
    )


def _windows() -> list[int]:
    return list(current_app.config["DEADLINE_WINDOWS"])


@bp.get("/reports/tenders")
@login_required
def tenders() -> str:
    config = current_app.config
    table = reports.tender_report(current_user, deadlines.local_today())
    return _render(
        "reports/tenders.html",
        [table],
        horizon=config["TENDER_HORIZON_MONTHS"],
        lead=config["TENDER_LEAD_MONTHS"],
        thresholds=[
            (labels.CATEGORY.get(k, k), format_money(Decimal(v)))
            for k, v in config["EU_THRESHOLDS"].items()
        ],
    )


@bp.get("/reports/value")
@login_required
def value() -> str:
    tables = reports.value_report(current_user, deadlines.local_today())
    by_name = {t.name: t for t in tables}
    charts = {
        "top_suppliers": _chart(_("Top suppliers"), by_name["top_suppliers"], "key", "value"),
        "value_category": _chart(_("Value by category"), by_name["value_category"], "key", "value"),
        "value_procedure": _chart(
            _("Value by procedure"), by_name["value_procedure"], "key", "value"
        ),
        "value_year": _chart(
            _("Annual value in force"), by_name["value_year"], "year", "annual_value"
        ),
        "value_quarter": _chart(
            _("Value of contracts ending per quarter"), by_name["value_quarter"], "quarter", "value"
        ),
    }
    return _render("reports/value.html", tables, charts=charts)


@bp.get("/reports/checks", endpoint="checks")
@login_required
def checks_page() -> str:
    table = reports.checks_report(current_user, deadlines.local_today())
    counts: dict[str, int] = {}
    for rule in table.records():
        counts[rule["rule"]] = counts.get(rule["rule"], 0) + 1
    bars = [(str(labels.CHECK_RULE.get(k, k)), n, str(n)) for k, n in counts.items()]
    return _render(
        "reports/checks.html",
        [table],
        chart=bar_chart(_("Flags per check"), bars) if bars else None,
        config=current_app.config,
    )


@bp.get("/reports/completeness")
@login_required
def completeness() -> str:
    table, complete = reports.completeness_report(current_user)
    missing: dict[str, int] = {}
    for row in table.rows:
        for key in row[-1]:
            missing[key] = missing.get(key, 0) + 1
    bars = [(str(labels.REQUIREMENT.get(k, k)), n, str(n)) for k, n in missing.items()]
    return _render(
        "reports/completeness.html",
        [table],
        complete=complete,
        chart=bar_chart(_("Dossiers missing each document"), bars) if bars else None,
    )


@bp.get("/reports/activity")
@login_required
def activity() -> str:
    tables = reports.activity_report(current_user)
    chart = _chart(_("Documents filed per month"), tables[0], "month", "count")
    return _render("reports/activity.html", tables, chart=chart)


@bp.get("/reports/export/<name>.<kind>")
@login_required
def export(name: str, kind: str) -> Response:
    if kind not in EXPORT_TYPES or name not in reports.TABLE_NAMES:
        abort(404)
    table = reports.table(current_user, name, deadlines.local_today())
    if table is None:
        abort(404)
    return table_download(kind, name, table.headings, labels.report_rows(table))


def table_download(kind: str, name: str, header: list[Any], rows: Any) -> Response:
    """A table as a CSV or XLSX download named after it and today, never cached."""
    body = table_bytes(kind, header, rows, sheet_title=name, locale=str(get_locale() or "nl"))
    filename = f"{name}-{deadlines.local_today().isoformat()}.{kind}"
    return Response(
        body,
        mimetype=EXPORT_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _deadline_or_404(reference: str, kind: str, due: str) -> deadlines.Deadline:
    dossier = access.get_dossier_or_404(current_user, reference)
    try:
        found = deadlines.find(
            dossier, DeadlineKind(kind), date.fromisoformat(due), deadlines.local_today()
        )
    except ValueError:
        abort(404)
    if found is None:
        abort(404)
    return found


@bp.get("/deadlines/<reference>/<kind>/<due>")
@login_required
def deadline(reference: str, kind: str, due: str) -> str:
    item = _deadline_or_404(reference, kind, due)
    # The form shows the status as it stands: one click on "save" must not record a decision.
    form = DeadlineForm(status=DeadlineStatus.OPEN.value)
    if item.action is not None:
        form.status.data = item.action.status.value
        form.note.data = item.action.note
    return _deadline_page(item, form)


def _deadline_page(item: deadlines.Deadline, form: DeadlineForm) -> str:
    return render_template(
        "reports/deadline.html",
        item=item,
        form=form,
        can_manage=access.can_manage_deadlines(current_user, item.dossier),
    )


@bp.post("/deadlines/<reference>/<kind>/<due>")
@login_required
def deadline_update(reference: str, kind: str, due: str) -> str | Response | tuple[str, int]:
    item = _deadline_or_404(reference, kind, due)
    access.require(access.can_manage_deadlines(current_user, item.dossier))
    form = DeadlineForm()
    if form.validate_on_submit():
        try:
            deadlines.set_status(
                current_user,
                item.dossier,
                item.kind,
                item.due_on,
                DeadlineStatus(form.status.data),
                form.note.data or "",
            )
        except ValidationError as error:
            db.session.rollback()
            for message in error.errors.values():
                flash(message, "error")
        else:
            db.session.commit()
            flash(_("Deadline status saved."), "success")
            return redirect(url_for("reports.deadline", reference=reference, kind=kind, due=due))
    return _deadline_page(item, form), 400


@bp.get("/account/calendar")
@login_required
def calendar() -> str:
    return render_template(
        "reports/calendar.html",
        active=calendar_feed.active_token(current_user),
        feed_url=None,
    )


@bp.post("/account/calendar")
@login_required
def calendar_create() -> Response:
    user = db.session.get(User, current_user.id)
    token = calendar_feed.create_token(user)
    db.session.commit()
    page = render_template(
        "reports/calendar.html",
        active=calendar_feed.active_token(user),
        feed_url=url_for("reports.calendar_feed", token=token, _external=True),
    )
    # The secret is in this page only: keep it out of every cache.
    return Response(page, headers={"Cache-Control": "no-store"})


@bp.post("/account/calendar/revoke")
@login_required
def calendar_revoke() -> Response:
    calendar_feed.revoke_tokens(db.session.get(User, current_user.id))
    db.session.commit()
    flash(_("The calendar address no longer works."), "success")
    return redirect(url_for("reports.calendar"))


@bp.get("/calendar/<token>.ics", endpoint="calendar_feed")
def calendar_feed_view(token: str) -> Response:
    user = calendar_feed.user_for_token(token)
    if user is None:
        abort(404)
    body = calendar_feed.feed(
        user,
        deadlines.local_today(),
        lambda ref: url_for("dossiers.show", reference=ref, _external=True),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
    )
