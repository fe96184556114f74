"""What contract management keeps besides documents: agreed actions and the parties' obligations
with the occurrences their recurrence generates."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, utcnow
from dossier.models.document import Clause, Document, DocumentVersion
from dossier.models.dossier import Dossier
from dossier.models.user import User


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class ObligationParty(enum.StrEnum):
    """Who owes the obligation: our organisation (the client) or the supplier."""

    CLIENT = "client"
    SUPPLIER = "supplier"


class Recurrence(enum.StrEnum):
    ONCE = "once"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Action(Base):
    """An agreement from a meeting (or made on its own) and who acts on it by when."""

    __tablename__ = "action_item"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    agreement: Mapped[str] = mapped_column(sa.Text)  # what was agreed
    meeting_on: Mapped[date | None]
    # The minutes of the meeting, a document of the same dossier.
    minutes_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document.id", ondelete="SET NULL"), index=True
    )
    # Who acts: a user, or (free text) someone outside, such as the supplier's contact.
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    assignee_text: Mapped[str] = mapped_column(sa.String(255), default="")
    due_on: Mapped[date | None]
    status: Mapped[ActionStatus] = enum_column(ActionStatus, default=ActionStatus.OPEN)
    status_note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    dossier: Mapped[Dossier] = relationship()
    minutes: Mapped[Document | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def is_open(self) -> bool:
        return self.status == ActionStatus.OPEN


class Obligation(Base):
    """A duty of one party under the contract, one-off or recurring, with its owner."""

    __tablename__ = "obligation"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    party: Mapped[ObligationParty] = enum_column(ObligationParty)
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    recurrence: Mapped[Recurrence] = enum_column(Recurrence, default=Recurrence.ONCE)
    first_due_on: Mapped[date]
    # The last day an occurrence may fall on (None: as long as the contract runs).
    until_on: Mapped[date | None]
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    # The clause that sets the obligation. Clauses are rebuilt when a version is segmented
    # again, so the version and the clause number are kept too (versions never change).
    clause_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clause.id", ondelete="SET NULL"), index=True
    )
    clause_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document_version.id", ondelete="SET NULL")
    )
    clause_number: Mapped[str] = mapped_column(sa.String(32), default="")
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    dossier: Mapped[Dossier] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    clause: Mapped[Clause | None] = relationship()
    clause_version: Mapped[DocumentVersion | None] = relationship()
    occurrences: Mapped[list[ObligationOccurrence]] = relationship(
        back_populates="obligation",
        order_by="ObligationOccurrence.due_on",
        cascade="all, delete-orphan",
    )


class ObligationOccurrence(Base):
    """One due date of an obligation, and when and how it was fulfilled."""

    __tablename__ = "obligation_occurrence"
    __table_args__ = (sa.UniqueConstraint("obligation_id", "due_on"),)

    id: Mapped[intpk]
    obligation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("obligation.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date]
    fulfilled_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime | None]

    obligation: Mapped[Obligation] = relationship(back_populates="occurrences")
    recorded_by: Mapped[User | None] = relationship()

    @property
    def is_fulfilled(self) -> bool:
        return self.fulfilled_on is not None


class ProposalDismissal(Base):
    """A proposed obligation a person judged not to be one: that clause of that version is no
    longer proposed (a new version of the contract is proposed afresh). Can be undone."""

    __tablename__ = "proposal_dismissal"
    __table_args__ = (sa.UniqueConstraint("clause_version_id", "clause_number"),)

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    clause_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document_version.id", ondelete="CASCADE")
    )
    clause_number: Mapped[str] = mapped_column(sa.String(32), default="")
    # What the card was called, so the list of dismissed proposals reads without the clause.
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    dismissed_at: Mapped[created_at]
    dismissed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )

    dismissed_by: Mapped[User | None] = relationship()
