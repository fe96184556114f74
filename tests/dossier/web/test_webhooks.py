"""`dossier/web/webhooks.py`: an administrator registers a webhook (the secret shown once),
edits and removes it, sends a test event, reads the delivery log and sends a delivery again;
a bad address gets a clear message and saves nothing; nobody else gets in."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import webhook_delivery, webhooks
from dossier.extensions import db
from dossier.models import DeliveryStatus, GlobalRole, User, Webhook, WebhookDelivery
from tests.dossier.helpers import _english, _events, _section, _text
from tests.webhook_receiver import Receiver

EVENTS = ["document.filed", "deadline.approaching"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def client(app: Flask, admin: User) -> FlaskClient:
    client = app.test_client(user=admin)
    _english(client)
    return client


def _register(client: FlaskClient, url: str, events: list[str] = EVENTS) -> tuple[str, Webhook]:
    data = {"name": "Zaaksysteem", "url": url, "events": events, "is_active": "y"}
    response = client.post("/admin/webhooks", data=data)
    assert response.status_code == 200
    page = _text(response)
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', page)
    assert secret, "the secret is shown once"
    return secret.group(1), db.session.scalars(sa.select(Webhook)).one()


def test_an_admin_registers_a_webhook_and_sees_the_secret_once(
    app: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    secret, webhook = _register(client, receiver.url)
    assert webhook.secret == secret and webhook.events == EVENTS and webhook.is_active
    page = _text(client.get(f"/admin/webhooks/{webhook.id}"))
    assert secret not in page and secret[:10] in page
    assert receiver.url in _text(client.get("/admin/webhooks"))
    (event,) = _events("webhook.create")
    assert (
        secret not in str(event.after) and event.after["url"] == f"http://127.0.0.1:{receiver.port}"
    )


def test_a_token_in_the_address_stays_out_of_the_audit_trail_and_the_list(
    app: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    """Receivers often take a token in the address: the audit trail keeps the origin and a
    SHA-256 of the whole address; the list shows no query; the webhook's page shows it all."""
    tokened = f"{receiver.url}?token=TOPSECRET1"
    _secret, webhook = _register(client, tokened)
    other = "https://hooks.example:8443/abc?token=TOPSECRET2#frag"
    data = {"name": "Zaaksysteem", "url": other, "events": EVENTS, "is_active": "y"}
    assert client.post(f"/admin/webhooks/{webhook.id}", data=data).status_code == 302
    assert client.post(f"/admin/webhooks/{webhook.id}/delete").status_code == 302
    events = _events("webhook.create") + _events("webhook.update") + _events("webhook.delete")
    assert [e.action for e in events] == ["webhook.create", "webhook.update", "webhook.delete"]
    trail = str([(e.before, e.after) for e in events])
    assert "TOPSECRET" not in trail and f"{receiver.port}/hook" not in trail and "/abc" not in trail
    created, updated, _deleted = events
    assert created.after["url"] == f"http://127.0.0.1:{receiver.port}"
    assert created.after["url_sha256"] == hashlib.sha256(tokened.encode()).hexdigest()
    assert updated.before["url_sha256"] == created.after["url_sha256"]
    assert updated.after["url"] == "https://hooks.example:8443"
    assert updated.after["url_sha256"] == hashlib.sha256(other.encode()).hexdigest()

    _secret, webhook = _register(client, tokened)
    listed = _text(client.get("/admin/webhooks"))
    assert "TOPSECRET" not in listed and f"{receiver.url}?…" in listed
    assert tokened in _text(client.get(f"/admin/webhooks/{webhook.id}"))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.example/abc?token=x", "https://hooks.example"),
        ("HTTPS://Hooks.Example:8443/a", "https://hooks.example:8443"),
        ("http://user:pass@hooks.example/a", "http://hooks.example"),
        ("http://[::1]:9000/a?b", "http://[::1]:9000"),
    ],
)
def test_the_origin_of_an_address_never_holds_user_info_path_or_query(url: str, shown: str) -> None:
    assert webhooks.origin(url) == shown
    assert "pass" not in webhooks.masked_url(url) and "token" not in webhooks.masked_url(url)


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/x", "Only http:// and https:// addresses can receive webhooks."),
        ("example.org/hook", "Only http:// and https:// addresses can receive webhooks."),
        ("", "Enter the address that receives the deliveries."),
    ],
)
def test_a_bad_address_gets_a_clear_message_and_keeps_the_form(
    app: Flask, client: FlaskClient, url: str, message: str
) -> None:
    data = {"name": "Zaaksysteem", "url": url, "events": EVENTS, "is_active": "y"}
    response = client.post("/admin/webhooks", data=data)
    assert response.status_code == 400
    page = _text(response)
    assert message in page and 'value="Zaaksysteem"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


