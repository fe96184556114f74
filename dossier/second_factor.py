"""The second factor of local accounts: TOTP codes (RFC 6238) from an authenticator app, and
single-use recovery codes for when the app is lost.

The TOTP secret is stored encrypted (Fernet, with a key derived from SECOND_FACTOR_KEY or the
installation's SECRET_KEY) and shown only while enrolling. A code is accepted for the current
30-second step and one step either side (clocks drift), and only for a step later than the last
accepted one, so a code seen over someone's shoulder cannot be used again. Recovery codes are
random (50 bits), kept as SHA-256 hashes and marked used once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.security import check_password_hash

from dossier import audit, tokens
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import AuditAction, RecoveryCode, SecondFactor, User, new_session_token, utcnow

STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1  # steps accepted either side of the current one
RECOVERY_CODE_COUNT = 10
# Lower-case letters and digits without the look-alikes 0/o, 1/l/i: 31 symbols, 10 per code.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
_KEY_INFO = b"dossier second factor secret v1"


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted: the key changed since enrolment."""


@dataclass(frozen=True)
class Check:
    """The outcome of a code typed at log-in: accepted or not, and how."""

    accepted: bool
    by_recovery_code: bool = False
    recovery_codes_left: int = 0


# Looking up.


def factor_of(user_id: int) -> SecondFactor | None:
    return db.session.get(SecondFactor, user_id)


def is_enabled(user_id: int) -> bool:
    """Whether the user has a confirmed authenticator: then log-in takes a second step."""
    return (
        db.session.scalar(
            sa.select(SecondFactor.user_id).where(
                SecondFactor.user_id == user_id, SecondFactor.confirmed_at.is_not(None)
            )
        )
        is not None
    )


def is_required(user: User) -> bool:
    """Whether the user's global role must use a second factor (SECOND_FACTOR_REQUIRED_ROLES)."""
    roles = current_app.config["SECOND_FACTOR_REQUIRED_ROLES"] or ()
    return user.global_role is not None and str(user.global_role) in roles


