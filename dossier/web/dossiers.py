"""Registering, showing and editing contract dossiers."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import orm
from werkzeug.wrappers import Response

from dossier import (
    access,
    actions,
    amendments,
    contacts,
    deadlines,
    dossiers,
    obligations,
    pdf_rendering,
    performance,
    plans,
    spend,
)
from dossier.errors import StaleEdit, ValidationError
from dossier.extensions import db
from dossier.listing import order
from dossier.models import Document, DocumentKind, DocumentVersion, Dossier, Membership, User
from dossier.web.forms import DossierForm

bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")

DOCUMENT_SORTS: dict[str, list[Any]] = {
    "title": [Document.title],
    "kind": [Document.kind],
    "date": [Document.document_date],
    "filed": [Document.created_at],
    "version": [Document.current_version_number],
}


def _people(dossier: Dossier | None) -> list[tuple[str, str]]:
    """Enabled users, and whoever holds a role on `dossier` now (so an edit keeps them)."""
    wanted = User.is_enabled.is_(True)
    if dossier is not None:
        holders = sa.select(Membership.user_id).where(Membership.dossier_id == dossier.id)
        wanted = sa.or_(wanted, User.id.in_(holders))
    users = db.session.scalars(sa.select(User).where(wanted).order_by(User.name))
    return [(u.email, f"{u.name} <{u.email}>") for u in users]


def _form(dossier: Dossier | None = None) -> DossierForm:
    form = DossierForm()
    form.set_people(_people(dossier))
    if dossier is not None and not form.is_submitted():
        form.process(data={**dossiers.snapshot(dossier), "row_version": dossier.row_version})
        form.tags.data = ", ".join(dossier.tag_names)
    return form


def _show_errors(form: DossierForm, error: ValidationError) -> None:
    for field, message in error.errors.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            if not target.errors:  # the field's own error (a bad date, say) says it already
                target.errors = [*target.errors, message]
        else:
            flash(message, "error")


def _validate(form: DossierForm, dossier: Dossier | None = None) -> bool:
    """Check the fields and the register rules in one round, so every error shows at once.

    The rules between fields (end before start, notice unit, ...) are checked on the values
    that did parse even when another field has an error.
    """
    valid = form.validate_on_submit()
    if not form.is_submitted():
        return False
    try:
        values = form.values()
    except ValueError:  # a choice outside the list: the field error already says so
        return False
    try:
        dossiers.validate(values, dossier)
    except ValidationError as error:
        _show_errors(form, error)
        return False
    return valid


@bp.get("/new")
@login_required
def new() -> str:
    access.require(access.can_create_dossier(current_user))
    form = _form()
    form.beheerder.data = [current_user.email]
    return render_template("dossiers/new.html", form=form)


@bp.post("/new")
@login_required
def create() -> str | Response | tuple[str, int]:
    access.require(access.can_create_dossier(current_user))
    form = _form()
    if _validate(form):
        try:
            dossier = dossiers.create_dossier(current_user, form.values())
        except ValidationError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Dossier %(ref)s registered.", ref=dossier.reference), "success")
            return redirect(url_for("dossiers.show", reference=dossier.reference))
    return render_template("dossiers/new.html", form=form), 400


@bp.get("/<reference>")
@login_required
def show(reference: str) -> str:
    from dossier import decisions, relations, terms  # a contract's life: the page's panel

    dossier = access.get_dossier_or_404(current_user, reference)
    filters = _document_filters()
    documents, total = _documents(dossier, filters)
    today = deadlines.local_today()
    return render_template(
        "dossiers/show.html",
        dossier=dossier,
        derived=deadlines.running_dates(dossier, deadlines.local_today()),
        deadlines=deadlines.for_dossiers([dossier], today, history=True),
        past_end=deadlines.past_end(dossier, today),
        plan=plans.summary(dossier, today),
        holders=dossiers.role_holders(dossier),
        documents=documents,
        current_versions=_current_versions(dossier),
        total_documents=total,
        filters=filters,
        can_edit=access.can_edit_dossier(current_user, dossier),
        can_file=access.can_file(current_user, dossier),
        can_manage_members=access.can_manage_members(current_user, dossier),
        can_view_audit=access.can_view_audit(current_user, dossier),
        open_actions=actions.of_dossier(dossier, only_open=True),
        obligations=[
            (o, obligations.next_open(o, today), obligations.missed(o, today))
            for o in obligations.of_dossier(dossier)
        ],
        today=today,
        kpis=[(k, performance.kpi_status(k)) for k in performance.dossier_kpis(dossier)],
        spend=spend.dossier_spend(current_user, dossier, today),
        life={
            "timeline": terms.timeline(dossier),
            "family": relations.family(current_user, dossier),
            "decision": next(iter(decisions.of_dossier(dossier)), None),
            "needs_decision": decisions.needs_decision(dossier, today),
        },
        current_value=amendments.current_value(dossier),
        amendment_count=len(amendments.of_dossier(dossier)),
    )


@bp.get("/<reference>/summary")
@login_required
def summary(reference: str) -> str:
    """One printable page for the contract owner: key data, contacts and mandates, term and
    deadlines, open actions and obligations, KPI status and the last review of the plan."""
    dossier = access.get_dossier_or_404(current_user, reference)
    return _summary(dossier)


@bp.get("/<reference>/summary.pdf")
@login_required
def summary_pdf(reference: str) -> Response:
    """The summary as a PDF file, rendered on the server from the same page and its print
    style (WeasyPrint), for the owner who wants a file rather than a browser's print dialog."""
    dossier = access.get_dossier_or_404(current_user, reference)
    try:
        pdf = pdf_rendering.render(_summary(dossier, as_pdf=True))
    except pdf_rendering.Unavailable:
        flash(_("This server cannot make PDF files; use Print instead."), "error")
        return redirect(url_for(".summary", reference=reference))
    name = _("summary")  # not inside the f-string, where pybabel would not find it
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{dossier.reference}-{name}.pdf",
    )


