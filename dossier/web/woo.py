"""Woo requests: register, collect documents by search, assess, mark passages, redact, and
export the inventory and the publication package."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import (
    DateField,
    FloatField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from dossier import access, deadlines, searching, woo, woo_deadlines, woo_package
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import WooDocument, WooRequest, WooStatus
from dossier.web.forms import Form
from search.query import QueryRefused

bp = Blueprint("woo", __name__, url_prefix="/woo")
CANDIDATES = 50


class RequestForm(Form):
    received_on = DateField(_l("Received on"), validators=[InputRequired()])
    requester = StringField(_l("Requester"), validators=[DataRequired(), Length(max=255)])
    subject = TextAreaField(_l("Subject"), validators=[DataRequired(), Length(max=10_000)])


class ExtendForm(Form):
    notice_on = DateField(_l("Requester told on"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=10_000)])


class SuspendForm(Form):
    days = IntegerField(_l("Days"), validators=[InputRequired(), NumberRange(1, 365)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=10_000)])


class DecisionForm(Form):
    decision_text = TextAreaField(_l("Decision letter"), validators=[Length(max=100_000)])


class AssessForm(Form):
    assessment = SelectField(_l("Assessment"), choices=[])
    grounds = SelectMultipleField(_l("Grounds (for a document withheld as a whole)"), choices=[])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=10_000)])


class PhraseForm(Form):
    phrase = StringField(_l("Words to redact"), validators=[DataRequired(), Length(max=500)])
    ground = SelectField(_l("Ground"), choices=[])
    scope = SelectField(
        _l("Where"),
        choices=[SelectChoice("page", _l("This page")), SelectChoice("all", _l("All pages"))],
    )


class AreaForm(Form):
    x0 = FloatField("x0", validators=[InputRequired(), NumberRange(0, 20_000)])
    y0 = FloatField("y0", validators=[InputRequired(), NumberRange(0, 20_000)])
    x1 = FloatField("x1", validators=[InputRequired(), NumberRange(0, 20_000)])
    y1 = FloatField("y1", validators=[InputRequired(), NumberRange(0, 20_000)])
    ground = SelectField(_l("Ground"), choices=[])


def _ground_choices(form: Any) -> None:
    form.ground.choices = [SelectChoice(c, f"{c} – {d}") for c, d in woo.grounds()]


def _flash(error: DomainError) -> None:
    if isinstance(error, ValidationError):
        for message in error.errors.values():
            flash(message, "error")
    else:
        flash(str(error), "error")


def _form_errors(form: Form) -> None:
    for field, messages in form.errors.items():
        label = getattr(form, field).label.text if hasattr(form, field) else field
        flash(f"{label}: {messages[0]}", "error")


def _get_request(request_id: int) -> WooRequest:
    access.require(access.can_view_woo(current_user))
    found = db.session.get(WooRequest, request_id)
    if found is None:
        abort(404)
    return found


def _get_item(found: WooRequest, item_id: int) -> WooDocument:
    """A document of the request, looked up through it; 404 unless the user may read it."""
    item = db.session.get(WooDocument, item_id)
    if item is None or item.request_id != found.id:
        abort(404)
    if not access.can_view_document(current_user, item.document):
        abort(404)
    return item


def _handle(request_id: int) -> WooRequest:
    """The request, for a change: only a handler (403 before the lookup for anyone else)."""
    access.require(access.can_handle_woo(current_user))
    return _get_request(request_id)


def _back(found: WooRequest) -> Response:
    return redirect(url_for("woo.show", request_id=found.id))


def _commit_or_flash(action: Any, message: str) -> bool:
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        _flash(error)
        return False
    db.session.commit()
    flash(message, "success")
    return True


@bp.app_template_global()
def woo_overview() -> dict[str, Any]:
    """The dashboard part of Woo handlers and auditors: decisions due soon, and overdue."""
    today = deadlines.local_today()
    days = int(current_app.config.get("WOO_WARNING_DAYS", 7))
    return {"today": today, "days": days, "due": woo_deadlines.upcoming(today, days)}


@bp.get("", endpoint="index")
@login_required
def index() -> str:
    access.require(access.can_view_woo(current_user))
    listed = [(r, woo_deadlines.deadline(r)) for r in woo_deadlines.requests()]
    return render_template(
        "woo/index.html",
        listed=listed,
        today=deadlines.local_today(),
        form=RequestForm(),
        can_handle=access.can_handle_woo(current_user),
    )


@bp.post("", endpoint="create")
@login_required
def create() -> Response:
    access.require(access.can_handle_woo(current_user))
    form = RequestForm()
    if not form.validate_on_submit():
        _form_errors(form)
        return redirect(url_for("woo.index"))
    try:
        created = woo.create_request(
            current_user,
            form.received_on.data,
            form.requester.data,
            form.subject.data,
            deadlines.local_today(),
        )
    except DomainError as error:
        db.session.rollback()
        _flash(error)
        return redirect(url_for("woo.index"))
    db.session.commit()
    flash(_("Woo request registered."), "success")
    return _back(created)


@bp.get("/<int:request_id>", endpoint="show")
@login_required
def show(request_id: int) -> tuple[str, int] | str:
    found = _get_request(request_id)
    items, hidden = woo.readable_items(current_user, found)
    text = request.args.get("q", "")[:500]
    candidates, refusal, status = [], None, 200
    if text.strip() and access.can_handle_woo(current_user):
        try:
            if searching.is_expensive(text):
                raise QueryRefused("expensive", _("wildcards are not used to collect documents"))
            outcome = searching.search(current_user, text, per_page=CANDIDATES)
            candidates = outcome.result.hits
        except QueryRefused as error:
            refusal, status = error, 400
    return render_template(
        "woo/show.html",
        found=found,
        due=woo_deadlines.deadline(found),
        today=deadlines.local_today(),
        items=items,
        hidden=hidden,
        collected={i.document_id for i in found.items},
        text=text,
        candidates=candidates,
        refusal=refusal,
        problems=woo.package_problems(found),
        grounds_of=woo.item_grounds,
        assessment_labels=woo_package.ASSESSMENT_LABELS,
        extend_form=ExtendForm(),
        suspend_form=SuspendForm(),
        decision_form=DecisionForm(data={"decision_text": found.decision_text}),
        can_handle=access.can_handle_woo(current_user) and found.status == WooStatus.OPEN,
        can_export=access.can_handle_woo(current_user) and not hidden,
    ), status


@bp.post("/<int:request_id>/extend", endpoint="extend")
@login_required
def extend(request_id: int) -> Response:
    found = _handle(request_id)
    form = ExtendForm()
    if not form.validate_on_submit():
        _form_errors(form)
    else:
        _commit_or_flash(
            lambda: woo.extend(current_user, found, form.notice_on.data, form.reason.data),
            _("Decision postponed."),
        )
    return _back(found)


@bp.post("/<int:request_id>/suspend", endpoint="suspend")
@login_required
def suspend(request_id: int) -> Response:
    found = _handle(request_id)
    form = SuspendForm()
    if not form.validate_on_submit():
        _form_errors(form)
    else:
        _commit_or_flash(
            lambda: woo.suspend(current_user, found, form.days.data, form.reason.data),
            _("Suspension recorded."),
        )
    return _back(found)


@bp.post("/<int:request_id>/decision", endpoint="decision")
@login_required
def decision(request_id: int) -> Response:
    found = _handle(request_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        _form_errors(form)
    else:
        _commit_or_flash(
            lambda: woo.set_decision_text(current_user, found, form.decision_text.data or ""),
            _("Decision letter saved."),
        )
    return _back(found)


@bp.post("/<int:request_id>/decide", endpoint="decide")
@login_required
def decide(request_id: int) -> Response:
    found = _handle(request_id)
    if not Form().validate_on_submit():
        abort(400)
    _commit_or_flash(
        lambda: woo.decide(current_user, found, deadlines.local_today()),
        _("The request is decided."),
    )
    return _back(found)


@bp.post("/<int:request_id>/documents", endpoint="collect")
@login_required
def collect(request_id: int) -> Response:
    found = _handle(request_id)
    if not Form().validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("documents") if v.isdigit() and len(v) < 10]
    _commit_or_flash(
        lambda: woo.collect(current_user, found, ids), _("Documents added to the request.")
    )
    return _back(found)