def recovery_codes_left(user_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def check_settings(required_roles: object) -> None:
    """Refuse to start with a required role that does not exist (a typo would require nobody)."""
    from dossier.models import GlobalRole

    if isinstance(required_roles, str) or not isinstance(required_roles, list | tuple | set):
        raise ValueError(
            f"SECOND_FACTOR_REQUIRED_ROLES must be a list of global roles, not {required_roles!r}"
        )
    unknown = set(map(str, required_roles)) - {role.value for role in GlobalRole}
    if unknown:
        raise ValueError(f"SECOND_FACTOR_REQUIRED_ROLES names unknown roles: {sorted(unknown)}")


# Enrolment.


def start_enrolment(user: User) -> str:
    """The secret the user is setting up: the pending one, or a new one (160 bits) when there
    is none or it is older than SECOND_FACTOR_ENROLMENT_SECONDS (a secret once shown must
    not wait for ever to be confirmed: whoever saw it would share the factor)."""
    factor = factor_of(user.id)
    if factor is not None and factor.confirmed_at is not None:
        raise ValidationError({"code": _("two-step verification is already switched on")})
    if factor is not None and not _expired(factor):
        try:
            return _decrypt(factor.secret)
        except SecretUnreadable:
            pass  # a half-finished enrolment under an old key: start over
    if factor is not None:
        db.session.delete(factor)
        db.session.flush()
    secret = pyotp.random_base32()
    db.session.add(SecondFactor(user_id=user.id, secret=_encrypt(secret)))
    db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    issuer = current_app.config["SECOND_FACTOR_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code of `uri` as an inline SVG element (dark on white, so any theme scans);
    segno escapes the title, and the address is percent-encoded by pyotp."""
    code = segno.make(uri, error="m")
    return Markup(code.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=title))


def confirm_enrolment(user: User, code: str, now: float | None = None) -> list[str]:
    """Switch the factor on once a code from the app proves it was set up; the recovery codes
    (shown once by the caller)."""
    factor = factor_of(user.id)
    if factor is None or factor.confirmed_at is not None:
        raise ValidationError({"code": _("start the set-up again from the account page")})
    if _expired(factor):
        raise ValidationError(
            {"code": _("the set-up took too long; scan the new QR code and type its code")}
        )
    step = _matching_step(_decrypt(factor.secret), code, now)
    if step is None:
        raise ValidationError(
            {"code": _("that code is not right; type the code the app shows now")}
        )
    factor.confirmed_at = utcnow()
    factor.last_step = step
    codes = _new_recovery_codes(user)
    audit.record(user, AuditAction.SECOND_FACTOR_ENABLE, "user", user.id, after=_about(user))
    return codes


def renew_recovery_codes(user: User, code: str, now: float | None = None) -> list[str]:
    """New recovery codes after a current code from the app; every old one stops working."""
    if not verify_code(user, code, now):
        raise ValidationError(
            {"code": _("that code is not right; type the code the app shows now")}
        )
    codes = _new_recovery_codes(user)
    audit.record(user, AuditAction.RECOVERY_CODES_RENEW, "user", user.id, after=_about(user))
    return codes


def _expired(factor: SecondFactor) -> bool:
    """Whether an unconfirmed factor was made too long ago to be confirmed."""
    seconds = float(current_app.config["SECOND_FACTOR_ENROLMENT_SECONDS"])
    return factor.confirmed_at is None and utcnow() - factor.created_at > timedelta(seconds=seconds)


# Log-in.


def check_code(user: User, typed: str, now: float | None = None) -> Check:
    """Accept a code from the app or an unused recovery code; a used or old code is refused."""
    cleaned = _clean(typed)
    if cleaned.isdigit():
        return Check(verify_code(user, cleaned, now))
    left = use_recovery_code(user, cleaned)
    if left is None:
        return Check(False)
    return Check(True, by_recovery_code=True, recovery_codes_left=left)


def verify_code(user: User, typed: str, now: float | None = None) -> bool:
    """Whether `typed` is the app's code for a step after the last accepted one; it is then
    remembered in the same statement, so two requests cannot both spend one code."""
    factor = factor_of(user.id)
    if factor is None or factor.confirmed_at is None:
        return False
    step = _matching_step(_decrypt(factor.secret), typed, now)
    if step is None:
        return False
    spent = db.session.execute(
        sa.update(SecondFactor)
        .where(
            SecondFactor.user_id == user.id,
            sa.or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(factor)
    return spent.rowcount == 1


def use_recovery_code(user: User, typed: str) -> int | None:
    """Spend one recovery code; the number left, or None when it is unknown or used."""
    digest = _hash(_clean(typed))
    code = db.session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == digest,
            RecoveryCode.used_at.is_(None),
        )
    )
    if code is None:
        return None
    spent = db.session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.id == code.id, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return None  # another request spent it first
    left = recovery_codes_left(user.id)
    audit.record(
        user, AuditAction.RECOVERY_CODE_USED, "user", user.id, after={**_about(user), "left": left}
    )
    return left


def record_failure(user: User, address: str | None) -> None:
    """Audit a wrong code at the second step of a log-in, and where it came from."""
    audit.record(
        None,
        AuditAction.SECOND_FACTOR_FAILED,
        "user",
        user.id,
        after={**_about(user), "address": address},
        anonymous=True,
    )


def record_lockout(user: User, address: str | None) -> None:
    """Audit that wrong codes closed the user's second step for a while."""
    audit.record(
        None,
        AuditAction.LOGIN_LOCKED,
        "user",
        user.id,
        after={**_about(user), "address": address, "scope": "second_factor"},
        anonymous=True,
    )


# Switching off.


def disable(user: User, password: str, code: str, now: float | None = None) -> None:
    """The user switches the factor off: the current password and a code (or recovery code)."""
    if not check_password_hash(user.password_hash, password):
        raise ValidationError({"password": _("the current password is not correct")})
    if not check_code(user, code, now).accepted:
        raise ValidationError(
            {"code": _("that code is not right; type the code the app shows now")}
        )
    _remove(user)
    audit.record(user, AuditAction.SECOND_FACTOR_DISABLE, "user", user.id, after=_about(user))


def reset(actor: User | None, user: User) -> bool:
    """An administrator removes a user's factor (lost phone): the user enrols again, and every
    session of theirs ends. False when there was nothing to reset."""
    if actor is not None and actor.id == user.id:
        raise ValidationError(
            {"user": _("switch your own two-step verification off on your account page")}
        )
    if factor_of(user.id) is None:
        return False
    _remove(user)
    user.session_token = new_session_token()
    audit.record(actor, AuditAction.SECOND_FACTOR_RESET, "user", user.id, after=_about(user))
    # Tokens made while the factor held would outlive it: the user makes new ones after enrolling.
    for token in tokens.tokens_of(user):
        tokens.revoke(user, token, actor)
    return True


# Helpers.


def _remove(user: User) -> None:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.expire_all()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes by new ones; the plain codes, for showing once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_random_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(_clean(c))) for c in codes)
    db.session.flush()
    return codes


def _random_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _clean(typed: str) -> str:
    """A typed code without spaces and dashes, lower-case, capped (the form caps it too)."""
    return "".join(c for c in typed[:64] if c not in " -\t").lower()


def _hash(cleaned: str) -> str:
    return hashlib.sha256(cleaned.encode()).hexdigest()


def _matching_step(secret: str, typed: str, now: float | None) -> int | None:
    """The time step within the window whose code is `typed`, or None."""
    cleaned = _clean(typed)
    if len(cleaned) != DIGITS or not cleaned.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


def _fernet() -> Fernet:
    secret = current_app.config.get("SECOND_FACTOR_KEY") or current_app.config["SECRET_KEY"]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
        str(secret).encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode("ascii")


def _decrypt(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode("ascii")).decode()
    except InvalidToken as error:
        raise SecretUnreadable from error


def _about(user: User) -> dict[str, str]:
    return {"email": user.email}
