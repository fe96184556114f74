"""The second factor's domain rules with real TOTP codes: each computed with pyotp from the
secret the enrolment hands out, never typed into the test."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import second_factor, tokens
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    GlobalRole,
    RecoveryCode,
    SecondFactor,
    TokenScope,
    User,
    utcnow,
)
from tests.conftest import PASSWORD

STEP = second_factor.STEP_SECONDS


def enrol(user: User) -> tuple[str, list[str]]:
    """Set up and confirm a factor for `user` as the pages do; (secret, recovery codes)."""
    secret = second_factor.start_enrolment(user)
    codes = second_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())
    db.session.commit()
    return secret, codes


def _actions(user: User) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == "user", AuditEvent.object_id == user.id)
            .order_by(AuditEvent.id)
        )
    )


def test_enrolment_needs_a_right_code_and_stores_the_secret_encrypted(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret = second_factor.start_enrolment(user)
    assert second_factor.start_enrolment(user) == secret  # reloading the page keeps the secret
    assert len(secret) == 32 and not second_factor.is_enabled(user.id)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError):
        second_factor.confirm_enrolment(user, wrong)
    assert not second_factor.is_enabled(user.id)
    codes = second_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())
    db.session.commit()
    assert second_factor.is_enabled(user.id)
    stored = db.session.get(SecondFactor, user.id)
    assert secret not in stored.secret and stored.secret.startswith("gAAAA")  # a Fernet token
    assert len(codes) == 10 and len(set(codes)) == 10
    hashes = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert len(hashes) == 10 and not hashes & set(codes)
    assert "second_factor.enable" in _actions(user)
    with pytest.raises(ValidationError):
        second_factor.start_enrolment(user)  # on already: no new secret is shown


def age_pending(user: User, seconds: float) -> None:
    """Make the user's unconfirmed factor `seconds` old."""
    db.session.execute(
        sa.update(SecondFactor)
        .where(SecondFactor.user_id == user.id)
        .values(created_at=utcnow() - timedelta(seconds=seconds))
    )
    db.session.commit()
    db.session.expire_all()


def test_a_pending_secret_expires_and_a_new_one_is_made(
    app: Flask, make_user: Callable[..., User]
) -> None:
    """A secret shown for setting up is not handed out, nor confirmed, after
    SECOND_FACTOR_ENROLMENT_SECONDS: whoever saw it then would share the factor."""
    assert app.config["SECOND_FACTOR_ENROLMENT_SECONDS"] == 900
    user = make_user()
    old = second_factor.start_enrolment(user)
    db.session.commit()
    age_pending(user, 800)
    assert second_factor.start_enrolment(user) == old  # within the quarter of an hour
    age_pending(user, 901)
    with pytest.raises(ValidationError) as refused:
        second_factor.confirm_enrolment(user, pyotp.TOTP(old).now())
    assert "took too long" in refused.value.errors["code"]
    assert not second_factor.is_enabled(user.id)
    new = second_factor.start_enrolment(user)
    db.session.commit()
    assert new != old
    assert second_factor.start_enrolment(user) == new  # the new one holds in its turn
    second_factor.confirm_enrolment(user, pyotp.TOTP(new).now())
    db.session.commit()
    assert second_factor.is_enabled(user.id)


