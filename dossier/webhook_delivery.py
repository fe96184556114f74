"""Sending webhook deliveries (see `dossier.webhooks` for what they are): claimed from the
outbox by the drain (`dossier worker`, or the web process's background thread), signed, POSTed
with short timeouts and without following redirects, every attempt logged, retried with
back-off (`WEBHOOK_RETRY_SECONDS`, doubling up to an hour) `WEBHOOK_MAX_ATTEMPTS` times. A
client error of the receiver (4xx but 408, 425 and 429) is not retried: the same body would be
refused again. A 429's Retry-After (seconds, at most an hour) is waited out. Finished
deliveries are removed with their log after `WEBHOOK_DELIVERY_KEEP_DAYS`."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import requests
import sqlalchemy as sa
from flask import Flask, current_app

from dossier import outbox
from dossier.extensions import db
from dossier.models import (
    DeliveryStatus,
    OutboxItem,
    WebhookAttempt,
    WebhookDelivery,
    utcnow,
)
from dossier.webhooks import TOPICS

log = logging.getLogger(__name__)

BATCH = 10
MAX_BACKOFF = timedelta(hours=1)
MAX_RETRY_AFTER = 3600  # seconds: a longer Retry-After is cut to this
# Client errors that may pass: timeout, too early, too many requests (RFC 9110, RFC 8470).
RETRIABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
USER_AGENT = "Dossier-Webhooks/1"
TIDY_INTERVAL = 3600.0  # seconds between two clean-ups of old deliveries in one process


def signature(secret: str, timestamp: int, body: str) -> str:
    """The v1 signature: hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int
    retry_after: int | None = None  # seconds the receiver asked us to wait (429)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def permanent(self) -> bool:
        """A client error that sending the same body again cannot cure."""
        code = self.status_code
        return code is not None and 400 <= code < 500 and code not in RETRIABLE_CLIENT_ERRORS


