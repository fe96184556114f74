"""A contract's life: the term history with its events, the lead times, the end-of-contract
decision (four eyes) and the related dossiers; and the terms report over the portfolio."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dossier import access, deadlines, decisions, relations, reports, terms
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.i18n import long_date
from dossier.models import Document, Dossier, EndDecision, TermEventKind
from dossier.web.forms import Form
from dossier.web.terms_forms import (
    FrameworkForm,
    LeadsForm,
    OptionForm,
    ProposeForm,
    RelationForm,
    SettleForm,
    TermEventForm,
)

bp = Blueprint("terms", __name__)


def _flash_errors(error: ValidationError, form: Form | None = None) -> None:
    for name, message in error.errors.items():
        target = getattr(form, name, None) if form is not None else None
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            flash(message, "error")


def _page(dossier: Dossier, status: int = 200, **given: Form) -> tuple[str, int]:
    """The term page, with the forms the user may use (a submitted one keeps its input)."""
    user = current_user
    today = deadlines.local_today()
    forms: dict[str, Any] = {}
    if access.can_manage_term(user, dossier):
        forms["option"] = given.get("option") or OptionForm(
            formdata=None, decided_on=today, prefix="option"
        )
        forms["event"] = given.get("event") or TermEventForm(
            formdata=None, decided_on=today, prefix="event"
        )
        forms["option"].offer(dossier)
        forms["event"].offer(dossier)
    if access.can_set_leads(user, dossier):
        forms["leads"] = given.get("leads") or LeadsForm(
            formdata=None,
            option_lead_months=dossier.option_lead_months,
            tender_lead_months=dossier.tender_lead_months,
        )
    if access.can_propose_decision(user, dossier):
        forms["propose"] = given.get("propose") or ProposeForm(formdata=None, prefix="propose")
    if access.can_manage_relations(user, dossier):
        forms["relation"] = given.get("relation") or RelationForm(formdata=None)
        forms["framework"] = given.get("framework") or FrameworkForm(
            formdata=None,
            is_framework=dossier.is_framework,
            framework_max_value=dossier.framework_max_value,
        )
    pending = decisions.pending(dossier)
    settle = None
    if pending is not None and access.can_approve_decision(user, pending):
        settle = given.get("settle") or SettleForm(formdata=None, prefix="settle")
    page = render_template(
        "terms/index.html",
        dossier=dossier,
        today=today,
        timeline=terms.timeline(dossier),
        derived=deadlines.running_dates(dossier, today),
        option_lead=terms.option_lead(dossier),
        tender_lead=terms.tender_lead(dossier),
        option_due=_due(dossier, today, "option"),
        tender_start=deadlines.tender_start(dossier, today),
        decision_due=deadlines.decision_due(dossier, today),
        needs_decision=decisions.needs_decision(dossier, today),
        decisions=decisions.of_dossier(dossier),
        pending=pending,
        estimate=decisions.estimate(dossier),
        family=relations.family(user, dossier),
        readable=_readable_documents(dossier),
        forms=forms,
        settle=settle,
        can_manage_relations=access.can_manage_relations(user, dossier),
    )
    return page, status


def _due(dossier: Dossier, today: Any, kind: str) -> Any:
    found = [d for k, d in deadlines.due_dates(dossier, today) if k.value == kind]
    return found[0] if found else None


def _readable_documents(dossier: Dossier) -> set[int]:
    query = access.visible_documents(current_user).where(Document.dossier_id == dossier.id)
    return {d.id for d in db.session.scalars(query)}


def _document(dossier: Dossier, raw: str | None) -> Document | None:
    if not raw:
        return None
    document = db.session.get(Document, int(raw))
    if document is None or document.dossier_id != dossier.id:
        return None
    return document


@bp.get("/dossiers/<reference>/term", endpoint="index")
@login_required
def index(reference: str) -> tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    return _page(dossier)


def _done(dossier: Dossier, message: str) -> Response:
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("terms.index", reference=dossier.reference))


@bp.post("/dossiers/<reference>/term/option")
@login_required
def exercise_option(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_term(current_user, dossier))
    form = OptionForm(prefix="option")
    form.offer(dossier)
    if form.validate_on_submit():
        try:
            event = terms.exercise_option(
                current_user,
                dossier,
                form.decided_on.data,
                form.decided_by.data or "",
                form.note.data or "",
                _document(dossier, form.document_id.data),
            )
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            assert event.end_after is not None
            return _done(
                dossier,
                _(
                    "Option exercised; the contract now ends on %(date)s.",
                    date=long_date(event.end_after),
                ),
            )
    return _page(dossier, 400, option=form)


@bp.post("/dossiers/<reference>/term/event")
@login_required
def record_event(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_term(current_user, dossier))
    form = TermEventForm(prefix="event")
    form.offer(dossier)
    if form.validate_on_submit():
        try:
            terms.record_event(
                current_user,
                dossier,
                TermEventKind(form.kind.data),
                form.decided_on.data,
                form.new_end.data,
                form.decided_by.data or "",
                form.note.data or "",
                _document(dossier, form.document_id.data),
            )
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            return _done(dossier, _("Recorded in the term history."))
    return _page(dossier, 400, event=form)


@bp.post("/dossiers/<reference>/term/leads")
@login_required
def update_leads(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_set_leads(current_user, dossier))
    form = LeadsForm()
    if form.validate_on_submit():
        try:
            terms.set_leads(
                current_user, dossier, form.option_lead_months.data, form.tender_lead_months.data
            )
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            return _done(dossier, _("Lead times saved."))
    return _page(dossier, 400, leads=form)


@bp.post("/dossiers/<reference>/decisions")
@login_required
def propose(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_propose_decision(current_user, dossier))
    form = ProposeForm(prefix="propose")
    if form.validate_on_submit():
        try:
            decisions.propose(current_user, dossier, form.decision_kind(), form.reasons.data)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            return _done(dossier, _("Decision proposed; the contract owner approves it."))
    return _page(dossier, 400, propose=form)


def _decision(dossier: Dossier, decision_id: int) -> EndDecision:
    decision = db.session.get(EndDecision, decision_id)
    if decision is None or decision.dossier_id != dossier.id:
        abort(404)
    return decision


@bp.post("/dossiers/<reference>/decisions/<int:decision_id>/approve")
@login_required
def approve(reference: str, decision_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    decision = _decision(dossier, decision_id)
    access.require(access.can_approve_decision(current_user, decision))
    form = SettleForm(prefix="settle")
    if form.validate_on_submit():
        try:
            decisions.approve(current_user, decision, form.note.data or "")
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            if decision.successor is not None:
                message = _("Decision approved. Tender dossier %(ref)s created as successor.",
                            ref=decision.successor.reference)  # fmt: skip
            else:
                message = _("Decision approved.")
            return _done(dossier, message)
    return _page(dossier, 400, settle=form)


@bp.post("/dossiers/<reference>/decisions/<int:decision_id>/reject")
@login_required
def reject(reference: str, decision_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    decision = _decision(dossier, decision_id)
    access.require(access.can_approve_decision(current_user, decision))
    form = SettleForm(prefix="settle")
    if form.validate_on_submit():
        try:
            decisions.reject(current_user, decision, form.note.data or "")
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            return _done(dossier, _("Proposal rejected."))
    return _page(dossier, 400, settle=form)


@bp.post("/dossiers/<reference>/relations")
@login_required
def add_relation(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_relations(current_user, dossier))
    form = RelationForm()
    if form.validate_on_submit():
        try:
            relations.add(current_user, dossier, form.other.data, form.relation.data)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            return _done(dossier, _("Related dossier linked."))
    return _page(dossier, 400, relation=form)


@bp.post("/dossiers/<reference>/relations/<int:relation_id>/remove")
@login_required
def remove_relation(reference: str, relation_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_relations(current_user, dossier))
    relation = relations.get(dossier, relation_id)
    if relation is None:
        abort(404)
    relations.remove(current_user, dossier, relation)
    return _done(dossier, _("Relation removed."))


@bp.post("/dossiers/<reference>/framework")
@login_required
def update_framework(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_relations(current_user, dossier))
    form = FrameworkForm()
    if form.validate_on_submit():
        try:
            relations.set_framework(
                current_user, dossier, bool(form.is_framework.data), form.framework_max_value.data
            )
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            return _done(dossier, _("Framework data saved."))
    return _page(dossier, 400, framework=form)


@bp.get("/reports/terms")
@login_required
def report() -> str:
    today = deadlines.local_today()
    table = reports.terms_report(current_user, today)
    return render_template("terms/report.html", table=table, today=today)
