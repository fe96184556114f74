"""Personal access tokens for the JSON API: made by a user, shown once, stored hashed.

A token is `dos_` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored,
with its first characters as a visible prefix so that a user can tell tokens apart. A token
acts as its user with the same access policy as the web pages, within its scope (read, or
read-write), until it expires or is revoked. Creating and revoking are audited; use is
recorded as `last_used_at` (at most once a minute, so reads stay reads).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import audit
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import ApiToken, AuditAction, TokenScope, User, utcnow

TOKEN_PREFIX = "dos_"
_TOKEN_RE = re.compile(r"^dos_[A-Za-z0-9_-]{43}$")
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
# The lifetimes a user may choose, in days; a token that never expires is not offered.
LIFETIMES = (7, 30, 90, 180, 365)
NAME_MAX = 100
# A token's last use is written at most this often (each write is a write transaction).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Created:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(user: User, name: str, scope: TokenScope, days: int) -> Created:
    """Make a token for `user`; the secret in the result is the only copy."""
    name = " ".join(name.split())
    errors = {}
    if not name or len(name) > NAME_MAX:
        errors["name"] = _("give the token a name of at most %(most)d characters", most=NAME_MAX)
    if days not in LIFETIMES:
        errors["days"] = _("choose how long the token stays valid")
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=_hash(secret),
        scope=scope,
        expires_at=utcnow().replace(microsecond=0) + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        user,
        AuditAction.API_TOKEN_CREATE,
        "api_token",
        token.id,
        after={
            "name": name,
            "prefix": token.prefix,
            "scope": scope,
            "expires_at": token.expires_at,
        },
    )
    return Created(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    """Every token of `user`, newest first (revoked and expired ones too, as a record)."""
    query = sa.select(ApiToken).where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query.order_by(ApiToken.id.desc())))


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of `user`'s own tokens; another user's is None, as a missing one."""
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def revoke(user: User, token: ApiToken, actor: User | None = None) -> bool:
    """Revoke `token` (of `user`; by `actor`, default the user); False when it was revoked
    already."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        actor or user,
        AuditAction.API_TOKEN_REVOKE,
        "api_token",
        token.id,
        after={"name": token.name, "prefix": token.prefix},
    )
    return True


def is_live(token: ApiToken, now: datetime | None = None) -> bool:
    return token.revoked_at is None and token.expires_at > (now or utcnow())


def authenticate(secret: str) -> ApiToken | None:
    """The live token with this secret, of an enabled user; None for anything else
    (malformed, unknown, expired, revoked, or its user disabled)."""
    if not _TOKEN_RE.match(secret):
        return None
    token = db.session.scalar(
        sa.select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _hash(secret), User.is_enabled.is_(True))
    )
    if token is None or not is_live(token):
        return None
    return token


def needs_last_used(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether the token's last use is older than the resolution it is recorded at."""
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION


def mark_used(token_id: int) -> None:
    """Record that the token was used now (one UPDATE, no audit event: use is not a change)."""
    db.session.execute(
        sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow())
    )