def send(url: str, secret: str, event: str, delivery_id: str, body: str) -> Outcome:
    """POST one delivery, signed; never follows a redirect; short timeouts."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Dossier-Event": event,
        "X-Dossier-Delivery": delivery_id,
        "X-Dossier-Signature": f"t={timestamp},v1={signature(secret, timestamp, body)}",
    }
    config = current_app.config
    timeout = (float(config["WEBHOOK_CONNECT_TIMEOUT"]), float(config["WEBHOOK_READ_TIMEOUT"]))
    started = time.monotonic()
    try:
        with requests.post(
            url,
            data=body.encode(),
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,  # the answer's body is never read
        ) as response:
            status = response.status_code
            asked = response.headers.get("Retry-After") if status == 429 else None
    except requests.Timeout:
        return Outcome(None, "timed out", _ms(started))
    except requests.RequestException as exc:
        return Outcome(None, _reason(exc), _ms(started))
    outcome = Outcome(status, "", _ms(started), _retry_after(asked))
    if 300 <= status < 400:
        return replace(outcome, error="redirect not followed")
    if outcome.permanent:
        return replace(outcome, error=f"HTTP {status}: refused by the receiver, not retried")
    if not outcome.ok:
        return replace(outcome, error=f"HTTP {status}")
    return outcome


def _retry_after(value: str | None) -> int | None:
    """Retry-After as a number of seconds, capped; None for a date or anything else."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        return None
    return min(int(value), MAX_RETRY_AFTER)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _reason(exc: Exception) -> str:
    """The useful end of a requests error ("[Errno 111] Connection refused")."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    if found:
        return found.group(0).strip()[:500]
    return f"{type(exc).__name__}: {text}"[:500]


def backoff(attempts: int) -> timedelta:
    base = float(current_app.config["WEBHOOK_RETRY_SECONDS"])
    return min(timedelta(seconds=base * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def deliver_due(limit: int = BATCH) -> int:
    """Claim due deliveries from the outbox and send each; returns the items handled.

    Each delivery commits on its own, with its attempt logged; no transaction is open while a
    receiver is waited for.
    """
    items = outbox.claim(TOPICS, limit)
    for position, (item_id, _topic, delivery_id) in enumerate(items):
        try:
            _deliver(item_id, delivery_id)
        except Exception as exc:  # a database failure: the outbox keeps it, with back-off
            db.session.rollback()
            log.warning("webhook delivery %s failed: %s", delivery_id, exc)
            outbox.failed(item_id, exc)
        outbox.renew(i for i, _, _ in items[position + 1 :])
        db.session.commit()
    return len(items)


def _deliver(item_id: int, delivery_id: int) -> None:
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        outbox.done([item_id])  # its webhook was deleted, or it went out already
        db.session.commit()
        return
    hook = delivery.webhook
    if _postpone_while_unreachable(item_id, delivery):
        return
    request = (hook.url, hook.secret, delivery.event, delivery.uuid, delivery.body)
    db.session.commit()  # no transaction open while the receiver takes its time
    outcome = send(*request)
    _note_reachable(request[0], outcome)
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:  # deleted meanwhile
        outbox.done([item_id])
        db.session.commit()
        return
    _record(item_id, delivery, outcome)
    db.session.commit()


def _unreachable() -> dict[str, float]:
    """Addresses that did not answer at all, with the monotonic time until which this process
    leaves them alone: a receiver that is down costs one timeout per retry period, not one per
    queued delivery (a bulk import queues thousands)."""
    return current_app.extensions.setdefault("dossier.webhooks_unreachable", {})


def _note_reachable(url: str, outcome: Outcome) -> None:
    if outcome.status_code is None:
        _unreachable()[url] = time.monotonic() + backoff(1).total_seconds()
    else:
        _unreachable().pop(url, None)


def _postpone_while_unreachable(item_id: int, delivery: WebhookDelivery) -> bool:
    """Move a delivery to an address that just failed to answer to its retry time, without
    an attempt (none is counted or logged); commits. Returns whether it was postponed."""
    until = _unreachable().get(delivery.webhook.url, 0.0)
    wait = until - time.monotonic()
    if wait <= 0:
        return False
    delivery.next_attempt_at = utcnow() + timedelta(seconds=wait)
    outbox.retry_at(item_id, delivery.next_attempt_at, "waiting: the address did not answer")
    db.session.commit()
    return True


def _record(item_id: int, delivery: WebhookDelivery, outcome: Outcome) -> None:
    now = utcnow()
    db.session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error[:500],
            duration_ms=outcome.duration_ms,
        )
    )
    delivery.attempts += 1
    if outcome.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
            DeliveryStatus.DELIVERED,
            now,
            None,
        )
        outbox.done([item_id])
    elif outcome.permanent or delivery.attempts >= int(current_app.config["WEBHOOK_MAX_ATTEMPTS"]):
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        outbox.done([item_id])
    else:
        wait = max(backoff(delivery.attempts), timedelta(seconds=outcome.retry_after or 0))
        delivery.next_attempt_at = now + wait
        outbox.retry_at(item_id, delivery.next_attempt_at, outcome.error)
    db.session.flush()


def remove_old_deliveries(now: datetime) -> int:
    """Delete delivered and failed deliveries, with their attempts, untouched (made or tried)
    for `WEBHOOK_DELIVERY_KEEP_DAYS`; pending ones stay whatever their age. Returns how many;
    the caller commits. Nothing goes when the setting is empty (kept for ever)."""
    days = current_app.config["WEBHOOK_DELIVERY_KEEP_DAYS"]
    if not days:
        return 0
    cutoff = now - timedelta(days=float(days))
    tried_since = (
        sa.select(WebhookAttempt.id)
        .where(WebhookAttempt.delivery_id == WebhookDelivery.id, WebhookAttempt.at >= cutoff)
        .exists()
    )
    removed = db.session.execute(
        sa.delete(WebhookDelivery)
        .where(
            WebhookDelivery.status != DeliveryStatus.PENDING,
            WebhookDelivery.created_at < cutoff,
            ~tried_since,
        )
        .execution_options(synchronize_session=False)
    )
    return removed.rowcount


def tidy() -> int:
    """The drain's periodic work: remove old deliveries, at most once per TIDY_INTERVAL in
    this process (every drain on every node may do it: deleting twice removes nothing more);
    commits. Returns how many were removed."""
    due = current_app.extensions.get("dossier.webhooks_tidy_at", 0.0)
    if time.monotonic() < due:
        return 0
    current_app.extensions["dossier.webhooks_tidy_at"] = time.monotonic() + TIDY_INTERVAL
    removed = remove_old_deliveries(utcnow())
    db.session.commit()
    if removed:
        log.info("removed %d webhook deliveries older than the retention", removed)
    return removed


def due_count() -> int:
    """Deliveries in the outbox whose time has come (for the embedded set-up's watcher)."""
    now = utcnow()
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxItem)
            .where(
                OutboxItem.topic.in_(TOPICS),
                sa.or_(OutboxItem.not_before.is_(None), OutboxItem.not_before <= now),
                sa.or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
            )
        )
        or 0
    )


def watch(app: Flask, stop: threading.Event | None = None) -> threading.Thread:
    """In the embedded set-up (no `dossier worker`), wake the web process's drain when a
    retry falls due: otherwise nothing would until the next change is committed. Runs until
    `stop` is set (the life of the process when not given)."""
    from dossier import indexing

    interval = float(app.config["WEBHOOK_POLL_SECONDS"])
    stop = stop or threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                with app.app_context():
                    due = due_count()
                    db.session.remove()
                if due:
                    indexing.kick(app)
            except Exception:
                log.exception("looking for due webhook deliveries failed")

    thread = threading.Thread(target=loop, name="webhook-retries", daemon=True)
    thread.start()
    return thread
