"""`dossier/web/members.py`: the members page of a dossier, where its beheerder grants, changes and
removes roles (each an audit event), finds people by address, name or group, and reads
messages that name them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import dossiers, groups, memberships
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import Dossier, GlobalRole, MemberRole, Membership, User
from tests.dossier.helpers import _events

# The add form, and people found by address, name or group.


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


# Granting, changing and revoking, each an audit event with its before and after values.


def test_beheerder_grants_changes_and_revokes_roles_each_audited(
    app: Flask, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    colleague = make_user("colleague@example.org")
    client = app.test_client(user=beheerder)
    other = app.test_client(user=colleague)
    assert other.get("/dossiers/2025-010").status_code == 404
    page = client.get("/dossiers/2025-010")
    assert "/dossiers/2025-010/members" in page.text and "/dossiers/2025-010/audit" in page.text

    add = client.post(
        "/dossiers/2025-010/members", data={"principal": colleague.email, "role": "reader"}
    )
    assert add.status_code == 302
    assert other.get("/dossiers/2025-010").status_code == 200
    membership = memberships.membership_of(dossier, colleague)
    change = client.post(f"/dossiers/2025-010/members/{membership.id}", data={"role": "manager"})
    assert change.status_code == 302
    assert other.get("/dossiers/2025-010/documents/new").status_code == 200
    remove = client.post(f"/dossiers/2025-010/members/{membership.id}/remove")
    assert remove.status_code == 302
    assert other.get("/dossiers/2025-010").status_code == 404

    grant, changed, revoked = (
        _events(a)[-1] for a in ("membership.grant", "membership.change", "membership.revoke")
    )
    assert grant.before is None and grant.after == {"user": colleague.email, "role": "reader"}
    assert changed.before["role"] == "reader" and changed.after["role"] == "manager"
    assert revoked.before == {"user": colleague.email, "role": "manager"}
    assert revoked.after is None
    assert {grant.dossier_id, changed.dossier_id, revoked.dossier_id} == {dossier.id}


def test_the_last_beheerder_cannot_leave_or_step_down(
    app: Flask, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    own = memberships.membership_of(dossier, beheerder)
    client = app.test_client(user=beheerder)
    for url, data in (
        (f"/dossiers/2025-010/members/{own.id}/remove", {}),
        (f"/dossiers/2025-010/members/{own.id}", {"role": "reader"}),
    ):
        refused = client.post(url, data=data, follow_redirects=True)
        assert refused.status_code == 200
        assert "minstens één contractbeheerder" in refused.text
        assert memberships.membership_of(dossier, beheerder).role == MemberRole.BEHEERDER
    assert not _events("membership.revoke") and not _events("membership.change")

    colleague = make_user("colleague@example.org")
    memberships.set_role(beheerder, dossier, colleague, MemberRole.BEHEERDER)
    db.session.commit()
    left = client.post(f"/dossiers/2025-010/members/{own.id}/remove")
    assert left.status_code == 302 and "/members" not in left.headers["Location"]
    assert memberships.membership_of(dossier, beheerder) is None
    last = memberships.membership_of(dossier, colleague)
    with pytest.raises(DomainError):
        memberships.remove(colleague, last)


def test_members_form_refuses_unknown_people_and_bad_roles(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    client = app.test_client(user=beheerder)
    unknown = client.post(
        "/dossiers/2025-010/members", data={"principal": "ghost@example.org", "role": "reader"}
    )
    assert unknown.status_code == 400 and "ghost@example.org" in unknown.text
    no_group = client.post(
        "/dossiers/2025-010/members", data={"principal": "Spookafdeling", "role": "reader"}
    )
    assert no_group.status_code == 400
    bad_role = client.post(
        "/dossiers/2025-010/members", data={"principal": beheerder.email, "role": "admin"}
    )
    assert bad_role.status_code == 400
    assert memberships.membership_of(dossier, beheerder).role == MemberRole.BEHEERDER


def test_a_membership_of_another_dossier_is_not_reachable_through_this_one(
    app: Flask, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    stranger = make_user("stranger@example.org", GlobalRole.BEHEERDER)
    theirs = dossiers.create_dossier(stranger, {"reference": "2025-011", "title": "Catering"})
    db.session.commit()
    foreign = memberships.membership_of(theirs, stranger)
    client = app.test_client(user=beheerder)
    assert client.post(f"/dossiers/2025-010/members/{foreign.id}/remove").status_code == 404
    assert client.post(
        f"/dossiers/2025-010/members/{foreign.id}", data={"role": "reader"}
    ).status_code == (404)
    assert db.session.get(Membership, foreign.id).role == MemberRole.BEHEERDER


def test_groups_can_be_members_of_a_dossier(
    app: Flask, admin: User, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    ict = make_user("ict@example.org")
    groups.create_group(admin, "ICT", [ict])
    db.session.commit()
    client = app.test_client(user=beheerder)
    client.post("/dossiers/2025-010/members", data={"principal": "ICT", "role": "owner"})
    assert app.test_client(user=ict).get("/dossiers/2025-010").status_code == 200
    page = client.get("/dossiers/2025-010/members").text
    assert "ICT" in page
    assert _events("membership.grant")[-1].after == {"group": "ICT", "role": "owner"}
