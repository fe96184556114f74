"""The intake queue: mail and files the intake could not file on its own, for a beheerder to
assign to a dossier or to discard with a reason; and what the intake did lately."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from dossier import access, intake
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import IntakeItem
from dossier.web.forms import Form

bp = Blueprint("intake", __name__)


class AssignForm(Form):
    dossier = SelectField(_l("Dossier"), validators=[DataRequired()])


class DiscardForm(Form):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


@bp.app_context_processor
def _intake_link() -> dict[str, object]:
    def can_use_intake() -> bool:
        return current_user.is_authenticated and access.can_use_intake(current_user)

    return {"can_use_intake": can_use_intake}


def _require() -> None:
    access.require(access.can_use_intake(current_user), access.NEEDS_INTAKE)


def _choices() -> list[tuple[str, str]]:
    dossiers = intake.fileable_dossiers(current_user)
    return [("", "—")] + [(d.reference, f"{d.reference} · {d.title}") for d in dossiers]


@bp.get("/intake")
@login_required
def index() -> str:
    _require()
    choices = _choices()
    rows = []
    for item in intake.queued():
        assign_form = AssignForm(prefix=f"a{item.id}")
        assign_form.dossier.choices = choices
        rows.append((item, assign_form, DiscardForm(prefix=f"d{item.id}")))
    return render_template(
        "intake/index.html",
        rows=rows,
        recent=intake.recent(current_user),
        has_choices=len(choices) > 1,
    )


def _queued_or_404(item_id: int) -> IntakeItem:
    return intake.get_queued(item_id) or abort(404)


@bp.post("/intake/<int:intake_id>/assign")
@login_required
def assign(intake_id: int) -> Response:
    _require()
    item = _queued_or_404(intake_id)
    form = AssignForm(prefix=f"a{intake_id}")
    form.dossier.choices = _choices()
    if not form.validate_on_submit():
        flash(_("Choose a dossier you may file into."), "error")
        return redirect(url_for(".index"))
    dossier = access.get_dossier_or_404(current_user, form.dossier.data)
    try:
        document = intake.assign(current_user, item, dossier)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(_("Not filed: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".index"))
    flash(
        _("Filed into dossier %(ref)s as %(title)s.", ref=dossier.reference, title=document.title),
        "success",
    )
    return redirect(url_for(".index"))


@bp.post("/intake/<int:intake_id>/discard")
@login_required
def discard(intake_id: int) -> Response:
    _require()
    item = _queued_or_404(intake_id)
    form = DiscardForm(prefix=f"d{intake_id}")
    if not form.validate_on_submit():
        flash(_("Say why this item is discarded."), "error")
        return redirect(url_for(".index"))
    try:
        intake.discard(current_user, item, form.reason.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    flash(_("Discarded; the mail or file itself is kept where the intake put it."), "success")
    return redirect(url_for(".index"))
