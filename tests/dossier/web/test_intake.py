"""The intake queue in the browser's place: a beheerder assigns a queued mail to a dossier they
may file into, or discards it with a reason; both audited; other roles are refused."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import indexing, intake
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Document,
    DocumentKind,
    Dossier,
    GlobalRole,
    IntakeItem,
    IntakeStatus,
    MemberRole,
    User,
)
from tests.dossier.helpers import _english, _text

SUBJECT = "Vraag <script>alert(1)</script> over de planning"


def _mail(subject: str = SUBJECT) -> bytes:
    message = EmailMessage()
    message["From"] = "Jan Jansen <jan@leverancier.example>"
    message["To"] = "contracten@gemeente.example"
    message["Subject"] = subject
    message["Date"] = "Wed, 05 Mar 2025 09:00:00 +0100"
    message["Message-ID"] = "<vraag-1@leverancier.example>"
    message.set_content("Wanneer start de tweede fase?\n")
    message.add_attachment(
        b"Planning fase 2\n", maintype="text", subtype="plain", filename="planning.txt"
    )
    return bytes(message)


@pytest.fixture
def world(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, object]:
    bea = make_user("bea@example.org", GlobalRole.BEHEERDER)
    robot = make_user("intake@example.org", GlobalRole.BEHEERDER)
    mine = make_dossier("2023-020", members={bea: MemberRole.BEHEERDER})
    other = make_dossier("2023-021")
    archived = make_dossier("2023-022", members={bea: MemberRole.BEHEERDER}, status="archived")
    item, _new = intake.take_mail(robot, _mail())
    db.session.commit()
    return {"bea": bea, "mine": mine, "other": other, "archived": archived, "item": item}


def test_the_queue_lists_the_mail_and_offers_only_dossiers_one_may_file_into(
    world: dict[str, object], client_for: Callable[[User | None], FlaskClient]
) -> None:
    page = client_for(world["bea"]).get("/intake")  # type: ignore[arg-type]
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert "geen dossierkenmerk in het adres of het onderwerp" in body
    assert 'value="2023-020"' in body
    assert 'value="2023-021"' not in body, "no member: not offered"
    assert 'value="2023-022"' not in body, "archived: not offered"
    assert 'href="/intake"' in body, "the menu links the queue"


def test_assigning_files_the_mail_with_its_attachment(
    app: Flask, world: dict[str, object], client_for: Callable[[User | None], FlaskClient]
) -> None:
    item = world["item"]
    client = client_for(world["bea"])  # type: ignore[arg-type]
    response = client.post(f"/intake/{item.id}/assign", data={f"a{item.id}-dossier": "2023-020"})  # type: ignore[attr-defined]
    assert response.status_code == 302
    indexing.drain()
    documents = db.session.scalars(
        sa.select(Document).where(Document.dossier_id == world["mine"].id).order_by(Document.id)  # type: ignore[attr-defined]
    ).all()
    message, attachment = documents
    assert message.kind == DocumentKind.CORRESPONDENCE and message.title == SUBJECT
    assert message.correspondent == "Jan Jansen <jan@leverancier.example>"
    assert message.current_version.uploaded_by_id == world["bea"].id  # type: ignore[attr-defined]
    assert attachment.parent_id == message.id
    db.session.refresh(item)
    assert item.status == IntakeStatus.FILED and item.content is None
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.INTAKE_ASSIGN)
    )
    assert event is not None and event.after["document_id"] == message.id
    assert "Toegevoegd aan dossier 2023-020" in _text(client.get("/intake"))
    # Assigned once: a second post finds nothing in the queue.
    again = client.post(f"/intake/{item.id}/assign", data={f"a{item.id}-dossier": "2023-020"})  # type: ignore[attr-defined]
    assert again.status_code == 404


@pytest.mark.parametrize("reference", ["2023-021", "2023-022"])
def test_a_forged_choice_files_nothing(
    world: dict[str, object], client_for: Callable[[User | None], FlaskClient], reference: str
) -> None:
    item = world["item"]
    client = client_for(world["bea"])  # type: ignore[arg-type]
    response = client.post(f"/intake/{item.id}/assign", data={f"a{item.id}-dossier": reference})  # type: ignore[attr-defined]
    assert response.status_code == 302
    assert "Kies een dossier waaraan u documenten mag toevoegen." in _text(client.get("/intake"))
    assert db.session.scalar(sa.select(sa.func.count(Document.id))) == 0
    db.session.refresh(item)
    assert item.status == IntakeStatus.QUEUED


def test_discarding_needs_a_reason_and_is_audited(
    world: dict[str, object], client_for: Callable[[User | None], FlaskClient]
) -> None:
    item = world["item"]
    client = client_for(world["bea"])  # type: ignore[arg-type]
    client.post(f"/intake/{item.id}/discard", data={f"d{item.id}-reason": "  "})  # type: ignore[attr-defined]
    assert "Geef aan waarom dit item wordt verworpen." in _text(client.get("/intake"))
    db.session.refresh(item)
    assert item.status == IntakeStatus.QUEUED
    client.post(f"/intake/{item.id}/discard", data={f"d{item.id}-reason": "reclame"})  # type: ignore[attr-defined]
    db.session.refresh(item)
    assert item.status == IntakeStatus.DISCARDED and item.reason == "reclame"
    assert item.content is None and item.decided_by_id == world["bea"].id  # type: ignore[attr-defined]
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.INTAKE_DISCARD)
    )
    assert event is not None and event.after["reason"] == "reclame"
    assert event.actor_id == world["bea"].id  # type: ignore[attr-defined]
    assert db.session.scalar(sa.select(sa.func.count(IntakeItem.id))) == 1


def test_other_roles_are_refused_with_a_reason(
    world: dict[str, object],
    make_user: Callable[..., User],
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    for role in (None, GlobalRole.AUDITOR, GlobalRole.PORTFOLIO):
        page = client_for(make_user(role=role)).get("/intake")
        assert page.status_code == 403
        assert "De intakewachtrij is voor contractbeheerders" in _text(page)
        assert 'href="/intake"' not in page.get_data(as_text=True)


def test_the_queue_in_english(
    world: dict[str, object], client_for: Callable[[User | None], FlaskClient]
) -> None:
    client = client_for(world["bea"])  # type: ignore[arg-type]
    _english(client)
    body = _text(client.get("/intake"))
    assert "Waiting in the queue (1)" in body and "File into dossier" in body
