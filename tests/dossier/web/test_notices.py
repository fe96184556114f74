"""`dossier/web/notices.py`: the beheerder sends a notice (to every member or one role), the
navigation counts what is unread, the dossier keeps its notices, following works from the
dossier page, and a member who lost access no longer sees a notice."""

from __future__ import annotations

import socket
from collections.abc import Callable
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask

from dossier import contacts, following, memberships, notices
from dossier.extensions import db
from dossier.models import AuditAction, Dossier, MemberRole, Notice, User
from tests.dossier.helpers import _events, _section, _text


def _members(
    make_user: Callable[..., User], beheerder: User, dossier: Dossier
) -> tuple[User, User]:
    reader = make_user("lezer@example.org", name="Lies Lezer")
    owner = make_user("eigenaar@example.org", name="Olga Eigenaar")
    memberships.set_role(beheerder, dossier, reader, MemberRole.READER)
    memberships.set_role(beheerder, dossier, owner, MemberRole.OWNER)
    db.session.commit()
    return reader, owner


def _dead_mail_server(app: Flask) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)


def test_a_notice_to_a_role_shows_unread_in_the_navigation_and_in_the_dossier(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    reader, owner = _members(make_user, beheerder, dossier)
    _dead_mail_server(app)
    client = app.test_client(user=beheerder)
    assert "Bericht versturen" in client.get("/dossiers/2025-010").text
    response = client.post(
        "/dossiers/2025-010/notices/new",
        data={
            "kind": "decision",
            "audience": "owner",
            "subject": "Besluit: <script>optie</script> gelicht",
            "body": "Regel een\nRegel twee",
            "document": "",
        },
        follow_redirects=True,
    )
    page = _text(response)
    # The mail server is down: the notice is recorded all the same, and the sender is told.
    assert response.status_code == 200 and "e-mail kon niet worden verzonden" in page
    assert "<script>optie" not in response.text
    (notice,) = db.session.scalars(sa.select(Notice))
    assert notice.role == MemberRole.OWNER and len(notice.recipients) == 1
    assert _events(AuditAction.NOTICE_SEND)[0].after["recipients"] == ["eigenaar@example.org"]
    assert "Aan: Contracteigenaar" in page

    as_owner = app.test_client(user=owner)
    nav = as_owner.get("/register").text
    assert 'aria-label="1 ongelezen">1</span>' in nav
    page = _text(as_owner.get("/notices"))
    assert "Besluit: <script>optie</script> gelicht" in page and "Regel een<br>Regel twee" in page
    assert "Besluit" in _section(_text(as_owner.get("/dossiers/2025-010")), "h-notices")
    assert as_owner.post(f"/notices/{notice.id}/read").status_code == 302
    assert "ongelezen" not in as_owner.get("/register").text

    as_reader = app.test_client(user=reader)
    assert "optie" not in as_reader.get("/notices").text
    assert "optie" not in as_reader.get("/dossiers/2025-010/notices").text
    assert as_reader.post(f"/notices/{notice.id}/read").status_code == 404
    assert as_reader.get("/dossiers/2025-010/notices/new").status_code == 403
    refused = as_reader.post(
        "/dossiers/2025-010/notices/new",
        data={"kind": "other", "audience": "all", "subject": "Hallo", "document": ""},
    )
    assert refused.status_code == 403


def test_who_loses_access_loses_the_notice(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    reader, _owner = _members(make_user, beheerder, dossier)
    notice = notices.send_notice(beheerder, dossier, "Nieuwe contactpersoon leverancier")
    db.session.commit()
    as_reader = app.test_client(user=reader)
    assert "Nieuwe contactpersoon leverancier" in as_reader.get("/notices").text
    memberships.revoke(beheerder, dossier, reader)
    db.session.commit()
    assert "Nieuwe contactpersoon leverancier" not in as_reader.get("/notices").text
    assert "ongelezen" not in as_reader.get("/notices").text
    assert as_reader.post(f"/notices/{notice.id}/read").status_code == 404
    assert as_reader.get("/dossiers/2025-010/notices").status_code == 404


def test_bad_notice_input_is_shown_again(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    _members(make_user, beheerder, dossier)
    client = app.test_client(user=beheerder)
    response = client.post(
        "/dossiers/2025-010/notices/new",
        data={"kind": "other", "audience": "all", "subject": "", "body": "Mijn tekst"},
    )
    assert response.status_code == 400 and "Mijn tekst" in response.text
    response = client.post(
        "/dossiers/2025-010/notices/new",
        data={"kind": "other", "audience": "beheerder", "subject": "Alleen ik", "document": ""},
    )
    assert response.status_code == 400 and "Niemand zou dit bericht ontvangen" in _text(response)
    response = client.post(
        "/dossiers/2025-010/notices/new",
        data={"kind": "other", "audience": "all", "subject": "x", "document": "999999"},
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0


def test_following_from_the_dossier_page(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    reader, _owner = _members(make_user, beheerder, dossier)
    client = app.test_client(user=reader)
    assert "Dit dossier volgen" in client.get("/dossiers/2025-010").text
    assert client.post("/dossiers/2025-010/follow").status_code == 302
    assert following.is_following(reader, dossier)
    assert "Niet meer volgen" in client.get("/dossiers/2025-010").text
    assert client.post("/dossiers/2025-010/unfollow").status_code == 302
    assert not following.is_following(reader, dossier)
    outsider = app.test_client(user=make_user("buiten@example.org"))
    assert outsider.post("/dossiers/2025-010/follow").status_code == 404
    assert len(_events(AuditAction.DOSSIER_FOLLOW)) == 1


def test_the_dossiers_history_shows_notices_and_contact_changes_in_words(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    _members(make_user, beheerder, dossier)
    jan = contacts.add_contact(beheerder, dossier, {"name": "Jan", "role": "account_manager"})
    contacts.add_mandate(beheerder, jan, "sign_amendments", Decimal("25000"))
    notices.send_notice(beheerder, dossier, "Besluit verlenging", role=MemberRole.OWNER)
    db.session.commit()
    page = _text(app.test_client(user=beheerder).get("/dossiers/2025-010/audit"))
    for words in (
        "Bericht verstuurd",
        "Besluit verlenging",
        "eigenaar@example.org",
        "Contactpersoon leverancier toegevoegd",
        "Accountmanager",
        "Bevoegdheid vastgelegd",
        "Mag wijzigingen tekenen",
        "€\xa025.000,00",
    ):
        assert words in page, words
