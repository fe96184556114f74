"""Webhooks: signed HTTP deliveries of events to addresses an administrator registers.

An event (a document filed, a new version, a register change, a deadline approaching) queues one
delivery per active webhook that chose it, in the transaction of the change: a
`WebhookDelivery` row holding the exact JSON body, and an outbox item (`webhook.deliver`) that
the drain (`dossier worker`, or the web process's background thread) works off with
`dossier.webhook_delivery.deliver_due`. A receiver that does not answer 2xx is tried again
after `WEBHOOK_RETRY_SECONDS`, doubling per attempt up to an hour, `WEBHOOK_MAX_ATTEMPTS` times
in all; every attempt is logged (time, HTTP status or error, duration) and an administrator can
send a delivery again.

Bodies are thin: what happened, when, and where (ids, the dossier reference, the document's
kind, title and version number, links into the application), never a document's text, file
name or comment, and neither the title of a confidential document nor of a confidential dossier.
A receiver that needs more asks the application with credentials of its own.

Each request carries `X-Dossier-Signature: t=<unix time>,v1=<hex>`, the HMAC-SHA256 of
"<t>.<body>" keyed with the webhook's secret, `X-Dossier-Event` and `X-Dossier-Delivery` (the
same on every attempt, for the receiver's idempotence). Redirects are not followed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import uuid as uuid_module
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from dossier import audit
from dossier.config import public_url
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Confidentiality,
    DeadlineSignal,
    DeliveryStatus,
    Document,
    Dossier,
    OutboxItem,
    OutboxTopic,
    User,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    utcnow,
)

log = logging.getLogger(__name__)

TOPICS = (OutboxTopic.WEBHOOK_DELIVER,)
# The events an administrator can choose (PING is the test event, sent on request only).
CHOOSABLE = tuple(e for e in WebhookEvent if e != WebhookEvent.PING)
SECRET_PREFIX = "whsec_"
_SCHEMES = ("http", "https")


# ---------------------------------------------------------------------------- administration


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def validate(values: dict[str, Any]) -> dict[str, Any]:
    """Name, address and events, cleaned; ValidationError with a message per field."""
    errors: dict[str, str] = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the webhook a name.")
    url = str(values.get("url") or "").strip()
    problem = url_problem(url)
    if problem:
        errors["url"] = problem
    events = [str(e) for e in values.get("events") or []]
    unknown = [e for e in events if e not in {c.value for c in CHOOSABLE}]
    if unknown:
        errors["events"] = _("Unknown event: %(event)s.", event=unknown[0])
    elif not events:
        errors["events"] = _("Choose at least one event.")
    if errors:
        raise ValidationError(errors)
    chosen = [c.value for c in CHOOSABLE if c.value in events]  # in a fixed order
    return {
        "name": name[:255],
        "url": url,
        "events": chosen,
        "is_active": bool(values.get("is_active")),
    }


def url_problem(url: str) -> str | None:
    """Why `url` cannot receive deliveries, or None. Only http and https: administrators
    register these addresses, so private addresses are allowed (see the README)."""
    if not url:
        return _("Enter the address that receives the deliveries.")
    if len(url) > 2000:
        return _("The address is longer than 2000 characters.")
    if re.search(r"\s", url):
        return _("The address contains spaces.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a valid web address.")
    if parts.scheme.lower() not in _SCHEMES:
        return _("Only http:// and https:// addresses can receive webhooks.")
    if not parts.hostname:
        return _("The address has no host name, such as https://example.org/hook.")
    if parts.username or parts.password:
        return _("Put no user name or password in the address; verify the signature instead.")
    if port == 0:
        return _("This is not a valid web address.")
    return None


def origin(url: str) -> str:
    """scheme://host[:port] of an address: never its user info, path or query, where a
    receiver's token may sit (https://hooks.example/abc?token=...)."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # IPv6
    return f"{parts.scheme.lower()}://{host}{port}"


