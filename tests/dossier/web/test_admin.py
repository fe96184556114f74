"""Administration in the web UI: users, global roles, groups and the members of a dossier,
every change an audit event with its before and after values."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import calendar_feed, documents, dossiers, groups, indexing, memberships
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Confidentiality,
    DocumentKind,
    Dossier,
    GlobalRole,
    Group,
    MemberRole,
    Membership,
    User,
)
from tests.conftest import PASSWORD


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _login(app: Flask, email: str, password: str, remember: bool = False) -> Any:
    client = app.test_client()
    data = {"email": email, "password": password} | ({"remember": "y"} if remember else {})
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def beheerder(make_user: Callable[..., User]) -> User:
    return make_user("bea@example.org", GlobalRole.BEHEERDER, "Bea Beheer")


@pytest.fixture
def dossier(beheerder: User) -> Dossier:
    made = dossiers.create_dossier(beheerder, {"reference": "2025-010", "title": "Schoonmaak"})
    db.session.commit()
    return made


# Users


def test_admin_creates_a_user_with_a_generated_password_shown_once(app: Flask, admin: User) -> None:
    client = app.test_client(user=admin)
    response = client.post(
        "/admin/users", data={"email": "New@Example.org", "name": "Nieuw", "role": "auditor"}
    )
    assert response.status_code == 200
    password = re.search(r'class="one-time-password">([^<]+)<', response.text).group(1)
    user = db.session.scalar(sa.select(User).where(User.email == "new@example.org"))
    assert user.global_role == GlobalRole.AUDITOR
    assert password not in str(client.get(f"/admin/users/{user.id}").text)
    _login(app, "new@example.org", password)
    assert _events("user.create")[-1].after == {"email": "new@example.org", "role": "auditor"}


def test_create_user_refuses_a_weak_password_and_ignores_mass_assignment(
    app: Flask, admin: User
) -> None:
    client = app.test_client(user=admin)
    response = client.post("/admin/users", data={"email": "weak@example.org", "password": "short"})
    assert response.status_code == 400 and "12" in response.text
    assert db.session.scalar(sa.select(User).where(User.email == "weak@example.org")) is None
    client.post(
        "/admin/users",
        data={
            "email": "plain@example.org",
            "password": "a long enough password",
            "is_admin": "true",
            "global_role": "admin",
            "is_enabled": "false",
        },
    )
    user = db.session.scalar(sa.select(User).where(User.email == "plain@example.org"))
    assert user.global_role is None and user.is_enabled and not user.is_admin


def test_disabling_a_user_ends_their_session_and_remember_me_cookie(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    victim = make_user("victim@example.org")
    session_client = _login(app, victim.email, PASSWORD)
    remember_client = _login(app, victim.email, PASSWORD, remember=True)
    remember_cookie = remember_client.get_cookie("remember_token")
    assert remember_cookie is not None
    response = app.test_client(user=admin).post(
        f"/admin/users/{victim.id}/enabled", data={"enabled": "0"}
    )
    assert response.status_code == 302
    assert session_client.get("/").status_code == 302
    fresh = app.test_client()  # only the remember-me cookie, no session
    fresh.set_cookie("remember_token", remember_cookie.value)
    assert fresh.get("/").status_code == 302
    refused = app.test_client().post("/login", data={"email": victim.email, "password": PASSWORD})
    assert refused.status_code == 400
    event = _events("user.disable")[-1]
    assert event.before["enabled"] is True and event.after["enabled"] is False
    assert event.actor_id == admin.id
    app.test_client(user=admin).post(f"/admin/users/{victim.id}/enabled", data={"enabled": "1"})
    _login(app, victim.email, PASSWORD)


def test_an_admin_cannot_disable_or_demote_themselves(app: Flask, admin: User) -> None:
    client = app.test_client(user=admin)
    client.post(f"/admin/users/{admin.id}/enabled", data={"enabled": "0"})
    assert client.post(f"/admin/users/{admin.id}/role", data={"role": ""}).status_code == 400
    db.session.refresh(admin)
    assert admin.is_enabled and admin.is_admin


def test_reset_password_generated_or_chosen_ends_old_sessions(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("forgot@example.org")
    old = _login(app, user.email, PASSWORD)
    client = app.test_client(user=admin)
    response = client.post(f"/admin/users/{user.id}/password", data={"password": ""})
    generated = re.search(r'class="one-time-password">([^<]+)<', response.text).group(1)
    assert len(generated) >= 12
    assert old.get("/").status_code == 302
    _login(app, user.email, generated)
    weak = client.post(f"/admin/users/{user.id}/password", data={"password": "short"})
    assert weak.status_code == 400
    chosen = client.post(
        f"/admin/users/{user.id}/password", data={"password": "chosen by the admin"}
    )
    assert chosen.status_code == 302
    _login(app, user.email, "chosen by the admin")
    assert [e.after["generated"] for e in _events("user.password_reset")] == [True, False]
    assert all("chosen" not in str(e.after) for e in _events("user.password_reset"))


def test_a_password_reset_or_disable_revokes_calendar_addresses(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("feed@example.org")
    token = calendar_feed.create_token(user)
    db.session.commit()
    feed = app.test_client()
    assert feed.get(f"/calendar/{token}.ics").status_code == 200
    app.test_client(user=admin).post(f"/admin/users/{user.id}/password", data={"password": ""})
    assert feed.get(f"/calendar/{token}.ics").status_code == 404
    second = calendar_feed.create_token(user)
    db.session.commit()
    assert feed.get(f"/calendar/{second}.ics").status_code == 200
    app.test_client(user=admin).post(f"/admin/users/{user.id}/enabled", data={"enabled": "0"})
    assert calendar_feed.active_token(user) is None


def test_changing_the_global_role_is_audited_with_before_and_after(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("promote@example.org")
    client = app.test_client(user=admin)
    assert client.post(f"/admin/users/{user.id}/role", data={"role": "auditor"}).status_code == 302
    assert client.post(f"/admin/users/{user.id}/role", data={"role": "nonsense"}).status_code == 400
    db.session.refresh(user)
    assert user.global_role == GlobalRole.AUDITOR
    event = _events("user.role_change")[-1]
    assert event.before["role"] is None and event.after["role"] == "auditor"


# Groups


def test_groups_grant_their_members_the_group_role(
    app: Flask, admin: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    member = make_user("inkoper@example.org")
    client = app.test_client(user=admin)
    assert client.post("/admin/groups", data={"name": "Inkoop"}).status_code == 302
    assert client.post("/admin/groups", data={"name": "Inkoop"}).status_code == 400
    group = db.session.scalar(sa.select(Group).where(Group.name == "Inkoop"))
    add = client.post(f"/admin/groups/{group.id}/members", data={"email": member.email})
    assert add.status_code == 302
    unknown = client.post(f"/admin/groups/{group.id}/members", data={"email": "x@example.org"})
    assert unknown.status_code == 400
    memberships.set_role(admin, dossier, group, MemberRole.READER)
    db.session.commit()
    member_client = app.test_client(user=member)
    assert member_client.get("/dossiers/2025-010").status_code == 200
    remove = client.post(f"/admin/groups/{group.id}/members/{member.id}/remove")
    assert remove.status_code == 302
    assert member_client.get("/dossiers/2025-010").status_code == 404
    event = _events("group.member_remove")[-1]
    assert event.before["members"] == [member.email] and event.after["members"] == []


# Members of a dossier


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


# Admin is not a reader of confidential documents; auditors are, and their reads are logged


def test_admin_does_not_read_confidential_documents_unless_granted(
    app: Flask, admin: User, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    auditor = make_user("audit@example.org", GlobalRole.AUDITOR)
    with documents.receive(io.BytesIO(b"prijzen\n"), "prijzen.txt") as upload:
        secret = documents.file_document(
            beheerder,
            dossier,
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    indexing.drain()  # the text is extracted, so the document page shows it
    url = f"/dossiers/2025-010/documents/{secret.id}"
    admin_client = app.test_client(user=admin)
    assert admin_client.get("/dossiers/2025-010").status_code == 200
    assert "prijzen" not in admin_client.get("/dossiers/2025-010").text
    assert admin_client.get(url).status_code == 404
    assert admin_client.get(url + "/versions/1/download").status_code == 404

    reads = len(_events("version.read"))
    response = app.test_client(user=auditor).get(url + "/versions/1/download")
    assert response.status_code == 200
    response.close()
    read = _events("version.read")
    assert len(read) == reads + 1 and read[-1].actor_id == auditor.id

    shown = app.test_client(user=auditor).get(url)
    assert shown.status_code == 200 and "prijzen" in shown.text
    assert len(_events("version.read")) == reads + 2, "reading the text on the page is a read"
    compared = app.test_client(user=auditor).get(url + "/compare?old=1&new=1")
    assert compared.status_code == 200
    assert len(_events("version.read")) == reads + 3, "a comparison shows the text too"

    memberships.set_role(admin, dossier, admin, MemberRole.OWNER)
    db.session.commit()
    assert admin_client.get(url).status_code == 200


def test_an_auditor_changes_nothing_even_with_a_dossier_role(
    app: Flask, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    auditor = make_user("audit@example.org", GlobalRole.AUDITOR)
    memberships.set_role(beheerder, dossier, auditor, MemberRole.BEHEERDER)
    db.session.commit()
    client = app.test_client(user=auditor)
    assert client.get("/dossiers/2025-010").status_code == 200
    assert client.get("/dossiers/2025-010/audit").status_code == 200
    for url in ("/dossiers/2025-010/edit", "/dossiers/2025-010/documents/new"):
        assert client.get(url).status_code == 403, url
    grant = client.post(
        "/dossiers/2025-010/members", data={"principal": auditor.email, "role": "reader"}
    )
    assert grant.status_code == 403
    assert memberships.membership_of(dossier, auditor).role == MemberRole.BEHEERDER
