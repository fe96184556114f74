"""`dossier/web/members.py`: the members page of a dossier, where its beheerder grants, changes and
removes roles (each an audit event), finds people by address, name or group, and reads
messages that name them."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from dossier.extensions import db
from dossier.models import Dossier, MemberRole, Membership, User


def test_the_role_of_a_new_member_defaults_to_reader(
    app: Flask, admin: User, make_dossier: Callable[..., object]
) -> None:
    make_dossier("2025-001")
    page = app.test_client(user=admin).get("/dossiers/2025-001/members").text
    select = page[page.index('id="h-add"') :]
    select = select[select.index('name="role"') :]
    select = select[: select.index("</select>")]
    assert re.search(r'<option selected value="reader">|<option value="reader" selected>', select)
    assert select.count("selected") == 1


def test_a_member_is_found_by_name_and_the_message_names_address_and_role(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    lies = make_user("lies.lezer@example.org", name="Lies Lezer")
    make_dossier("2026-010")
    client = app.test_client(user=admin)
    response = client.post(
        "/dossiers/2026-010/members",
        data={"principal": "  lies lezer ", "role": "reader"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == lies.id))
    assert membership is not None and membership.role == MemberRole.READER
    assert "De rol van lies.lezer@example.org is nu Lezer." in response.text
    assert "Lies.lezer@" not in response.text  # the address is never capitalised

    again = client.post(
        "/dossiers/2026-010/members",
        data={"principal": "lies.lezer@example.org", "role": "reader"},
        follow_redirects=True,
    )
    assert "De rol van lies.lezer@example.org was al Lezer; er is niets veranderd." in again.text
    changed = client.post(
        f"/dossiers/2026-010/members/{membership.id}",
        data={"role": "owner"},
        follow_redirects=True,
    )
    assert "De rol van lies.lezer@example.org is nu Contracteigenaar." in changed.text
    removed = client.post(
        f"/dossiers/2026-010/members/{membership.id}/remove", follow_redirects=True
    )
    assert "Uit dit dossier verwijderd: lies.lezer@example.org." in removed.text
    assert "Lies.lezer@" not in changed.text + removed.text


def test_a_name_two_users_share_is_refused_not_guessed(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    jans = [make_user(f"jan.{n}@example.org", name="Jan de Vries") for n in (1, 2)]
    make_dossier("2026-011")
    client = app.test_client(user=admin)
    response = client.post(
        "/dossiers/2026-011/members", data={"principal": "Jan de Vries", "role": "reader"}
    )
    assert response.status_code == 400
    assert "meerdere gebruikers met de naam Jan de Vries" in response.text
    granted = sa.select(Membership).where(Membership.user_id.in_([j.id for j in jans]))
    assert db.session.scalars(granted).all() == []
    nobody = client.post(
        "/dossiers/2026-011/members", data={"principal": "Piet Puk", "role": "reader"}
    )
    assert "geen gebruiker of groep met de naam Piet Puk" in nobody.text
