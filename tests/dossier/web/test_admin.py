"""`dossier/web/admin.py`: administration of users, their global roles and groups in the web UI,
every change an audit event with its before and after values."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask

from dossier import calendar_feed, memberships
from dossier.extensions import db
from dossier.models import Dossier, GlobalRole, Group, MemberRole, User
from tests.conftest import PASSWORD
from tests.dossier.helpers import _events


def _login(app: Flask, email: str, password: str, remember: bool = False) -> Any:
    client = app.test_client()
    data = {"email": email, "password": password} | ({"remember": "y"} if remember else {})
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.text
    return client


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
