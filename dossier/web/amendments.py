"""The amendment register of a dossier: the list with the current value, proposing an
amendment (beheerder, manager), and the owner's decision on it (four eyes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from dossier import access, amendments, checks, deadlines
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import Amendment, Dossier
from dossier.web.amendment_forms import AmendmentForm, DecisionForm
from dossier.web.forms import Form

bp = Blueprint("amendments", __name__)


def _flash_errors(error: ValidationError, form: Form) -> None:
    for name, message in error.errors.items():
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            flash(message, "error")


def _flags(dossier: Dossier) -> dict[int, list[checks.Flag]]:
    """The flags of the checks on this dossier's amendments, by amendment id."""
    found: dict[int, list[checks.Flag]] = {}
    for flag in checks.evaluate([dossier], deadlines.local_today()):
        if flag.amendment is not None:
            found.setdefault(flag.amendment.id, []).append(flag)
    return found


@bp.get("/dossiers/<reference>/amendments", endpoint="index")
@login_required
def index(reference: str, form: AmendmentForm | None = None) -> str:
    dossier = access.get_dossier_or_404(current_user, reference)
    can_propose = access.can_propose_amendment(current_user, dossier)
    if form is None and can_propose:
        form = AmendmentForm(legal_ground="2.163b")
        form.offer(dossier)
    return render_template(
        "amendments/index.html",
        dossier=dossier,
        items=amendments.of_dossier(dossier),
        current_value=amendments.current_value(dossier),
        flags=_flags(dossier),
        form=form,
        can_propose=can_propose,
    )


@bp.post("/dossiers/<reference>/amendments")
@login_required
def create(reference: str) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    access.require(access.can_propose_amendment(current_user, dossier))
    form = AmendmentForm()
    form.offer(dossier)
    if form.validate_on_submit():
        try:
            item = amendments.propose(current_user, dossier, form.values())
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("Amendment recorded; it awaits the contract owner's approval."), "success")
            return redirect(url_for("amendments.show", reference=reference, amendment_id=item.id))
    return index(reference, form), 400


def _show(dossier: Dossier, item: Amendment, form: DecisionForm | None, status: int = 200) -> Any:
    can_decide = access.can_decide_amendment(current_user, item)
    if form is None and can_decide:
        form = DecisionForm()
    return render_template(
        "amendments/show.html",
        dossier=dossier,
        item=item,
        documents=amendments.readable_documents(current_user, item),
        hidden_documents=len(item.documents)
        - len(amendments.readable_documents(current_user, item)),
        flags=_flags(dossier).get(item.id, []),
        form=form if can_decide else None,
        own_proposal=item.proposed_by_id == current_user.id,
    ), status


@bp.get("/dossiers/<reference>/amendments/<int:amendment_id>")
@login_required
def show(reference: str, amendment_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = access.get_amendment_or_404(current_user, dossier, amendment_id)
    return _show(dossier, item, None)


@bp.post("/dossiers/<reference>/amendments/<int:amendment_id>/decision")
@login_required
def decide(reference: str, amendment_id: int) -> Any:
    dossier = access.get_dossier_or_404(current_user, reference)
    item = access.get_amendment_or_404(current_user, dossier, amendment_id)
    access.require(access.can_decide_amendment(current_user, item))
    form = DecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        try:
            amendments.decide(current_user, item, approve, form.decision_note.data or "")
        except ValidationError as error:
            db.session.rollback()
            _flash_errors(error, form)
        else:
            db.session.commit()
            flash(_("Amendment approved.") if approve else _("Amendment rejected."), "success")
            return redirect(url_for("amendments.show", reference=reference, amendment_id=item.id))
    return _show(dossier, item, form, 400)