def _summary(dossier: Dossier, as_pdf: bool = False) -> str:
    today = deadlines.local_today()
    coming = [
        d for d in deadlines.for_dossiers([dossier], today, history=False) if d.due_on >= today
    ]
    return render_template(
        "dossiers/summary.html",
        as_pdf=as_pdf,
        contacts=contacts.contacts_of(dossier),
        dossier=dossier,
        today=today,
        derived=deadlines.running_dates(dossier, today),
        deadlines=coming[:5],
        holders=dossiers.role_holders(dossier),
        plan=plans.summary(dossier, today),
        current_value=amendments.current_value(dossier),
        amendment_count=len(amendments.of_dossier(dossier)),
        open_actions=actions.of_dossier(dossier, only_open=True),
        obligations=[
            (o, obligations.next_open(o, today), obligations.missed(o, today))
            for o in obligations.of_dossier(dossier)
        ],
        kpis=[(k, performance.kpi_status(k)) for k in performance.dossier_kpis(dossier)],
    )


def _document_filters() -> dict[str, str]:
    """The document list's text filter, kind and sort from the URL, each checked."""
    kind = request.args.get("kind", "")
    sort = request.args.get("sort", "-date")
    return {
        "q": request.args.get("q", "").strip()[:100],
        "kind": kind if kind in DocumentKind.__members__.values() else "",
        "sort": sort if sort.lstrip("-") in DOCUMENT_SORTS else "-date",
    }


def _documents(dossier: Dossier, filters: dict[str, str]) -> tuple[list[Document], int]:
    """The visible documents of `dossier` that pass `filters`, and how many there are in all."""
    query = access.visible_documents(current_user).where(Document.dossier_id == dossier.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    if filters["q"]:
        query = query.where(
            sa.func.lower(Document.title).contains(filters["q"].lower(), autoescape=True)
        )
    if filters["kind"]:
        query = query.where(Document.kind == filters["kind"])
    ordered = query.order_by(*order(filters["sort"], DOCUMENT_SORTS), Document.id.desc())
    return list(db.session.scalars(ordered)), total


def _current_versions(dossier: Dossier) -> dict[int, DocumentVersion]:
    """The current version of every document in `dossier`, in one query, without their text."""
    query = (
        sa.select(DocumentVersion)
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(
            Document.dossier_id == dossier.id,
            DocumentVersion.number == Document.current_version_number,
        )
        .options(orm.load_only(*_VERSION_LIST_COLUMNS))
    )
    return {v.document_id: v for v in db.session.scalars(query)}


_VERSION_LIST_COLUMNS = (
    DocumentVersion.id,
    DocumentVersion.document_id,
    DocumentVersion.number,
    DocumentVersion.original_filename,
    DocumentVersion.mime_type,
    DocumentVersion.extraction_status,
)


@bp.get("/<reference>/edit")
@login_required
def edit(reference: str) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_edit_dossier(current_user, dossier))
    return render_template("dossiers/edit.html", form=_form(dossier), dossier=dossier)


@bp.post("/<reference>/edit")
@login_required
def update(reference: str) -> str | Response | tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_edit_dossier(current_user, dossier))
    form = _form(dossier)
    if _validate(form, dossier):
        try:
            row_version = int(form.row_version.data or 0) or None
            dossiers.update_dossier(current_user, dossier, form.values(), row_version)
        except ValidationError as error:
            db.session.rollback()
            _show_errors(form, error)
        except StaleEdit as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("dossiers.show", reference=dossier.reference))
    return render_template("dossiers/edit.html", form=form, dossier=dossier), 400
