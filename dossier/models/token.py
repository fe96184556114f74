"""Personal access tokens for the JSON API: only a hash of each secret is stored."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, sha256_hex
from dossier.models.user import User


class TokenScope(enum.StrEnum):
    READ = "read"  # GET requests only
    READ_WRITE = "read-write"  # also filing, editing


class ApiToken(Base):
    """A personal access token: the API acts as its user, within its scope, until it expires
    or is revoked. The secret is shown once; `prefix` names it in lists and logs."""

    __tablename__ = "api_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # the secret's first characters
    token_hash: Mapped[sha256_hex] = mapped_column(unique=True)  # SHA-256 of the whole secret
    scope: Mapped[TokenScope] = enum_column(TokenScope)
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
