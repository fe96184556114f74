"""The execution plan of a dossier: its answers, history, documents and reviews."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from dossier import access, deadlines, labels, plans
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    DeviationArea,
    Document,
    DocumentKind,
    Dossier,
    ExecutionPlan,
    PlanQuestion,
    ReviewOutcome,
)
from dossier.web.forms import PlanDocumentForm, PlanForm, PlanReviewForm

bp = Blueprint("plans", __name__, url_prefix="/dossiers/<reference>/plan")


def _dossier(reference: str) -> Dossier:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_view_plan(current_user, dossier))
    return dossier


def _plan_or_404(dossier: Dossier) -> ExecutionPlan:
    return plans.plan_of(dossier) or abort(404)


def _readable(dossier: Dossier) -> list[Document]:
    """The dossier's documents the current user may read: the only ones a page names."""
    query = access.visible_documents(current_user).where(Document.dossier_id == dossier.id)
    return list(db.session.scalars(query.order_by(Document.title, Document.id)))


def _document_choices(documents: list[Document], blank: bool = False) -> list[SelectChoice]:
    """Documents to choose from; ids as text where a blank choice sits beside them."""
    choices = [
        SelectChoice(str(d.id) if blank else d.id, labels.document_choice(d)) for d in documents
    ]
    return ([SelectChoice("", "—")] if blank else []) + choices


def _flash_errors(error: ValidationError) -> None:
    for message in error.errors.values():
        flash(message, "error")


@bp.get("")
@login_required
def show(reference: str) -> str:
    dossier = _dossier(reference)
    plan = plans.plan_of(dossier)
    readable = _readable(dossier)
    linked = plans.linked_documents(plan, readable) if plan else []
    link_form = PlanDocumentForm()
    link_form.document_id.choices = _document_choices([d for d in readable if d not in linked])
    last = plans.last_reviews([dossier.id]).get(dossier.id)
    return render_template(
        "plans/show.html",
        dossier=dossier,
        plan=plan,
        answers=plans.current_answers(plan) if plan else {},
        questions=list(PlanQuestion),
        linked=linked,
        link_form=link_form,
        reviews=plans.reviews(plan) if plan else [],
        readable_ids={d.id for d in readable},
        next_review=plans.next_review_on(dossier, last),
        next_scheduled=plans.next_scheduled(dossier, last, deadlines.local_today()),
        today=deadlines.local_today(),
        can_edit=access.can_edit_plan(current_user, dossier),
        can_review=access.can_review_plan(current_user, dossier),
    )


@bp.get("/edit")
@login_required
def edit(reference: str, form: PlanForm | None = None) -> str:
    dossier = _dossier(reference)
    access.require(access.can_edit_plan(current_user, dossier))
    plan = plans.plan_of(dossier)
    if form is None:
        answers = plans.current_answers(plan) if plan else {}
        form = PlanForm(data={q.value: a.text for q, a in answers.items()})
    return render_template("plans/edit.html", dossier=dossier, plan=plan, form=form)


@bp.post("/edit")
@login_required
def update(reference: str) -> Response | tuple[str, int]:
    dossier = _dossier(reference)
    access.require(access.can_edit_plan(current_user, dossier))
    form = PlanForm()
    if not form.validate_on_submit():
        return edit(reference, form), 400
    values = {q: getattr(form, q.value).data or "" for q in PlanQuestion}
    try:
        plan = plans.create_plan(current_user, dossier)
        changed = plans.save_answers(current_user, plan, values)
    except ValidationError as error:
        db.session.rollback()
        _flash_errors(error)
        return edit(reference, form), 400
    db.session.commit()
    flash(_("Execution plan saved (%(num)d answers changed).", num=len(changed)), "success")
    return redirect(url_for(".show", reference=dossier.reference))


@bp.get("/history")
@login_required
def history(reference: str) -> str:
    dossier = _dossier(reference)
    plan = plans.plan_of(dossier)
    answers = plans.history(plan) if plan else []
    return render_template("plans/history.html", dossier=dossier, plan=plan, answers=answers)


