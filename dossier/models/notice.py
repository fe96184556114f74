"""Information pushed unasked: notices about a dossier, who received them, who follows it."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, UTCDateTime, created_at, enum_column, intpk, str255
from dossier.models.document import Document
from dossier.models.dossier import Dossier, MemberRole
from dossier.models.user import User


class NoticeKind(enum.StrEnum):
    NEW_VERSION = "new_version"  # a new version of the contract or an annex
    DECISION = "decision"
    CONTACT_CHANGE = "contact_change"
    OTHER = "other"


class Notice(Base):
    """A short message a beheerder sent about a dossier to its members or to one role."""

    __tablename__ = "notice"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[NoticeKind] = enum_column(NoticeKind, default=NoticeKind.OTHER)
    subject: Mapped[str255]
    body: Mapped[str] = mapped_column(sa.Text, default="")
    # None: every member; else only the holders of this role.
    role: Mapped[MemberRole | None] = enum_column(MemberRole, nullable=True)
    # A document the notice is about; its title reaches only recipients who may open it.
    document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document.id", ondelete="SET NULL")
    )
    created_at: Mapped[created_at]

    dossier: Mapped[Dossier] = relationship()
    sender: Mapped[User | None] = relationship()
    document: Mapped[Document | None] = relationship()
    recipients: Mapped[list[NoticeRecipient]] = relationship(
        back_populates="notice", cascade="all, delete-orphan"
    )


class NoticeRecipient(Base):
    """One user a notice was addressed to, and whether they read it and were mailed."""

    __tablename__ = "notice_recipient"

    notice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notice: Mapped[Notice] = relationship(back_populates="recipients")
    user: Mapped[User] = relationship()


class DossierFollow(Base):
    """A user who follows a dossier: its events come to them in the daily digest."""

    __tablename__ = "dossier_follow"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[created_at]