def masked_url(url: str) -> str:
    """The address for lists: origin and path, a query shown as "?…", no user info."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return origin(url) + parts.path + ("?…" if parts.query else "")


def _snapshot(webhook: Webhook) -> dict[str, Any]:
    """What the audit trail records of a webhook: never its secret, nor its full address (it
    may carry a token): the origin, and a SHA-256 that tells whether the address changed."""
    return {
        "name": webhook.name,
        "url": origin(webhook.url),
        "url_sha256": hashlib.sha256(webhook.url.encode()).hexdigest(),
        "events": list(webhook.events),
        "is_active": webhook.is_active,
    }


def create_webhook(actor: User, values: dict[str, Any]) -> tuple[Webhook, str]:
    """Register a webhook; returns it and its secret (shown to the administrator once)."""
    clean = validate(values)
    secret = new_secret()
    webhook = Webhook(**clean, secret=secret, created_by_id=actor.id)
    db.session.add(webhook)
    db.session.flush()
    audit.record(actor, AuditAction.WEBHOOK_CREATE, "webhook", webhook.id, after=_snapshot(webhook))
    return webhook, secret


def update_webhook(actor: User, webhook: Webhook, values: dict[str, Any]) -> bool:
    """Change name, address, events or on/off; returns whether anything changed (audited)."""
    clean = validate(values)
    before = _snapshot(webhook)
    for name, value in clean.items():
        setattr(webhook, name, value)
    after = _snapshot(webhook)
    changed = {k for k in after if after[k] != before[k]}
    if not changed:
        return False
    db.session.flush()
    audit.record(
        actor,
        AuditAction.WEBHOOK_UPDATE,
        "webhook",
        webhook.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return True


def rotate_secret(actor: User, webhook: Webhook) -> str:
    """Give the webhook a new secret (the old one stops at once); returns it, to show once."""
    webhook.secret = new_secret()
    db.session.flush()
    audit.record(
        actor, AuditAction.WEBHOOK_SECRET, "webhook", webhook.id, after={"name": webhook.name}
    )
    return webhook.secret


def delete_webhook(actor: User, webhook: Webhook) -> None:
    """Remove a webhook with its deliveries and their log; queued deliveries are dropped."""
    delivery_ids = sa.select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook.id)
    db.session.execute(
        sa.delete(OutboxItem)
        .where(OutboxItem.topic.in_(TOPICS), OutboxItem.object_id.in_(delivery_ids))
        .execution_options(synchronize_session=False)
    )
    audit.record(
        actor, AuditAction.WEBHOOK_DELETE, "webhook", webhook.id, before=_snapshot(webhook)
    )
    db.session.delete(webhook)
    db.session.flush()


def send_test(actor: User, webhook: Webhook) -> WebhookDelivery:
    """Queue a `ping` delivery to the webhook (active or not), to try the receiver."""
    payload = {"event": WebhookEvent.PING.value, "occurred_at": _iso(utcnow()), "test": True}
    delivery = _queue(webhook, WebhookEvent.PING, payload)
    audit.record(
        actor, AuditAction.WEBHOOK_TEST, "webhook", webhook.id, after={"delivery": delivery.uuid}
    )
    return delivery


def redeliver(actor: User, delivery: WebhookDelivery) -> None:
    """Send a delivery again, with the same id and body and a fresh round of attempts."""
    if delivery.status == DeliveryStatus.PENDING:
        raise DomainError(_("This delivery is already waiting to be sent."))
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    db.session.add(OutboxItem(topic=OutboxTopic.WEBHOOK_DELIVER, object_id=delivery.id))
    db.session.flush()
    audit.record(
        actor,
        AuditAction.WEBHOOK_REDELIVER,
        "webhook",
        delivery.webhook_id,
        after={"delivery": delivery.uuid, "event": delivery.event},
    )


def all_webhooks() -> list[Webhook]:
    return list(db.session.scalars(sa.select(Webhook).order_by(Webhook.name, Webhook.id)))


def get_delivery(webhook: Webhook, delivery_id: int) -> WebhookDelivery | None:
    """A delivery looked up through its webhook."""
    return db.session.scalar(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook.id
        )
    )


def recent_deliveries(webhook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------------------- events


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _link(endpoint: str, **values: Any) -> str:
    """An absolute address in the application, without a request (BASE_URL, see the README)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return public_url(current_app.config) + path


def _dossier_part(dossier: Dossier) -> dict[str, Any]:
    confidential = dossier.confidentiality == Confidentiality.CONFIDENTIAL
    return {
        "id": dossier.id,
        "reference": dossier.reference,
        "title": None if confidential else dossier.title,
        "confidential": confidential,
        "url": _link("dossiers.show", reference=dossier.reference),
    }


