"""Webhooks in the administration: register an address and its events, edit, remove, see every
delivery with its attempts, send a delivery again, send a test event, give a new secret."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectChoice, SelectMultipleField, StringField, widgets
from wtforms.validators import Length

from dossier import access, webhooks
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import Webhook, WebhookDelivery, WebhookEvent
from dossier.web.forms import Form

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")

EVENT_LABELS = {
    WebhookEvent.DOCUMENT_FILED: _l("Document filed"),
    WebhookEvent.VERSION_ADDED: _l("New version of a document"),
    WebhookEvent.DEADLINE_APPROACHING: _l("Deadline approaching"),
    WebhookEvent.DOSSIER_CHANGED: _l("Dossier registered or changed"),
    WebhookEvent.PING: _l("Test event"),
}


class WebhookForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=255)])
    url = StringField(_l("Address (URL)"), validators=[Length(max=2000)])
    events = SelectMultipleField(
        _l("Events"),
        choices=[SelectChoice(e.value, EVENT_LABELS[e]) for e in webhooks.CHOOSABLE],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
        validate_choice=False,  # the domain names an unknown event in its message
    )
    is_active = BooleanField(_l("Active (sends events)"), default=True)


@bp.before_request
def _administrators_only() -> None:
    access.require(
        current_user.is_authenticated and access.can_manage_webhooks(current_user),
        access.NEEDS_ADMIN,
    )


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"webhook_event_labels": EVENT_LABELS}


@bp.app_template_filter("pretty_json")
def _pretty_json(body: str) -> str:
    """A delivery's body indented for reading (the log shows what was sent)."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


@bp.app_template_filter("masked_url")
def _masked_url(url: str) -> str:
    """The list shows no query string (it may hold a token); the webhook's own page does."""
    return webhooks.masked_url(url)


def _webhook_or_404(webhook_id: int) -> Webhook:
    return db.session.get(Webhook, webhook_id) or abort(404)


def _delivery_or_404(webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    return webhooks.get_delivery(webhook, delivery_id) or abort(404)


def _values(form: WebhookForm) -> dict[str, object]:
    return {
        "name": form.name.data,
        "url": form.url.data,
        "events": form.events.data or [],
        "is_active": form.is_active.data,
    }


def _show_errors(form: WebhookForm, error: ValidationError) -> None:
    for name, message in error.errors.items():
        getattr(form, name).errors = [message]


@bp.get("")
@login_required
def index(form: WebhookForm | None = None) -> str:
    return render_template(
        "webhooks/index.html", webhooks=webhooks.all_webhooks(), form=form or WebhookForm()
    )


@bp.post("")
@login_required
def create() -> str | tuple[str, int]:
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            webhook, secret = webhooks.create_webhook(current_user, _values(form))
        except ValidationError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Webhook %(name)s registered.", name=webhook.name), "success")
            return render_template("webhooks/secret.html", webhook=webhook, secret=secret)
    return index(form), 400


@bp.get("/<int:webhook_id>")
@login_required
def show(webhook_id: int, form: WebhookForm | None = None) -> str:
    webhook = _webhook_or_404(webhook_id)
    if form is None:
        form = WebhookForm(
            data={
                "name": webhook.name,
                "url": webhook.url,
                "events": list(webhook.events),
                "is_active": webhook.is_active,
            }
        )
    return render_template(
        "webhooks/show.html",
        webhook=webhook,
        form=form,
        deliveries=webhooks.recent_deliveries(webhook),
    )


@bp.post("/<int:webhook_id>")
@login_required
def update(webhook_id: int) -> str | Response | tuple[str, int]:
    webhook = _webhook_or_404(webhook_id)
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            changed = webhooks.update_webhook(current_user, webhook, _values(form))
        except ValidationError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for(".show", webhook_id=webhook.id))
    return show(webhook_id, form), 400


@bp.post("/<int:webhook_id>/delete")
@login_required
def delete(webhook_id: int) -> Response:
    webhook = _webhook_or_404(webhook_id)
    name = webhook.name
    webhooks.delete_webhook(current_user, webhook)
    db.session.commit()
    flash(_("Webhook %(name)s removed, with its deliveries.", name=name), "success")
    return redirect(url_for(".index"))


@bp.post("/<int:webhook_id>/secret")
@login_required
def new_secret(webhook_id: int) -> str:
    webhook = _webhook_or_404(webhook_id)
    secret = webhooks.rotate_secret(current_user, webhook)
    db.session.commit()
    return render_template("webhooks/secret.html", webhook=webhook, secret=secret)


@bp.post("/<int:webhook_id>/test")
@login_required
def send_test(webhook_id: int) -> Response:
    webhook = _webhook_or_404(webhook_id)
    webhooks.send_test(current_user, webhook)
    db.session.commit()
    flash(_("A test event is queued; its delivery appears in the log below."), "success")
    return redirect(url_for(".show", webhook_id=webhook.id))


@bp.get("/<int:webhook_id>/deliveries/<int:delivery_id>")
@login_required
def delivery(webhook_id: int, delivery_id: int) -> str:
    webhook = _webhook_or_404(webhook_id)
    return render_template(
        "webhooks/delivery.html", webhook=webhook, delivery=_delivery_or_404(webhook, delivery_id)
    )


@bp.post("/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
@login_required
def redeliver(webhook_id: int, delivery_id: int) -> Response:
    webhook = _webhook_or_404(webhook_id)
    found = _delivery_or_404(webhook, delivery_id)
    try:
        webhooks.redeliver(current_user, found)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The delivery is queued to be sent again."), "success")
    return redirect(url_for(".show", webhook_id=webhook.id))
