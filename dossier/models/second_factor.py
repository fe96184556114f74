"""The second factor of a local account: a TOTP secret and single-use recovery codes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dossier.models.base import Base, created_at, intpk, sha256_hex


class SecondFactor(Base):
    """A user's authenticator app; one per user. Unconfirmed while the user is enrolling."""

    __tablename__ = "second_factor"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    # The base32 TOTP secret, encrypted with a key derived from the installation's secret key
    # (Fernet); never shown again after enrolment.
    secret: Mapped[str] = mapped_column(sa.String(255))
    # None while enrolling: the factor counts only once the user has typed a code from it.
    confirmed_at: Mapped[datetime | None]
    # The last time step (seconds since the epoch // 30) whose code was accepted: a code is
    # accepted only for a later step, so an overheard code cannot be used again.
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[created_at]


class RecoveryCode(Base):
    """One single-use code for when the authenticator is lost; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[sha256_hex]  # SHA-256 of the normalised code (random, about 50 bits)
    used_at: Mapped[datetime | None]
    created_at: Mapped[created_at]
