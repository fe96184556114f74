"""The audit-trail viewer: everything for auditors, one dossier's events for its beheerder."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from dossier import access, audit
from dossier.extensions import db
from dossier.listing import Page, paginate
from dossier.models import AuditEvent, Dossier
from dossier.spreadsheets import escape_cell
from dossier.web import audit_view, int_arg
from dossier.web.forms import AuditFilterForm

bp = Blueprint("audit", __name__)
PER_PAGE = 50
CSV_LIMIT = 100_000


def _selection(form: AuditFilterForm, dossier: Dossier | None) -> audit.EventFilter | None:
    """The filter the form asks for, or None when it names a dossier that does not exist."""
    dossier_id = dossier.id if dossier else None
    reference = (form.dossier.data or "").strip() if dossier is None else ""
    if reference:
        dossier_id = db.session.scalar(sa.select(Dossier.id).where(Dossier.reference == reference))
        if dossier_id is None:
            return None
    return audit.EventFilter(
        dossier_id=dossier_id,
        actor=(form.actor.data or "").strip(),
        action=(form.action.data or "").strip(),
        since=form.since.data,
        until=form.until.data,
    )


def _page() -> int:
    return max(1, min(int_arg("page", 1) or 1, 10_000))


def _form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.action.choices = audit_view.action_choices()
    return form


def _render(dossier: Dossier | None) -> str | tuple[str, int]:
    form = _form()
    valid = form.validate()
    selection = _selection(form, dossier) if valid else None
    shown, references = Page([], 0, 1, 1), {}
    if selection is not None:
        shown = paginate(audit.events(selection), _page(), PER_PAGE)
        references = _references(shown.items)
    context: dict[str, Any] = {
        "form": form,
        "dossier": dossier,
        "events": audit_view.Presenter(current_user, shown.items).shown(),
        "references": references,
        "total": shown.total,
        "page": shown.number,
        "pages": shown.pages,
        "as_text": audit.as_text,
        "unknown_dossier": valid and selection is None,
    }
    return render_template("audit/index.html", **context), (200 if valid else 400)


def _references(events: list[AuditEvent]) -> dict[int, str]:
    ids = {e.dossier_id for e in events if e.dossier_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Dossier.id, Dossier.reference).where(Dossier.id.in_(ids)))
    return {row.id: row.reference for row in rows}


def _csv(dossier: Dossier | None) -> Response:
    form = _form()
    if not form.validate():
        abort(400)
    selection = _selection(form, dossier)
    events = db.session.scalars(audit.events(selection).limit(CSV_LIMIT)).all() if selection else []
    references = _references(list(events))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "at", "actor", "action", "action_label", "object", "dossier", "before", "after"]
    )
    for e in events:
        row = [
            e.id,
            e.at.isoformat(),
            e.actor_label,
            e.action,
            audit_view.action_label(e.action),
            f"{e.object_type} {e.object_id or ''}".strip(),
            references.get(e.dossier_id or 0, ""),
            audit.as_text(e.before),
            audit.as_text(e.after),
        ]
        writer.writerow([escape_cell(v) if isinstance(v, str) else v for v in row])
    name = f"audit-{dossier.reference}.csv" if dossier else "audit.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _all_events() -> None:
    access.require(access.can_view_audit(current_user), access.NEEDS_AUDITOR)


def _dossier_events(reference: str) -> Dossier:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_view_audit(current_user, dossier), access.NEEDS_DOSSIER_AUDIT)
    return dossier


@bp.get("/audit")
@login_required
def index() -> str | tuple[str, int]:
    _all_events()
    return _render(None)


@bp.get("/audit/export.csv")
@login_required
def export() -> Response:
    _all_events()
    return _csv(None)


@bp.get("/dossiers/<reference>/audit")
@login_required
def dossier(reference: str) -> str | tuple[str, int]:
    return _render(_dossier_events(reference))


@bp.get("/dossiers/<reference>/audit/export.csv")
@login_required
def dossier_export(reference: str) -> Response:
    return _csv(_dossier_events(reference))
