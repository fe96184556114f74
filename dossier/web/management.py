"""Agreements and actions, and the obligations register of a dossier; the actions assigned to
the user; the obligations across the portfolio."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from dossier import access, actions, deadlines, obligation_proposals, obligations, reports
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import Action, Dossier, Obligation
from dossier.web.forms import Form
from dossier.web.management_forms import (
    ActionForm,
    ActionStatusForm,
    DismissProposalForm,
    FulfilForm,
    ObligationForm,
)

bp = Blueprint("management", __name__)


def _flash_errors(error: ValidationError, form: Form | None = None) -> None:
    for name, message in error.errors.items():
        target = getattr(form, name, None) if form is not None else None
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            flash(message, "error")


# Actions


@bp.get("/dossiers/<reference>/actions", endpoint="actions")
@login_required
def actions_page(reference: str, form: ActionForm | None = None) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    can_manage = access.can_manage_actions(current_user, dossier)
    if form is None and can_manage:
        form = ActionForm(status="open", **_same_meeting())
        form.offer(dossier)
    return render_template(
        "management/actions.html",
        dossier=dossier,
        actions=actions.of_dossier(dossier),
        today=deadlines.local_today(),
        form=form,
        can_manage=can_manage,
    )


def _same_meeting() -> dict[str, Any]:
    """The meeting date and minutes of the agreement just recorded (from the URL), as the
    defaults of the next one; anything unreadable is left out."""
    found: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        found["meeting_on"] = date.fromisoformat(request.args.get("meeting_on", ""))
    minutes = request.args.get("minutes_id", "")
    if minutes.isdigit():
        found["minutes_id"] = minutes
    return found


@bp.post("/dossiers/<reference>/actions")
@login_required
def create_action(reference: str) -> str | Response | tuple[str, int]:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_actions(current_user, dossier))
    form = ActionForm()
    form.offer(dossier)
    if form.validate_on_submit():
        try:
            action = actions.create_action(current_user, dossier, form.values())
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            if action.meeting_on or action.minutes_id:
                # Agreements of a meeting come several at once: back to the list, with the
                # meeting's date and minutes filled in for the next one.
                flash(
                    _("Agreement recorded; add the next one from the same meeting below."),
                    "success",
                )
                return redirect(
                    url_for(
                        "management.actions",
                        reference=reference,
                        meeting_on=action.meeting_on.isoformat() if action.meeting_on else None,
                        minutes_id=action.minutes_id,
                        _anchor="h-new-action",
                    )
                )
            flash(_("Action recorded."), "success")
            return redirect(url_for("management.action", reference=reference, action_id=action.id))
    return actions_page(reference, form), 400


def _action_page(dossier: Dossier, action: Action, form: Form | None, status: int = 200) -> Any:
    return render_template(
        "management/action.html",
        dossier=dossier,
        action=action,
        form=form,
        minutes_readable=action.minutes is not None
        and access.can_view_document(current_user, action.minutes),
        today=deadlines.local_today(),
    ), status


def _action_form(dossier: Dossier, action: Action, data: bool) -> Form | None:
    """The full form for who manages actions, status and note for the assignee, else none."""
    if access.can_manage_actions(current_user, dossier):
        form: Form = ActionForm(obj=action if data else None)
        form.offer(dossier)  # type: ignore[attr-defined]
        if data:
            form.minutes_id.data = str(action.minutes_id or "")  # type: ignore[attr-defined]
            form.assignee_id.data = str(action.assignee_id or "")  # type: ignore[attr-defined]
            form.status.data = action.status.value  # type: ignore[attr-defined]
        return form
    if access.can_update_action(current_user, action):
        form = ActionStatusForm(obj=action if data else None)
        if data:
            form.status.data = action.status.value  # type: ignore[attr-defined]
        return form
    return None


@bp.get("/dossiers/<reference>/actions/<int:action_id>")
@login_required
def action(reference: str, action_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = access.get_action_or_404(current_user, dossier, action_id)
    return _action_page(dossier, item, _action_form(dossier, item, data=True))


@bp.post("/dossiers/<reference>/actions/<int:action_id>")
@login_required
def update_action(reference: str, action_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = access.get_action_or_404(current_user, dossier, action_id)
    access.require(access.can_update_action(current_user, item))
    form = _action_form(dossier, item, data=False)
    assert form is not None
    if form.validate_on_submit():
        if isinstance(form, ActionForm):
            values = form.values()
        else:
            values = {name: form[name].data for name in actions.ASSIGNEE_FIELDS}
        try:
            actions.update_action(current_user, item, values)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("management.action", reference=reference, action_id=item.id))
    return _action_page(dossier, item, form, 400)


@bp.get("/actions/mine")
@login_required
def mine() -> str:
    today = deadlines.local_today()
    owned = obligations.owned_by(current_user)
    return render_template(
        "management/mine.html",
        actions=actions.assigned_to(current_user, only_open=False),
        obligations=[
            (o, obligations.next_open(o, today), obligations.missed(o, today)) for o in owned
        ],
        today=today,
    )


# Obligations


@bp.get("/dossiers/<reference>/obligations", endpoint="obligations")
@login_required
def obligations_page(reference: str, form: ObligationForm | None = None) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    can_manage = access.can_manage_obligations(current_user, dossier)
    if form is None and can_manage:
        form = ObligationForm()
        form.offer(dossier)
    today = deadlines.local_today()
    items = obligations.of_dossier(dossier)
    return render_template(
        "management/obligations.html",
        dossier=dossier,
        items=[(o, obligations.next_open(o, today), obligations.missed(o, today)) for o in items],
        clauses={o.id: obligations.readable_clause(current_user, o) for o in items},
        form=form,
        can_manage=can_manage,
    )


@bp.post("/dossiers/<reference>/obligations")
@login_required
def create_obligation(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_obligations(current_user, dossier))
    form = ObligationForm()
    form.offer(dossier)
    clause = None
    if form.clause_id.data:
        try:
            clause_id = int(form.clause_id.data)
        except ValueError:
            abort(404)
        clause = obligation_proposals.get_proposal_clause(current_user, dossier, clause_id)
        if clause is None:
            abort(404)  # not a clause of this dossier this user may read: as if missing
    if form.validate_on_submit():
        try:
            item = obligations.create_obligation(current_user, dossier, form.values(), clause)
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            if clause is not None:
                # Confirmed from the proposals: back to the rest of them, saying what was done.
                flash(_("Obligation registered: %(title)s.", title=item.title), "success")
                return redirect(url_for("management.proposals", reference=reference))
            flash(_("Obligation registered."), "success")
            return redirect(
                url_for("management.obligation", reference=reference, obligation_id=item.id)
            )
    if clause is not None:
        return _proposals_page(dossier, form, clause.id), 400
    return obligations_page(reference, form), 400


@bp.get("/dossiers/<reference>/obligations/proposals")
@login_required
def proposals(reference: str) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_manage_obligations(current_user, dossier))
    return _proposals_page(dossier)


@bp.post("/dossiers/<reference>/obligations/proposals/<int:clause_id>/dismiss")
@login_required
def dismiss_proposal(reference: str, clause_id: int) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    clause = obligation_proposals.get_proposal_clause(current_user, dossier, clause_id)
    if clause is None:
        abort(404)  # not a clause of this dossier this user may read: as if missing
    access.require(access.can_manage_obligations(current_user, dossier))
    form = DismissProposalForm()
    if form.validate_on_submit():
        item = obligation_proposals.dismiss(current_user, dossier, clause, form.reason.data or "")
        db.session.commit()
        flash(_("Proposal dismissed: %(title)s.", title=item.title), "success")
    else:
        flash(_("The reason is too long (at most 500 characters)."), "error")
    return redirect(url_for("management.proposals", reference=reference))


@bp.post("/dossiers/<reference>/obligations/proposals/dismissed/<int:dismissal_id>/restore")
@login_required
def restore_proposal(reference: str, dismissal_id: int) -> Response:
    dossier = access.get_dossier_or_404(current_user, reference)
    if obligation_proposals.get_dismissal(dossier, dismissal_id) is None:
        abort(404)
    access.require(access.can_manage_obligations(current_user, dossier))
    item = obligation_proposals.restore(current_user, dossier, dismissal_id)
    if item is None:
        abort(404)
    db.session.commit()
    flash(_("Proposed again: %(title)s.", title=item.title), "success")
    return redirect(url_for("management.proposals", reference=reference))


def _proposals_page(
    dossier: Dossier, failed: ObligationForm | None = None, failed_clause: int | None = None
) -> str:
    forms = []
    for proposal in obligation_proposals.proposals(current_user, dossier):
        if failed is not None and proposal.clause.id == failed_clause:
            forms.append((proposal, _own_ids(failed, proposal.clause.id)))
            continue
        form = ObligationForm(
            formdata=None,
            clause_id=str(proposal.clause.id),
            title=proposal.title,
            party=proposal.party.value,
            recurrence=proposal.recurrence.value,
            # The sentence that states the duty goes with it (a withheld one has none).
            description=proposal.sentence,
        )
        form.offer(dossier)
        forms.append((proposal, _own_ids(form, proposal.clause.id)))
    return render_template(
        "management/proposals.html",
        dossier=dossier,
        proposals=forms,
        dismiss_form=DismissProposalForm(formdata=None),
        dismissed=obligation_proposals.dismissals(dossier),
    )


def _own_ids(form: ObligationForm, clause_id: int) -> ObligationForm:
    """Give a proposal's fields ids of their own (the names stay, as the form posts them), so
    each label belongs to its own card's field, not to the first card's."""
    for item in form:
        item.id = f"p{clause_id}-{item.name}"
        item.label.field_id = item.id
    return form


def _obligation_page(
    dossier: Dossier,
    item: Obligation,
    failed: tuple[date, FulfilForm] | None = None,
    edit: ObligationForm | None = None,
) -> str:
    today = deadlines.local_today()
    found = obligations.occurrences(item, today)
    forms = {}
    if access.can_fulfil(current_user, item):
        for occurrence in found:
            record = occurrence.record
            if failed is not None and failed[0] == occurrence.due_on:
                forms[occurrence.due_on] = failed[1]
                continue
            forms[occurrence.due_on] = FulfilForm(
                formdata=None,
                fulfilled_on=record.fulfilled_on if record else None,
                note=record.note if record else "",
                prefix=f"o{occurrence.due_on.isoformat()}",
            )
    if edit is None and access.can_manage_obligations(current_user, dossier):
        edit = ObligationForm(formdata=None, obj=item)
        edit.offer(dossier)
        edit.owner_id.data = str(item.owner_id or "")
        edit.party.data, edit.recurrence.data = item.party.value, item.recurrence.value
    version = obligations.readable_clause(current_user, item)
    return render_template(
        "management/obligation.html",
        edit=edit,
        dossier=dossier,
        item=item,
        occurrences=found,
        forms=forms,
        clause_version=version,
        clause_position=obligations.clause_position(item) if version else None,
        today=today,
    )


@bp.get("/dossiers/<reference>/obligations/<int:obligation_id>")
@login_required
def obligation(reference: str, obligation_id: int) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = access.get_obligation_or_404(current_user, dossier, obligation_id)
    return _obligation_page(dossier, item)


@bp.post("/dossiers/<reference>/obligations/<int:obligation_id>")
@login_required
def update_obligation(reference: str, obligation_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = access.get_obligation_or_404(current_user, dossier, obligation_id)
    access.require(access.can_manage_obligations(current_user, dossier))
    form = ObligationForm()
    form.offer(dossier)
    if form.validate_on_submit():
        try:
            obligations.update_obligation(current_user, item, form.values())
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(
                url_for("management.obligation", reference=reference, obligation_id=item.id)
            )
    return _obligation_page(dossier, item, edit=form), 400


@bp.post("/dossiers/<reference>/obligations/<int:obligation_id>/<due>")
@login_required
def fulfil(reference: str, obligation_id: int, due: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = access.get_obligation_or_404(current_user, dossier, obligation_id)
    try:
        due_on = date.fromisoformat(due)
    except ValueError:
        abort(404)
    today = deadlines.local_today()
    if obligations.find_occurrence(item, due_on, today) is None:
        abort(404)
    access.require(access.can_fulfil(current_user, item))
    form = FulfilForm(prefix=f"o{due_on.isoformat()}")
    if form.validate_on_submit():
        try:
            obligations.record_fulfilment(
                current_user, item, due_on, form.fulfilled_on.data, form.note.data or "", today
            )
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(
                url_for("management.obligation", reference=reference, obligation_id=item.id)
            )
    return _obligation_page(dossier, item, (due_on, form)), 400


@bp.get("/reports/obligations")
@login_required
def report() -> str:
    from dossier.web.reports import _display

    today = deadlines.local_today()
    tables = [
        reports.obligation_report(current_user, today),
        reports.action_report(current_user, today),
    ]
    return render_template("management/report.html", tables=[(t, _display(t)) for t in tables])
