"""`dossier/web/contacts.py`: both sides of a contract on the dossier, the supplier's contacts
and mandates kept by the beheerder (readers see, cannot change), bad input shown again."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from dossier import memberships
from dossier.extensions import db
from dossier.models import AuditAction, Contact, Dossier, MemberRole, User
from tests.dossier.helpers import _english, _events, _section, _text


def _reader(make_user: Callable[..., User], beheerder: User, dossier: Dossier) -> User:
    reader = make_user("lezer@example.org", name="Lies Lezer")
    memberships.set_role(beheerder, dossier, reader, MemberRole.READER)
    db.session.commit()
    return reader


def test_the_beheerder_keeps_contacts_and_mandates_and_readers_see_them(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    reader = _reader(make_user, beheerder, dossier)
    client = app.test_client(user=beheerder)
    response = client.post(
        "/dossiers/2025-010/contacts/new",
        data={
            "name": "Jan <b>de Vries</b>",
            "role": "account_manager",
            "function": "Accountmanager",
            "email": "jan@leverancier.nl",
            "phone": "030 123 45 67",
        },
    )
    assert response.status_code == 302
    contact = db.session.scalar(sa.select(Contact))
    response = client.post(
        f"/dossiers/2025-010/contacts/{contact.id}/mandates",
        data={
            f"contact{contact.id}-kind": "sign_amendments",
            f"contact{contact.id}-limit_amount": "25.000,00",
            f"contact{contact.id}-note": "artikel 4.2",
        },
    )
    assert response.status_code == 302
    client.post("/dossiers/2025-010/contacts/new", data={"name": "Els", "role": "other"})
    raw = client.get("/dossiers/2025-010/contacts").text
    ids = re.findall(r' id="([^"]+)"', raw)
    assert len(ids) == len(set(ids)), "every contact's mandate form has ids of its own"
    page = _text(client.get("/dossiers/2025-010/contacts"))
    assert "Jan <b>de Vries</b>" in page  # shown as text
    assert "<b>de Vries" not in client.get("/dossiers/2025-010/contacts").text
    assert "Mag wijzigingen tekenen tot €\xa025.000,00" in page
    assert "Bea Beheer" in _section(page, "h-ours")  # our side: from the memberships
    show = _text(client.get("/dossiers/2025-010"))
    assert "Accountmanager" in _section(show, "h-contacts")

    as_reader = app.test_client(user=reader)
    page = _text(as_reader.get("/dossiers/2025-010/contacts"))
    assert "jan@leverancier.nl" in page and "Contactpersoon toevoegen" not in page
    assert "Bevoegdheid vastleggen" not in page
    assert as_reader.get("/dossiers/2025-010/contacts/new").status_code == 403
    refused = as_reader.post(
        f"/dossiers/2025-010/contacts/{contact.id}/remove", data={}
    ).status_code
    assert refused == 403
    assert db.session.scalar(sa.select(Contact)) is not None

    # A removal asks first: without the confirmation nothing is removed, and the page says so.
    mandate_id = contact.mandates[0].id
    unconfirmed = client.post(
        f"/dossiers/2025-010/contacts/{contact.id}/mandates/{mandate_id}/remove",
        follow_redirects=True,
    )
    assert "Niets verwijderd: bevestig eerst het verwijderen." in _text(unconfirmed)
    assert client.post(f"/dossiers/2025-010/contacts/{contact.id}/remove").status_code == 302
    db.session.expire_all()
    assert len(db.session.scalar(sa.select(Contact).where(Contact.id == contact.id)).mandates) == 1
    assert _events(AuditAction.CONTACT_DELETE) == []
    assert (
        "Ja, verwijder Jan &lt;b&gt;de Vries&lt;/b&gt;"
        in client.get("/dossiers/2025-010/contacts").text
    )
    confirmed = client.post(
        f"/dossiers/2025-010/contacts/{contact.id}/remove", data={"confirm": "yes"}
    )
    assert confirmed.status_code == 302
    assert [e.action for e in _events(AuditAction.CONTACT_DELETE)] == ["contact.delete"]
    assert len(_events(AuditAction.MANDATE_ADD)) == 1


def test_bad_input_is_shown_again_with_its_message_and_nothing_is_stored(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    client = app.test_client(user=beheerder)
    response = client.post(
        "/dossiers/2025-010/contacts/new",
        data={"name": "Jan", "role": "other", "email": "geen adres", "phone": "12"},
    )
    assert response.status_code == 400
    page = _text(response)
    assert "Geen e-mailadres" in page and 'value="geen adres"' in page
    assert db.session.scalar(sa.select(Contact)) is None
    client.post("/dossiers/2025-010/contacts/new", data={"name": "Jan", "role": "other"})
    contact = db.session.scalar(sa.select(Contact))
    response = client.post(
        f"/dossiers/2025-010/contacts/{contact.id}/mandates",
        data={
            f"contact{contact.id}-kind": "sign_amendments",
            f"contact{contact.id}-limit_amount": "veel",
        },
    )
    assert response.status_code == 400
    assert 'value="veel"' in response.text and "Geen bedrag" in _text(response)
    assert contact.mandates == []


def test_the_pages_speak_english_when_chosen(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    _reader(make_user, beheerder, dossier)
    client = app.test_client(user=beheerder)
    _english(client)
    client.post("/dossiers/2025-010/contacts/new", data={"name": "Jan", "role": "account_manager"})
    page = _text(client.get("/dossiers/2025-010/contacts"))
    assert "Contacts and mandates of 2025-010" in page and "Account manager" in page
    assert "Record mandate" in page
    assert "Send a notice" in client.get("/dossiers/2025-010/notices").text
    assert "Notices" in client.get("/notices").text