def test_codes_are_accepted_within_one_step_either_side_and_never_twice(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    totp = pyotp.TOTP(secret)
    now = time.time() + 10 * STEP  # later than the step the enrolment used
    assert not second_factor.verify_code(user, totp.at(now - 2 * STEP), now)  # too old
    assert not second_factor.verify_code(user, totp.at(now + 2 * STEP), now)  # too far ahead
    assert second_factor.verify_code(user, totp.at(now - STEP), now)  # one step behind
    assert not second_factor.verify_code(user, totp.at(now - STEP), now)  # replayed
    assert second_factor.verify_code(user, totp.at(now), now)
    assert not second_factor.verify_code(user, totp.at(now), now)  # replayed
    assert not second_factor.verify_code(user, totp.at(now - STEP), now)  # older than the last
    assert second_factor.verify_code(user, totp.at(now + STEP), now)  # one step ahead
    # The step the enrolment confirmed cannot log in either.
    assert db.session.get(SecondFactor, user.id).last_step == int((now + STEP) // STEP)


def test_the_enrolment_code_cannot_be_replayed_at_log_in(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret = second_factor.start_enrolment(user)
    code = pyotp.TOTP(secret).now()
    second_factor.confirm_enrolment(user, code)
    assert not second_factor.check_code(user, code).accepted


def test_a_recovery_code_works_once_and_renewing_ends_the_old_ones(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, codes = enrol(user)
    first = second_factor.check_code(user, codes[0].upper().replace("-", " "))  # as typed
    assert first.accepted and first.by_recovery_code and first.recovery_codes_left == 9
    assert not second_factor.check_code(user, codes[0]).accepted
    assert second_factor.recovery_codes_left(user.id) == 9
    assert _actions(user).count("second_factor.recovery_used") == 1
    fresh = second_factor.renew_recovery_codes(user, pyotp.TOTP(secret).at(time.time() + STEP))
    db.session.commit()
    assert not set(fresh) & set(codes)
    assert not second_factor.check_code(user, codes[1]).accepted  # an old, unused one
    assert second_factor.check_code(user, fresh[1]).recovery_codes_left == 9
    assert "second_factor.recovery_renew" in _actions(user)


def test_renewing_needs_a_right_code(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user()
    _secret, codes = enrol(user)
    with pytest.raises(ValidationError):
        second_factor.renew_recovery_codes(user, "000000x")
    assert second_factor.check_code(user, codes[0]).accepted


def test_switching_off_needs_the_password_and_a_code(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    later = pyotp.TOTP(secret).at(time.time() + STEP)
    with pytest.raises(ValidationError) as wrong_password:
        second_factor.disable(user, "not the password", later)
    assert "password" in wrong_password.value.errors
    with pytest.raises(ValidationError) as wrong_code:
        second_factor.disable(user, PASSWORD, "12345x")
    assert "code" in wrong_code.value.errors
    assert second_factor.is_enabled(user.id)
    second_factor.disable(user, PASSWORD, later)
    db.session.commit()
    assert not second_factor.is_enabled(user.id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert "second_factor.disable" in _actions(user)


def test_an_administrator_resets_another_user_not_themselves(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user()
    enrol(user)
    api_token = tokens.create_token(user, "script", TokenScope.READ, 30)
    token = user.session_token
    with pytest.raises(ValidationError):
        second_factor.reset(admin, admin)
    assert second_factor.reset(admin, user) is True
    db.session.commit()
    assert not second_factor.is_enabled(user.id) and user.session_token != token
    # Tokens made while the factor held end with it, revoked by the administrator.
    assert tokens.authenticate(api_token.secret) is None
    revoked = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "api_token.revoke")
    )
    assert revoked.actor_id == admin.id
    assert second_factor.reset(admin, user) is False  # nothing left to reset
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "second_factor.reset")
    )
    assert event.actor_id == admin.id and event.object_id == user.id


def test_a_changed_key_makes_the_secret_unreadable_not_a_crash(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    app.config["SECOND_FACTOR_KEY"] = "another key altogether"
    with pytest.raises(second_factor.SecretUnreadable):
        second_factor.verify_code(user, pyotp.TOTP(secret).at(time.time() + STEP))


def test_required_roles_follow_the_setting(app: Flask, make_user: Callable[..., User]) -> None:
    auditor = make_user(role=GlobalRole.AUDITOR)
    plain = make_user()
    assert not second_factor.is_required(auditor)  # the test settings require nobody
    app.config["SECOND_FACTOR_REQUIRED_ROLES"] = ["admin", "auditor"]
    assert second_factor.is_required(auditor) and not second_factor.is_required(plain)


@pytest.mark.parametrize("value", ["admin", ["admni"], ("admin", "root")])
def test_a_wrong_required_roles_setting_stops_the_start(value: object, tmp_path: Path) -> None:
    from dossier import create_app
    from tests.conftest import _config

    config = _config(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ValueError, match="SECOND_FACTOR_REQUIRED_ROLES"):
        create_app(config | {"SECOND_FACTOR_REQUIRED_ROLES": value})


def test_the_default_requires_it_of_administrators_and_auditors() -> None:
    from dossier.config import Defaults

    assert set(Defaults.SECOND_FACTOR_REQUIRED_ROLES) == {"admin", "auditor"}


def test_the_migration_adds_and_removes_the_tables_keeping_users(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    from dossier import create_app
    from dossier.database import MIGRATIONS_DIR
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'm.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        user = User(email="m@example.org", name="M", password_hash="x")
        db.session.add(user)
        db.session.commit()
        secret = second_factor.start_enrolment(user)
        second_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())
        db.session.commit()
        db.session.remove()
        downgrade(directory=MIGRATIONS_DIR, revision="intake")
        tables = set(sa.inspect(db.engine).get_table_names())
        assert "second_factor" not in tables and "recovery_code" not in tables
        upgrade(directory=MIGRATIONS_DIR)
        assert db.session.scalar(sa.select(User.email)) == "m@example.org"
        assert not second_factor.is_enabled(db.session.scalar(sa.select(User.id)))
        db.session.remove()
        db.engine.dispose()


def test_the_command_line_resets_even_the_only_administrator(app: Flask, admin: User) -> None:
    from dossier.cli import cli

    enrol(admin)
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["reset-second-factor", "Admin@example.org"])
    assert result.exit_code == 0, result.output
    assert "Reset two-step verification of" in result.output
    db.session.expire_all()
    assert not second_factor.is_enabled(admin.id)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "second_factor.reset")
    )
    assert event.actor_id is None and event.object_id == admin.id
    again = runner.invoke(cli, ["reset-second-factor", "admin@example.org"])
    assert again.exit_code == 0 and "had no two-step verification" in again.output
    unknown = runner.invoke(cli, ["reset-second-factor", "ghost@example.org"])
    assert unknown.exit_code != 0 and "ghost@example.org" in unknown.output


@pytest.mark.parametrize(("value", "roles"), [(None, ("admin", "auditor")), ("[]", [])])
def test_the_environment_sets_the_required_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, roles: object
) -> None:
    from dossier import create_app

    monkeypatch.setenv("DOSSIER_INSTANCE_PATH", str(tmp_path / "instance"))
    if value is not None:
        monkeypatch.setenv("DOSSIER_SECOND_FACTOR_REQUIRED_ROLES", value)
    else:
        monkeypatch.delenv("DOSSIER_SECOND_FACTOR_REQUIRED_ROLES", raising=False)
    assert create_app().config["SECOND_FACTOR_REQUIRED_ROLES"] == roles


def test_the_qr_code_carries_the_secret_issuer_and_account(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user("qr@example.org")
    secret = second_factor.start_enrolment(user)
    uri = second_factor.provisioning_uri(user, secret)
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == secret and parsed.issuer == "Dossier" and parsed.name == user.email
    svg = second_factor.qr_svg(uri, "QR <code>")
    assert str(svg).startswith("<svg") and "<title>QR &lt;code&gt;</title>" in svg
    assert secret not in svg  # drawn as modules, not written into the picture as text
