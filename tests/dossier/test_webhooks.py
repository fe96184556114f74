"""`dossier/webhooks.py` against a real HTTP receiver on 127.0.0.1: deliveries are signed,
queued in the transaction of the change, retried with back-off while the receiver is down and
delivered once it is up, every attempt logged; bodies never carry a document's content, nor a
confidential title; deadlines are signalled once per threshold."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale

from dossier import documents, dossiers, indexing, webhook_delivery, webhooks
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Confidentiality,
    DeliveryStatus,
    Document,
    DocumentKind,
    Dossier,
    OutboxItem,
    OutboxTopic,
    User,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    utcnow,
)
from tests.conftest import ROOT
from tests.webhook_receiver import Receiver

CANARY = "zwavelzuurkanarie"  # in texts and titles that must never leave in a delivery
ALL_EVENTS = [e.value for e in webhooks.CHOOSABLE]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def make_webhook(admin: User) -> Callable[..., tuple[Webhook, str]]:
    def make(url: str, events: list[str] | None = None, active: bool = True) -> tuple[Webhook, str]:
        values = {"name": "Registratiesysteem", "url": url, "is_active": active}
        webhook, secret = webhooks.create_webhook(admin, values | {"events": events or ALL_EVENTS})
        db.session.commit()
        return webhook, secret

    return make


def _file(admin: User, dossier: Dossier, text: str, **kwargs: object) -> Document:
    with documents.receive(io.BytesIO(text.encode()), "brief.txt") as upload:
        document = documents.file_document(
            admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE, **kwargs
        )
    db.session.commit()
    return document


def _queued() -> int:
    query = sa.select(sa.func.count()).where(OutboxItem.topic == OutboxTopic.WEBHOOK_DELIVER)
    return db.session.scalar(query.select_from(OutboxItem)) or 0


def test_a_filed_document_reaches_the_receiver_signed(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    webhook, secret = make_webhook(receiver.url, ["document.filed"])
    assert secret.startswith("whsec_") and len(secret) > 40
    dossier = make_dossier("2025-031")
    document = _file(admin, dossier, f"Geachte heer, {CANARY}\n", title="Brief over de planning")
    assert _queued() == 1  # committed with the filing, before anything was sent
    assert webhook_delivery.deliver_due() == 1
    (got,) = receiver.received
    assert got.verify(secret)
    assert not got.verify(secret + "x")
    payload = got.payload
    delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
    assert got.headers["X-Dossier-Event"] == "document.filed"
    assert got.headers["X-Dossier-Delivery"] == payload["id"] == delivery.uuid
    assert got.headers["Content-Type"].startswith("application/json")
    assert payload["event"] == "document.filed"
    assert payload["dossier"]["reference"] == "2025-031"
    assert payload["dossier"]["url"].endswith("/dossiers/2025-031")
    assert payload["document"] == {
        "id": document.id,
        "kind": "correspondence",
        "title": "Brief over de planning",
        "confidential": False,
        "version": 1,
        "url": payload["document"]["url"],
    }
    assert payload["document"]["url"].endswith(f"/dossiers/2025-031/documents/{document.id}")
    assert CANARY not in got.body.decode() and "brief.txt" not in got.body.decode()
    # The timestamp is fresh and signed: a receiver can refuse old replays.
    stamp = int(got.headers["X-Dossier-Signature"].split(",")[0].removeprefix("t="))
    assert abs(time.time() - stamp) < 60
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.delivered_at is not None
    (attempt,) = delivery.tries
    assert attempt.status_code == 200 and attempt.error == "" and attempt.duration_ms >= 0
    assert _queued() == 0
    assert webhook.deliveries == [delivery]


def test_a_receiver_that_was_down_gets_the_delivery_after_back_off(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    app.config["WEBHOOK_RETRY_SECONDS"] = 2  # long enough for a loaded CI machine
    webhook, secret = make_webhook(receiver.url, ["document.filed"])
    receiver.stop()  # down: the connection is refused
    _file(admin, make_dossier("2025-032"), "Brief\n")
    assert webhook_delivery.deliver_due() == 1
    delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    (first,) = delivery.tries
    assert first.status_code is None and "refused" in first.error.lower()
    assert delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - first.at).total_seconds()
    assert 1.95 <= wait <= 2.1
    assert webhook_delivery.deliver_due() == 0  # not due yet: the back-off holds it
    item = db.session.scalars(
        sa.select(OutboxItem).where(OutboxItem.topic == OutboxTopic.WEBHOOK_DELIVER)
    ).one()
    assert item.attempts == 0 and "refused" in item.last_error.lower()

    receiver.status = 500  # up, but failing
    receiver.start()
    time.sleep(2.05)
    assert webhook_delivery.deliver_due() == 1
    db.session.refresh(delivery)
    assert [t.status_code for t in delivery.tries] == [None, 500]
    assert delivery.tries[1].error == "HTTP 500"
    wait = (delivery.next_attempt_at - delivery.tries[1].at).total_seconds()
    assert 3.95 <= wait <= 4.1  # doubled

    receiver.status = 200
    time.sleep(4.05)
    assert webhook_delivery.deliver_due() == 1
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [t.status_code for t in delivery.tries] == [None, 500, 200]
    failed, delivered = receiver.received
    assert failed.payload["id"] == delivered.payload["id"] == delivery.uuid
    assert failed.body == delivered.body and delivered.verify(secret)
    assert _queued() == 0


def test_after_the_last_attempt_it_fails_and_can_be_sent_again(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    app.config["WEBHOOK_RETRY_SECONDS"] = 0.05
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    make_webhook(receiver.url, ["document.filed"])
    receiver.status = 503
    _file(admin, make_dossier("2025-033"), "Brief\n")
    webhook_delivery.deliver_due()
    time.sleep(0.1)
    webhook_delivery.deliver_due()
    delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
    assert delivery.status == DeliveryStatus.FAILED and len(delivery.tries) == 2
    assert _queued() == 0  # given up: nothing waits in the outbox
    receiver.status = 204
    webhooks.redeliver(admin, delivery)
    db.session.commit()
    with pytest.raises(DomainError):
        webhooks.redeliver(admin, delivery)  # already waiting
    assert webhook_delivery.deliver_due() == 1
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [t.status_code for t in delivery.tries] == [503, 503, 204]
    assert len({r.payload["id"] for r in receiver.received}) == 1
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "webhook.redeliver" in actions


def test_a_redirect_is_not_followed(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    other = Receiver().start()
    try:
        receiver.status, receiver.location = 302, other.url
        webhook, _secret = make_webhook(receiver.url)
        webhooks.send_test(admin, webhook)
        db.session.commit()
        webhook_delivery.deliver_due()
        delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.tries[0].status_code == 302
        assert delivery.tries[0].error == "redirect not followed"
        assert other.received == []
    finally:
        other.stop()


def _ping(admin: User, webhook: Webhook, last: bool = False) -> WebhookDelivery:
    """Queue a test delivery, send it once, and reload it (the only one, or the `last`)."""
    webhooks.send_test(admin, webhook)
    db.session.commit()
    webhook_delivery.deliver_due()
    db.session.expire_all()
    found = db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id))
    return found.all()[-1] if last else found.one()


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_client_error_fails_at_once_without_retries(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
    status: int,
) -> None:
    """The receiver refuses the body itself: sending it again would be refused again."""
    receiver.status = status
    webhook, _secret = make_webhook(receiver.url)
    delivery = _ping(admin, webhook)
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    (attempt,) = delivery.tries
    assert attempt.status_code == status and f"HTTP {status}" in attempt.error
    assert _queued() == 0 and len(receiver.received) == 1


@pytest.mark.parametrize("status", [408, 425, 429, 500, 503])
def test_timeouts_too_early_too_many_and_server_errors_are_retried(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
    status: int,
) -> None:
    receiver.status = status
    webhook, _secret = make_webhook(receiver.url)
    delivery = _ping(admin, webhook)
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None
    assert delivery.tries[0].error == f"HTTP {status}" and _queued() == 1


@pytest.mark.parametrize(
    ("retry_after", "waited"),
    [("120", 120), ("99999999", 3600), ("Wed, 21 Oct 2026 07:28:00 GMT", 60), ("-5", 60)],
    ids=["seconds", "capped", "a-date-is-not-read", "negative"],
)
def test_a_429_retry_after_is_honoured_within_a_cap(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
    retry_after: str,
    waited: int,
) -> None:
    app.config["WEBHOOK_RETRY_SECONDS"] = 60
    receiver.status, receiver.headers = 429, {"Retry-After": retry_after}
    webhook, _secret = make_webhook(receiver.url)
    delivery = _ping(admin, webhook)
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - delivery.tries[0].at).total_seconds()
    assert waited <= wait <= waited + 1


def test_a_confidential_document_leaves_no_title_and_no_content(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    make_webhook(receiver.url)
    secret_dossier = make_dossier("2025-034", confidentiality="confidential")
    open_dossier = make_dossier("2025-035")
    hidden = _file(
        admin,
        open_dossier,
        f"Onderhandelingsruimte {CANARY}\n",
        title=f"Memo {CANARY}",
        confidentiality=Confidentiality.CONFIDENTIAL,
        comment=CANARY,
    )
    _file(admin, secret_dossier, "Brief\n", title=f"Brief {CANARY}")
    with documents.receive(io.BytesIO(f"Versie 2 {CANARY}\n".encode()), "v2.txt") as upload:
        documents.add_version(admin, hidden, upload, comment=f"herzien {CANARY}")
    db.session.commit()
    while webhook_delivery.deliver_due():
        pass
    bodies = [r.body.decode() for r in receiver.received]
    events = [r.payload["event"] for r in receiver.received]
    assert events.count("document.filed") == 2 and "document.version_added" in events
    assert all(CANARY not in body for body in bodies)
    by_document = {
        r.payload["document"]["id"]: r.payload["document"]
        for r in receiver.received
        if r.payload["event"] == "document.filed"
    }
    assert by_document[hidden.id]["title"] is None and by_document[hidden.id]["confidential"]
    secret_filed = [
        r.payload for r in receiver.received if r.payload["dossier"]["reference"] == "2025-034"
    ]
    assert all(p["dossier"]["title"] is None for p in secret_filed)
    assert all(p.get("document", {}).get("title") is None for p in secret_filed)
    # What is stored for the log is what was sent: the canary is not in the database either.
    stored = db.session.scalars(sa.select(WebhookDelivery.body)).all()
    assert all(CANARY not in body for body in stored)


def test_only_chosen_events_of_active_webhooks_are_queued(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    versions, _ = make_webhook(receiver.url, ["document.version_added"])
    changes, _ = make_webhook(receiver.url, ["dossier.changed"])
    make_webhook(receiver.url, ALL_EVENTS, active=False)
    dossier = make_dossier("2025-036")  # registered: dossier.changed "created"
    document = _file(admin, dossier, "Brief\n")  # nobody chose document.filed
    with documents.receive(io.BytesIO(b"Brief, tweede versie\n"), "brief.txt") as upload:
        documents.add_version(admin, document, upload)
    dossiers.update_dossier(
        admin, dossier, {"title": f"Nieuw {CANARY}", "value": Decimal("125000")}
    )
    db.session.commit()
    while webhook_delivery.deliver_due():
        pass
    got = sorted(
        (
            r.payload["event"],
            r.payload.get("change", ""),
            r.payload.get("document", {}).get("version", 0),
        )
        for r in receiver.received
    )
    assert got == [
        ("document.version_added", "", 2),
        ("dossier.changed", "created", 0),
        ("dossier.changed", "updated", 0),
    ]
    updated = next(r.payload for r in receiver.received if r.payload.get("change") == "updated")
    assert updated["fields"] == ["title", "value"]  # names, never the values
    assert "125000" not in json.dumps(updated)
    assert updated["dossier"]["title"] == f"Nieuw {CANARY}"  # a normal dossier's own title
    assert {d.webhook_id for d in db.session.scalars(sa.select(WebhookDelivery))} == {
        versions.id,
        changes.id,
    }


def test_deadlines_are_signalled_once_per_threshold(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    today = date(2026, 6, 1)
    assert webhooks.signal_deadlines(today) == 0  # nobody listens: nothing produced or kept
    make_webhook(receiver.url, ["deadline.approaching"])
    make_dossier(
        "2025-037",
        status="active",
        start_on=date(2025, 1, 1),
        end_on=today + timedelta(days=25),
        confidentiality="confidential",
        title=f"Contract {CANARY}",
    )
    assert webhooks.signal_deadlines(today) == 1
    db.session.commit()
    assert webhooks.signal_deadlines(today) == 0
    assert webhooks.signal_deadlines(today + timedelta(days=10)) == 0  # 15 days: still 30
    assert webhooks.signal_deadlines(today + timedelta(days=19)) == 1  # 6 days: the 7 threshold
    db.session.commit()
    assert webhooks.signal_deadlines(today + timedelta(days=20)) == 0
    while webhook_delivery.deliver_due():
        pass
    payloads = [r.payload for r in receiver.received]
    assert [p["deadline"]["threshold_days"] for p in payloads] == [30, 7]
    first = payloads[0]
    assert first["event"] == "deadline.approaching"
    assert first["deadline"]["kind"] == "end"
    assert first["deadline"]["due_on"] == (today + timedelta(days=25)).isoformat()
    assert first["deadline"]["days_left"] == 25
    assert first["dossier"]["title"] is None  # a confidential dossier keeps its title
    assert CANARY not in receiver.received[0].body.decode()


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/hook", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("file:///etc/passwd", "Only http:// and https://"),
        ("https:///hook", "no host name"),
        ("https://user:pw@example.org/hook", "no user name or password"),
        ("https://example.org/a b", "spaces"),
        ("https://example.org:99999/hook", "not a valid web address"),
        ("", "Enter the address"),
    ],
)
def test_addresses_other_than_http_and_https_are_refused(
    app: Flask, admin: User, url: str, message: str
) -> None:
    with force_locale("en"), pytest.raises(ValidationError) as caught:
        webhooks.create_webhook(admin, {"name": "X", "url": url, "events": ALL_EVENTS})
    assert message in caught.value.errors["url"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


@pytest.mark.any_database
def test_no_events_or_unknown_ones_are_refused(app: Flask, admin: User) -> None:
    for events in ([], ["ping"], ["document.deleted"]):
        with force_locale("en"), pytest.raises(ValidationError) as caught:
            webhooks.create_webhook(
                admin, {"name": "X", "url": "https://example.org/", "events": events}
            )
        assert "events" in caught.value.errors


def test_deleting_a_webhook_drops_its_queued_deliveries_and_the_secret_is_never_audited(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    webhook, secret = make_webhook(receiver.url)
    make_dossier("2025-038")
    new_secret = webhooks.rotate_secret(admin, webhook)
    db.session.commit()
    assert new_secret != secret and _queued() == 1
    webhooks.delete_webhook(admin, webhook)
    db.session.commit()
    assert _queued() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)) == 0
    assert webhook_delivery.deliver_due() == 0 and receiver.received == []
    trail = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "webhook"))
    events = list(trail)
    assert [e.action for e in events] == ["webhook.create", "webhook.secret", "webhook.delete"]
    assert all(
        s not in json.dumps([e.before, e.after]) for s in (secret, new_secret) for e in events
    )


def test_the_outbox_drain_delivers_them_too(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    """The worker's drain (and the web process's background drain) sends deliveries with the
    extraction and index work a filing queues."""
    webhook, secret = make_webhook(receiver.url, ["document.filed"])
    _file(admin, make_dossier("2025-039"), "Brief\n")
    indexing.drain()
    assert len(receiver.received) == 1 and receiver.received[0].verify(secret)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 0


def test_the_drain_removes_finished_deliveries_after_the_retention_and_keeps_pending_ones(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    """WEBHOOK_DELIVERY_KEEP_DAYS after a delivery was made and last tried, the worker's drain
    removes it with its attempts, unless it still waits to be sent."""
    webhook, _secret = make_webhook(receiver.url)
    outcomes = {"delivered": 200, "failed": 404, "pending": 500, "recent": 200, "retried": 404}
    made = {}
    for name, status in outcomes.items():
        receiver.status = status
        made[name] = _ping(admin, webhook, last=True).id
    # Ages: all but "recent" were made 91 days ago; "retried" was sent again yesterday.
    old, yesterday = utcnow() - timedelta(days=91), utcnow() - timedelta(days=1)
    aged = [made[n] for n in ("delivered", "failed", "pending", "retried")]
    db.session.execute(
        sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(aged)).values(created_at=old)
    )
    db.session.execute(
        sa.update(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(aged)).values(at=old)
    )
    db.session.add(WebhookAttempt(delivery_id=made["retried"], at=yesterday, status_code=404))
    db.session.commit()
    indexing.drain()
    db.session.expire_all()
    left = {d.id: d.status for d in db.session.scalars(sa.select(WebhookDelivery))}
    assert set(left) == {made["pending"], made["recent"], made["retried"]}
    assert left[made["pending"]] == DeliveryStatus.PENDING
    attempts = db.session.scalars(sa.select(WebhookAttempt.delivery_id)).all()
    assert made["delivered"] not in attempts and made["failed"] not in attempts
    assert made["pending"] in attempts


def test_deliveries_are_kept_for_ever_without_a_retention(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    app.config["WEBHOOK_DELIVERY_KEEP_DAYS"] = None
    webhook, _secret = make_webhook(receiver.url)
    _ping(admin, webhook)
    later = utcnow() + timedelta(days=3650)
    assert webhook_delivery.remove_old_deliveries(later) == 0
    app.config["WEBHOOK_DELIVERY_KEEP_DAYS"] = 90
    assert webhook_delivery.remove_old_deliveries(later) == 1


def test_a_deleted_delivery_leaves_the_outbox(app: Flask) -> None:
    db.session.add(OutboxItem(topic=OutboxTopic.WEBHOOK_DELIVER, object_id=123_456))
    db.session.commit()
    assert webhook_delivery.deliver_due() == 1
    assert _queued() == 0


def test_a_ping_goes_to_an_inactive_webhook_on_request(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    webhook, secret = make_webhook(receiver.url, active=False)
    webhooks.send_test(admin, webhook)
    db.session.commit()
    webhook_delivery.deliver_due()
    (got,) = receiver.received
    assert got.verify(secret) and got.payload["event"] == WebhookEvent.PING.value
    assert got.payload["test"] is True


def test_the_readme_receiver_example_verifies_a_real_delivery(
    app: Flask,
    admin: User,
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Webhooks") :]
    start = section.index("```python\n") + len("```python\n")
    namespace: dict[str, Any] = {}
    exec(section[start : section.index("```", start)], namespace)  # the example as printed
    webhook, secret = make_webhook(receiver.url)
    webhooks.send_test(admin, webhook)
    db.session.commit()
    webhook_delivery.deliver_due()
    (got,) = receiver.received
    header = got.headers["X-Dossier-Signature"]
    assert namespace["verify"](secret, header, got.body)
    assert not namespace["verify"](secret, header, got.body + b" ")
    assert not namespace["verify"](webhooks.new_secret(), header, got.body)
    old = header.replace(header.split(",")[0], f"t={int(time.time()) - 3600}")
    assert not namespace["verify"](secret, old, got.body)


def test_without_a_worker_the_web_process_retries_when_due(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    """`dossier run` in the embedded set-up: the watcher wakes the background drain when a
    retry falls due, with no change committed in between."""
    app.config.update(WEBHOOK_RETRY_SECONDS=0.3, WEBHOOK_POLL_SECONDS=0.1)
    webhook, secret = make_webhook(receiver.url, ["document.filed"])
    receiver.stop()
    _file(admin, make_dossier("2025-040"), "Brief\n")
    webhook_delivery.deliver_due()  # refused: waits for its retry
    db.session.commit()
    receiver.start()
    stop = threading.Event()
    watcher = webhook_delivery.watch(app, stop)
    try:
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        watcher.join()
    (got,) = receiver.received
    assert got.verify(secret)
    deadline = time.monotonic() + 10
    while _delivered_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _delivered_count() == 1
    while id(app) in indexing._kicked and time.monotonic() < deadline:  # let the drain end
        time.sleep(0.05)


def _delivered_count() -> int:
    db.session.rollback()  # see the background drain's commits
    query = sa.select(sa.func.count()).where(WebhookDelivery.status == DeliveryStatus.DELIVERED)
    return db.session.scalar(query.select_from(WebhookDelivery)) or 0


def test_the_commands_signal_deadlines_once_and_deliver(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    from dossier.cli import cli

    make_webhook(receiver.url, ["deadline.approaching"])
    make_dossier("2025-041", status="active", end_on=date(2026, 7, 1))
    runner = app.test_cli_runner()
    args = ["webhook-deadlines", "--date", "2026-06-25", "--json"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"deadline_events": 1}
    assert json.loads(runner.invoke(cli, args).output) == {"deadline_events": 0}
    sent = runner.invoke(cli, ["deliver-webhooks", "--json"])
    assert json.loads(sent.output) == {"handled": 1}
    (got,) = receiver.received
    assert got.payload["deadline"]["days_left"] == 6
    bad = runner.invoke(cli, ["webhook-deadlines", "--date", "morgen"])
    assert bad.exit_code == 1 and "is not a date" in bad.output


def test_an_address_that_does_not_answer_costs_one_attempt_per_retry_period(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    """Three filings queue three deliveries; with the receiver down, one is tried and the
    others wait for the same retry time without an attempt of their own. (The retry period is
    three seconds: with half a second, a CI machine under load passed it between the first
    attempt and the second delivery, which was then rightly tried.)"""
    app.config["WEBHOOK_RETRY_SECONDS"] = 3
    make_webhook(receiver.url, ["document.filed"])
    receiver.stop()
    dossier = make_dossier("2025-042")
    for _ in range(3):
        _file(admin, dossier, "Brief\n")
    assert webhook_delivery.deliver_due() == 3
    deliveries = db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [len(d.tries) for d in deliveries] == [1, 0, 0]
    assert all(d.status == DeliveryStatus.PENDING and d.next_attempt_at for d in deliveries)
    receiver.start()
    time.sleep(3.05)
    while webhook_delivery.deliver_due():
        pass
    for delivery in deliveries:
        db.session.refresh(delivery)
    assert [d.status for d in deliveries] == [DeliveryStatus.DELIVERED] * 3
    assert [len(d.tries) for d in deliveries] == [2, 1, 1]
    assert len(receiver.received) == 3


def test_the_daily_digest_run_signals_deadlines_and_a_preview_does_not(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    make_webhook: Callable[..., tuple[Webhook, str]],
    receiver: Receiver,
) -> None:
    from dossier.cli import cli

    make_webhook(receiver.url, ["deadline.approaching"])
    make_dossier("2025-043", status="active", end_on=date(2026, 7, 1))
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["digest", "--date", "2026-06-28"]).exit_code == 0
    assert _queued() == 0  # a preview changes nothing
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: the mail server is down
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    result = runner.invoke(cli, ["digest", "--send", "--date", "2026-06-28"])
    assert result.exit_code == 1 and "cannot send" in result.output
    assert _queued() == 1  # the webhooks heard of the deadline all the same
    event = db.session.scalars(sa.select(WebhookDelivery.event)).one()
    assert event == "deadline.approaching"