@bp.post("/documents")
@login_required
def link_document(reference: str) -> Response:
    dossier = _dossier(reference)
    access.require(access.can_edit_plan(current_user, dossier))
    form = PlanDocumentForm()
    form.document_id.choices = _document_choices(_readable(dossier))
    if not form.validate_on_submit():
        flash(_("Choose a document of this dossier to link."), "error")
        return redirect(url_for(".show", reference=dossier.reference))
    document = access.get_document_or_404(current_user, dossier, form.document_id.data)
    try:
        plan = plans.create_plan(current_user, dossier)
        linked = plans.link_document(current_user, plan, document)
    except ValidationError as error:
        db.session.rollback()
        _flash_errors(error)
        return redirect(url_for(".show", reference=dossier.reference))
    if linked:
        db.session.commit()
        flash(_("Document linked to the execution plan."), "success")
    return redirect(url_for(".show", reference=dossier.reference))


@bp.post("/documents/<int:document_id>/unlink")
@login_required
def unlink_document(reference: str, document_id: int) -> Response:
    dossier = _dossier(reference)
    access.require(access.can_edit_plan(current_user, dossier))
    plan = _plan_or_404(dossier)
    document = access.get_document_or_404(current_user, dossier, document_id)
    try:
        unlinked = plans.unlink_document(current_user, plan, document)
    except ValidationError as error:
        db.session.rollback()
        _flash_errors(error)
        return redirect(url_for(".show", reference=dossier.reference))
    if unlinked:
        db.session.commit()
        flash(_("Document unlinked from the execution plan."), "success")
    return redirect(url_for(".show", reference=dossier.reference))


def _review_form(dossier: Dossier) -> PlanReviewForm:
    form = PlanReviewForm()
    readable = _readable(dossier)
    minutes_first = sorted(readable, key=lambda d: (d.kind != DocumentKind.MINUTES, d.title))
    form.minutes.choices = _document_choices(minutes_first, blank=True)
    return form


@bp.get("/reviews/new")
@login_required
def new_review(reference: str, form: PlanReviewForm | None = None) -> str:
    dossier = _dossier(reference)
    access.require(access.can_review_plan(current_user, dossier))
    plan = _plan_or_404(dossier)
    form = form or _review_form(dossier)
    if not form.is_submitted():
        form.held_on.data = deadlines.local_today()
    return render_template("plans/review.html", dossier=dossier, plan=plan, form=form)


@bp.post("/reviews/new")
@login_required
def create_review(reference: str) -> Response | tuple[str, int]:
    dossier = _dossier(reference)
    access.require(access.can_review_plan(current_user, dossier))
    plan = _plan_or_404(dossier)
    form = _review_form(dossier)
    if not form.validate_on_submit():
        return new_review(reference, form), 400
    minutes = None
    if form.minutes.data:
        minutes = access.get_document_or_404(current_user, dossier, int(form.minutes.data))
    deviations = tuple(
        (area, text.strip())
        for area, text in (
            (DeviationArea.RESULT, form.deviation_result.data or ""),
            (DeviationArea.APPROACH, form.deviation_approach.data or ""),
            (DeviationArea.BUDGET, form.deviation_budget.data or ""),
        )
        if text.strip()
    )
    data = plans.ReviewInput(
        held_on=form.held_on.data,
        outcome=ReviewOutcome(form.outcome.data),
        participants=form.participants.data or "",
        notes=form.notes.data or "",
        deviations=deviations,
        minutes=minutes,
        new_version=form.new_version.data,
    )
    try:
        plans.record_review(current_user, plan, data, deadlines.local_today())
    except ValidationError as error:
        db.session.rollback()
        _flash_errors(error)
        return new_review(reference, form), 400
    db.session.commit()
    flash(_("Review recorded."), "success")
    return redirect(url_for(".show", reference=dossier.reference) + "#h-reviews")
