"""Domain functions for user accounts: create, authenticate, end sessions."""

from __future__ import annotations

import re
import secrets
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from dossier import audit, calendar_feed
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import AuditAction, GlobalRole, User, new_session_token, utcnow
from dossier.text import clean_line

MIN_PASSWORD_LENGTH = 12
# zxcvbn's score: 3 means about 10^8 guesses or more ("safely unguessable" for an offline
# attack on a slow hash). It knows the 30,000 most common passwords, words, names, dates,
# keyboard patterns, sequences and repeats; it reads at most its first 72 characters.
MIN_PASSWORD_SCORE = 3
_ZXCVBN_MAX_LENGTH = 72
# Words a guesser tries first against this system, besides the user's own e-mail address.
_OBVIOUS_WORDS = ["dossier", "contract", "contractbeheer", "contractdossier", "wachtwoord"]
# `dossier init` creates this administrator and shows its generated password from this file
# (in the instance folder) until the password is changed.
FIRST_ADMIN_EMAIL = "admin@dossier.local"
FIRST_ADMIN_FILE = "initial-admin-password.txt"
# Compared against when the e-mail address is unknown, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0123456789")


def check_password_policy(password: str, email: str = "", name: str = "") -> None:
    """Long enough, not the e-mail address, not easy to guess from common passwords, patterns
    or the user's own name and address: length beats composition rules (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            {"password": _("use at least %(num)d characters", num=MIN_PASSWORD_LENGTH)}
        )
    if email and password.lower() == email.lower():
        raise ValidationError({"password": _("the password cannot be the e-mail address")})
    if _personal(password, email, name):
        raise ValidationError(
            {"password": _("the password is made of your own name or e-mail address")}
        )
    if reason := _weakness(password, email, name):
        raise ValidationError({"password": reason})


def _weakness(password: str, email: str, name: str = "") -> str | None:
    """Why zxcvbn finds `password` too easy to guess, from the pattern covering most of it."""
    words = _user_words(f"{email} {name}")
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=words)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return None
    longest: dict[str, Any] = max(result["sequence"], key=lambda m: len(m["token"]))
    pattern = longest["pattern"]
    if pattern == "dictionary" and longest.get("dictionary_name") == "passwords":
        return _("this password is on a list of commonly used passwords")
    if pattern == "repeat":
        return _("this password repeats the same characters or words")
    if pattern in ("sequence", "spatial"):
        return _("this password is a simple sequence or keyboard pattern (like abcd, 1234, qwerty)")
    return _("this password is too easy to guess; a few unrelated words make a strong one")


def _personal(password: str, email: str, name: str) -> bool:
    """Whether the letters of `password` are mostly the user's name or the e-mail address's
    name part ("Petra de Vries 1", "petradevries2026"), which zxcvbn scores as strong."""
    letters = re.sub(r"[^a-z]", "", password.lower())
    local = email.lower().partition("@")[0]
    candidates = {re.sub(r"[^a-z]", "", part) for part in (name.lower(), local)}
    candidates |= {w for w in re.split(r"[^a-z]+", f"{name} {local}".lower())}
    return bool(letters) and any(
        len(c) >= 4 and c in letters and 2 * len(c) >= len(letters) for c in candidates
    )


def _user_words(text: str) -> list[str]:
    """The words of a user's address and name, each alone and all joined ("petradevries")."""
    words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
    return [*_OBVIOUS_WORDS, *words, "".join(words)]


def create_user(
    actor: User | None,
    email: str,
    name: str,
    password: str,
    role: GlobalRole | None = None,
    *,
    must_change_password: bool = False,
) -> User:
    """Add a user; the e-mail address is the log-in name and is stored lower-case.

    `must_change_password` marks a one-time password (generated, or chosen by an
    administrator): the user has to replace it at the first log-in.
    """
    email = email.strip().lower()
    if "@" not in email or len(email) > 255:
        raise ValidationError({"email": _("give a valid e-mail address")})
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise ValidationError(
            {"email": _("a user with e-mail address %(email)s already exists", email=email)}
        )
    check_password_policy(password, email, name)
    user = User(
        email=email,
        name=clean_line(name) or email,
        password_hash=generate_password_hash(password),
        global_role=role,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor, AuditAction.USER_CREATE, "user", user.id, after={"email": email, "role": role}
    )
    return user


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with these credentials, or None; the same work either way."""
    user = db.session.scalar(sa.select(User).where(User.email == normalised_email(email)))
    if user is None or not user.is_enabled:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; every other session ends."""
    if not check_password_hash(user.password_hash, current):
        raise ValidationError({"current_password": _("the current password is not correct")})
    check_password_policy(new, user.email, user.name)
    if new == current:
        raise ValidationError(
            {"new_password": _("choose a password different from the current one")}
        )
    user.password_hash = generate_password_hash(new)
    user.session_token = new_session_token()
    user.must_change_password = False
    audit.record(user, AuditAction.USER_PASSWORD_CHANGE, "user", user.id)