def _document_part(document: Document, number: int) -> dict[str, Any]:
    """A document without its content: no text, file name or comment; no title either when
    it, or its dossier, is confidential."""
    withheld = document.is_confidential or (
        document.dossier.confidentiality == Confidentiality.CONFIDENTIAL
    )
    return {
        "id": document.id,
        "kind": document.kind.value,
        "title": None if withheld else document.title,
        "confidential": document.is_confidential,
        "version": number,
        "url": _link(
            "documents.show", reference=document.dossier.reference, document_id=document.id
        ),
    }


def subscribed(event: WebhookEvent) -> list[Webhook]:
    """The active webhooks that chose `event`."""
    active = db.session.scalars(sa.select(Webhook).where(Webhook.is_active.is_(True)))
    return [w for w in active if event.value in (w.events or [])]


def notify(
    event: WebhookEvent,
    dossier: Dossier,
    *,
    document: Document | None = None,
    version: int | None = None,
    **extra: Any,
) -> int:
    """Queue a delivery of `event` for every webhook that chose it, in the caller's
    transaction; returns how many. Flushes."""
    hooks = subscribed(event)
    if not hooks:
        return 0
    payload: dict[str, Any] = {
        "event": event.value,
        "occurred_at": _iso(utcnow()),
        "dossier": _dossier_part(dossier),
    }
    if document is not None:
        payload["document"] = _document_part(document, version or document.current_version_number)
    payload.update(extra)
    for webhook in hooks:
        _queue(webhook, event, payload)
    return len(hooks)


def document_filed(document: Document) -> None:
    notify(WebhookEvent.DOCUMENT_FILED, document.dossier, document=document, version=1)


def version_added(document: Document, number: int) -> None:
    """A version after the first (the first is part of `document.filed`)."""
    if number > 1:
        notify(WebhookEvent.VERSION_ADDED, document.dossier, document=document, version=number)


def dossier_changed(dossier: Dossier, change: str, fields: Iterable[str] = ()) -> None:
    """A dossier registered ("created") or its register data changed ("updated"): the names
    of the changed fields, never their values."""
    notify(WebhookEvent.DOSSIER_CHANGED, dossier, change=change, fields=sorted(fields))


def _queue(webhook: Webhook, event: WebhookEvent, payload: dict[str, Any]) -> WebhookDelivery:
    delivery_id = str(uuid_module.uuid4())
    body = json.dumps({"id": delivery_id, **payload}, ensure_ascii=False, separators=(",", ":"))
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        uuid=delivery_id,
        event=event.value,
        body=body,
        status=DeliveryStatus.PENDING,
        next_attempt_at=utcnow(),
    )
    db.session.add(delivery)
    db.session.flush()
    db.session.add(OutboxItem(topic=OutboxTopic.WEBHOOK_DELIVER, object_id=delivery.id))
    db.session.flush()
    return delivery


def signal_deadlines(today: date) -> int:
    """Queue `deadline.approaching` for every open deadline within one of the thresholds
    (`WEBHOOK_DEADLINE_DAYS`), once per deadline and threshold: a deadline 25 days ahead is
    signalled for 30 days now and for 7 days later, never twice for one. Returns the events
    produced; flushes. Run daily (`dossier digest --send` does; `dossier webhook-deadlines`)."""
    from dossier import deadlines  # it imports dossier.dossiers, which imports this module

    if not subscribed(WebhookEvent.DEADLINE_APPROACHING):
        return 0
    thresholds = sorted(int(t) for t in current_app.config["WEBHOOK_DEADLINE_DAYS"])
    everything = db.session.scalars(sa.select(Dossier).order_by(Dossier.id)).all()
    produced = 0
    for deadline in deadlines.upcoming(deadlines.for_dossiers(everything, today), thresholds[-1]):
        threshold = min(t for t in thresholds if deadline.days_left <= t)
        key = (deadline.dossier.id, deadline.kind.value, deadline.due_on, threshold)
        if db.session.get(DeadlineSignal, key) is not None:
            continue
        db.session.add(
            DeadlineSignal(dossier_id=key[0], kind=key[1], due_on=key[2], threshold_days=threshold)
        )
        notify(
            WebhookEvent.DEADLINE_APPROACHING,
            deadline.dossier,
            deadline={
                "kind": deadline.kind.value,
                "due_on": deadline.due_on.isoformat(),
                "days_left": deadline.days_left,
                "threshold_days": threshold,
                "url": _link(
                    "reports.deadline",
                    reference=deadline.dossier.reference,
                    kind=deadline.kind.value,
                    due=deadline.due_on.isoformat(),
                ),
            },
        )
        produced += 1
    db.session.flush()
    return produced
