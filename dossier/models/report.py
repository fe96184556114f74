"""What people recorded about deadlines, and the secret calendar feeds they subscribe to."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, sha256_hex
from dossier.models.dossier import Dossier
from dossier.models.user import User


class DeadlineKind(enum.StrEnum):
    END = "end"  # the current term ends
    NOTICE = "notice"  # last day to give notice
    OPTION = "option"  # last day to decide on (and exercise) a renewal option
    REVIEW = "review"  # the execution plan is due for review
    TENDER = "tender"  # a new (European) procurement must start
    DECISION = "decision"  # the end-of-contract decision must be approved


class DeadlineStatus(enum.StrEnum):
    OPEN = "open"
    ACTED_ON = "acted_on"
    MISSED = "missed"
    # Derived only, never recorded: an end of term that passed (nothing had to be done on it),
    # and a deadline that passed before the dossier was registered (nobody could act on it here).
    ELAPSED = "elapsed"
    BEFORE_REGISTRATION = "before_registration"


class DeadlineAction(Base):
    """The status a manager or beheerder set on one deadline (dossier, kind, due date)."""

    __tablename__ = "deadline_action"
    __table_args__ = (sa.UniqueConstraint("dossier_id", "kind", "due_on"),)

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[DeadlineKind] = enum_column(DeadlineKind)
    due_on: Mapped[date]
    status: Mapped[DeadlineStatus] = enum_column(DeadlineStatus)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    set_at: Mapped[created_at]

    dossier: Mapped[Dossier] = relationship()
    set_by: Mapped[User | None] = relationship()


class CalendarToken(Base):
    """A secret feed address for one user's deadlines; only the token's SHA-256 is stored."""

    __tablename__ = "calendar_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[sha256_hex] = mapped_column(unique=True)
    created_at: Mapped[created_at]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