def end_sessions(user_id: int) -> None:
    """Invalidate every session and remember-me cookie of the user by rotating its token."""
    user = db.session.get(User, user_id)
    if user is not None:
        user.session_token = new_session_token()


def find_user(email: str) -> User:
    """The user with this e-mail address, or a ValidationError naming it."""
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise ValidationError({"email": _("no user with e-mail address %(email)s", email=email)})
    return user


def generate_password() -> str:
    """A random password that meets the policy (about 100 bits; a draw that zxcvbn happens to
    find weak, say one holding a long word, is drawn again)."""
    while True:
        password = secrets.token_urlsafe(12)
        if _weakness(password, "") is None:
            return password


def record_failed_login(email: str, address: str | None) -> None:
    """Audit a failed log-in and where from; the account it names, if any, is the object."""
    _record_login_event(AuditAction.LOGIN_FAILED, email, address)


def record_lockout(email: str, address: str | None, scope: str) -> None:
    """Audit that failed log-ins closed a throttle (`scope`: the address or the account)."""
    _record_login_event(AuditAction.LOGIN_LOCKED, email, address, scope=scope)


def _record_login_event(action: AuditAction, email: str, address: str | None, **extra: str) -> None:
    user_id, recordable = attempted_account(email)
    audit.record(
        None,
        action,
        "user",
        user_id,
        after={"email": recordable, "address": address, **extra},
        anonymous=True,
    )


def normalised_email(email: str) -> str:
    """A typed e-mail address as log-in compares it: one clean line, lower-case, capped."""
    return clean_line(email).lower()[:255]


def attempted_account(email: str) -> tuple[int | None, str]:
    """The account a typed address names (or None), and what a log or the audit trail may keep
    of it: the address of an account, else only its domain, for a password typed in the
    e-mail field must not live on in an append-only trail."""
    email = normalised_email(email)
    user_id = db.session.scalar(sa.select(User.id).where(User.email == email))
    if user_id is not None:
        return user_id, email
    domain = email.rpartition("@")[2] if "@" in email else ""
    return None, f"…@{domain}" if domain else "…"


def set_enabled(actor: User | None, user: User, enabled: bool) -> bool:
    """Disable (ending every session) or enable an account; False when nothing changes."""
    if actor is not None and actor.id == user.id and not enabled:
        raise ValidationError({"user": _("you cannot disable your own account")})
    if user.is_enabled == enabled:
        return False
    user.is_enabled = enabled
    if not enabled:
        user.session_token = new_session_token()
        calendar_feed.revoke_tokens(user)  # a feed address must not outlive the account
    audit.record(
        actor,
        AuditAction.USER_ENABLE if enabled else AuditAction.USER_DISABLE,
        "user",
        user.id,
        before={"email": user.email, "enabled": not enabled},
        after={"email": user.email, "enabled": enabled},
    )
    return True


def reset_password(actor: User | None, user: User, password: str | None = None) -> str:
    """Give `user` a new password (generated when none is given) and end their sessions."""
    generated = not password
    password = password or generate_password()
    check_password_policy(password, user.email, user.name)
    user.password_hash = generate_password_hash(password)
    user.session_token = new_session_token()
    user.must_change_password = True  # a one-time password: the user replaces it at log-in
    # A reset usually means the account was at risk: old calendar addresses stop working too.
    calendar_feed.revoke_tokens(user)
    audit.record(
        actor,
        AuditAction.USER_PASSWORD_RESET,
        "user",
        user.id,
        after={"email": user.email, "generated": generated},
    )
    return password


def set_global_role(actor: User | None, user: User, role: GlobalRole | None) -> bool:
    """Change a user's global role; nobody changes their own (no accidental lock-out)."""
    if actor is not None and actor.id == user.id:
        raise ValidationError({"role": _("you cannot change your own global role")})
    if user.global_role == role:
        return False
    before = user.global_role
    user.global_role = role
    audit.record(
        actor,
        AuditAction.USER_ROLE_CHANGE,
        "user",
        user.id,
        before={"email": user.email, "role": before},
        after={"email": user.email, "role": role},
    )
    return True


def record_password_lockout(user: User, scope: str) -> None:
    """Audit that wrong current passwords closed the password page's check for `user`."""
    audit.record(
        user, AuditAction.LOGIN_LOCKED, "user", user.id, after={"email": user.email, "scope": scope}
    )


def set_locale(user_id: int, locale: str) -> None:
    """Remember a user's interface language (a preference: not audited)."""
    db.session.execute(sa.update(User).where(User.id == user_id).values(locale=locale))