@pytest.mark.any_database
def test_no_event_chosen_is_refused(app: Flask, client: FlaskClient) -> None:
    data = {"name": "Zaaksysteem", "url": "https://example.org/hook", "is_active": "y"}
    response = client.post("/admin/webhooks", data=data)
    assert response.status_code == 400 and "Choose at least one event." in _text(response)


def test_test_event_log_and_send_again(app: Flask, client: FlaskClient, receiver: Receiver) -> None:
    secret, webhook = _register(client, receiver.url)
    receiver.status = 500
    response = client.post(f"/admin/webhooks/{webhook.id}/test")
    assert response.status_code == 302
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    assert webhook_delivery.deliver_due() == 1
    log = _section(_text(client.get(f"/admin/webhooks/{webhook.id}")), "h-deliveries")
    assert "Test event" in log and "HTTP 500" in log and "failed, no more attempts" in log
    delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
    receiver.status = 200
    url = f"/admin/webhooks/{webhook.id}/deliveries/{delivery.id}/redeliver"
    assert client.post(url).status_code == 302
    again = client.post(url)  # already waiting: a message, nothing queued twice
    assert again.status_code == 302
    assert "already waiting" in _text(client.get(f"/admin/webhooks/{webhook.id}"))
    assert webhook_delivery.deliver_due() == 1
    db.session.refresh(delivery)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert all(r.verify(secret) for r in receiver.received) and len(receiver.received) == 2
    detail = _text(client.get(f"/admin/webhooks/{webhook.id}/deliveries/{delivery.id}"))
    assert delivery.uuid in detail and "HTTP status" in detail and '"event": "ping"' in detail
    assert [e.action for e in _events("webhook.test")] == ["webhook.test"]


def test_edit_new_secret_and_remove(app: Flask, client: FlaskClient, receiver: Receiver) -> None:
    secret, webhook = _register(client, receiver.url)
    data = {"name": "Financiën", "url": receiver.url, "events": ["dossier.changed"]}
    assert client.post(f"/admin/webhooks/{webhook.id}", data=data).status_code == 302
    db.session.refresh(webhook)
    assert webhook.name == "Financiën" and webhook.events == ["dossier.changed"]
    assert not webhook.is_active  # the box was not ticked
    bad = client.post(f"/admin/webhooks/{webhook.id}", data={**data, "url": "gopher://x"})
    assert bad.status_code == 400 and "Only http://" in _text(bad)
    page = _text(client.post(f"/admin/webhooks/{webhook.id}/secret"))
    db.session.refresh(webhook)
    assert webhook.secret != secret and webhook.secret in page
    assert client.post(f"/admin/webhooks/{webhook.id}/delete").status_code == 302
    assert db.session.get(Webhook, webhook.id) is None
    actions = [e.action for e in _events("webhook.update") + _events("webhook.delete")]
    assert actions == ["webhook.update", "webhook.delete"]


def test_only_administrators_reach_webhooks(
    app: Flask, make_user: Callable[..., User], admin: User
) -> None:
    webhook, _secret = webhooks.create_webhook(
        admin, {"name": "X", "url": "https://example.org/", "events": EVENTS}
    )
    db.session.commit()
    for role in (GlobalRole.BEHEERDER, GlobalRole.AUDITOR, None):
        user = make_user(role=role)
        client = app.test_client(user=user)
        assert client.get("/admin/webhooks").status_code == 403
        assert client.get(f"/admin/webhooks/{webhook.id}").status_code == 403
        assert client.post(f"/admin/webhooks/{webhook.id}/delete").status_code == 403
    assert db.session.get(Webhook, webhook.id) is not None
