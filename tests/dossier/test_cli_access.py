"""`dossier grant`, `revoke`, `create-group` and `disable-user`: audited, clear errors, exit codes
(0 done or nothing to do, 1 refused or not found, 2 wrong usage). Domain messages follow the
configured language, so the checks look for the names they must mention, not their wording."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from dossier import dossiers, memberships
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import AuditEvent, Dossier, GlobalRole, Group, MemberRole, User
from tests.conftest import PASSWORD


def _run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(cli, list(args))


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def world(app: Flask, admin: User, make_user: Callable[..., User]) -> dict[str, object]:
    bea = make_user("bea@example.org", GlobalRole.BEHEERDER)
    dossier = dossiers.create_dossier(bea, {"reference": "2025-017", "title": "Schoonmaak"})
    db.session.commit()
    return {
        "bea": bea,
        "dossier": dossier,
        "reader": make_user("reader@example.org"),
        "plain": make_user("plain@example.org"),
    }


def _role(dossier: Dossier, who: User | Group) -> MemberRole | None:
    db.session.expire_all()
    membership = memberships.membership_of(dossier, who)
    return membership.role if membership else None


def test_grant_change_and_revoke_a_user(app: Flask, world: dict) -> None:
    result = _run(app, "grant", "Reader@Example.org", "2025-017", "reader")
    assert result.exit_code == 0, result.output
    assert "reader@example.org is now reader on 2025-017" in result.output
    assert _role(world["dossier"], world["reader"]) == MemberRole.READER
    assert app.test_client(user=world["reader"]).get("/dossiers/2025-017").status_code == 200

    again = _run(app, "grant", "reader@example.org", "2025-017", "reader")
    assert again.exit_code == 0 and "nothing changed" in again.output
    assert _run(app, "grant", "reader@example.org", "2025-017", "owner").exit_code == 0
    assert _role(world["dossier"], world["reader"]) == MemberRole.OWNER

    wrong_role = _run(app, "revoke", "reader@example.org", "2025-017", "reader")
    assert wrong_role.exit_code == 1 and "owner" in wrong_role.output  # the role it does hold
    assert _role(world["dossier"], world["reader"]) == MemberRole.OWNER
    revoked = _run(app, "revoke", "reader@example.org", "2025-017", "owner")
    assert revoked.exit_code == 0, revoked.output
    assert _role(world["dossier"], world["reader"]) is None
    assert app.test_client(user=world["reader"]).get("/dossiers/2025-017").status_code == 404
    assert _actions()[-3:] == ["membership.grant", "membership.change", "membership.revoke"]


def test_the_last_beheerder_is_kept(app: Flask, world: dict) -> None:
    for args in (
        ("revoke", "bea@example.org", "2025-017"),
        ("grant", "bea@example.org", "2025-017", "reader"),
    ):
        refused = _run(app, *args)
        assert refused.exit_code == 1 and "beheerder" in refused.output
        assert _role(world["dossier"], world["bea"]) == MemberRole.BEHEERDER
    assert _run(app, "grant", "reader@example.org", "2025-017", "beheerder").exit_code == 0
    assert _run(app, "revoke", "bea@example.org", "2025-017").exit_code == 0
    assert _role(world["dossier"], world["bea"]) is None


def test_grant_and_revoke_a_group(app: Flask, world: dict) -> None:
    made = _run(app, "create-group", "Inkoop", "--member", "plain@example.org")
    assert made.exit_code == 0 and "1 members" in made.output
    assert _run(app, "grant", "Inkoop", "2025-017", "manager").exit_code == 0
    plain = app.test_client(user=world["plain"])
    assert plain.get("/dossiers/2025-017/documents/new").status_code == 200
    assert _run(app, "revoke", "Inkoop", "2025-017").exit_code == 0
    assert plain.get("/dossiers/2025-017").status_code == 404
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "membership.revoke"))
    assert event.before == {"group": "Inkoop", "role": "manager"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["grant", "ghost@example.org", "2025-017", "reader"], "ghost@example.org"),
        (["grant", "Spookafdeling", "2025-017", "reader"], "Spookafdeling"),
        (["grant", "reader@example.org", "2099-999", "reader"], "no dossier 2099-999"),
        (["revoke", "reader@example.org", "2025-017"], "reader@example.org"),
        (["grant", "reader@example.org", "2025-017", "reader", "--as", "plain@example.org"], ""),
        (["create-group", "Inkoop", "--member", "ghost@example.org"], "ghost@example.org"),
        (["create-group", "Inkoop", "--as", "bea@example.org"], "not an administrator"),
        (["create-group", "a@b"], "@"),
        (["disable-user", "ghost@example.org"], "ghost@example.org"),
        (["disable-user", "reader@example.org", "--as", "bea@example.org"], "not an admin"),
        (["disable-user", "admin@example.org"], ""),
    ],
)
def test_refusals_exit_1_with_a_message_and_change_nothing(
    app: Flask, world: dict, args: list[str], message: str
) -> None:
    before = _actions()
    result = _run(app, *args)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and message in result.output
    assert "Traceback" not in result.output
    assert _actions() == before
    assert db.session.scalar(sa.select(Group).where(Group.name == "Inkoop")) is None


def test_a_plain_user_may_not_grant_but_the_dossier_beheerder_may(app: Flask, world: dict) -> None:
    refused = _run(
        app, "grant", "reader@example.org", "2025-017", "reader", "--as", "plain@example.org"
    )
    assert "no dossier 2025-017 that plain@example.org may see" in refused.output
    allowed = _run(
        app, "grant", "reader@example.org", "2025-017", "reader", "--as", "bea@example.org"
    )
    assert allowed.exit_code == 0, allowed.output
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "membership.grant")
        .order_by(AuditEvent.id.desc())
    )
    assert event.actor_label == "bea@example.org"


def test_wrong_usage_exits_2(app: Flask, world: dict) -> None:
    assert _run(app, "grant", "reader@example.org", "2025-017", "emperor").exit_code == 2
    assert _run(app, "revoke").exit_code == 2


def test_disable_user_ends_sessions_at_once(app: Flask, world: dict) -> None:
    client = app.test_client()
    client.post("/login", data={"email": "reader@example.org", "password": PASSWORD})
    assert client.get("/").status_code == 200
    result = _run(app, "disable-user", "reader@example.org")
    assert result.exit_code == 0 and "Disabled reader@example.org" in result.output
    assert client.get("/").status_code == 302
    again = _run(app, "disable-user", "reader@example.org")
    assert again.exit_code == 0 and "already disabled" in again.output
    assert _actions().count("user.disable") == 1
