"""A contract's life: its term as a history of events, the decision at its end, and the
contracts it is related to (framework and call-offs, predecessor and successor, annexes)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk
from dossier.models.document import Document
from dossier.models.dossier import Dossier
from dossier.models.user import User


class TermEventKind(enum.StrEnum):
    ORIGINAL = "original"  # the term as agreed (or as found when the history began)
    OPTION = "option"  # a renewal option exercised
    RENEWAL = "renewal"  # a tacit (automatic) renewal
    EXTENSION = "extension"  # an extension outside the options
    TERMINATION = "termination"  # ended before its end date
    CORRECTION = "correction"  # the register data were corrected (register form, import)


class TermEvent(Base):
    """One event in the history of a dossier's term; appended, never changed."""

    __tablename__ = "term_event"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[TermEventKind] = enum_column(TermEventKind)
    # When it was decided (or, for the original term, signed; else the start).
    decided_on: Mapped[date | None]
    # Who decided, as the contract says it (free text: a board, a mandated person).
    decided_by: Mapped[str] = mapped_column(sa.String(255), default="")
    start_on: Mapped[date | None]  # the original term's start
    end_before: Mapped[date | None]
    end_after: Mapped[date | None]
    options_before: Mapped[int | None]
    options_after: Mapped[int | None]
    option_months: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.Text, default="")
    document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document.id", ondelete="SET NULL"), index=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[created_at]

    dossier: Mapped[Dossier] = relationship()
    document: Mapped[Document | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class EndDecisionKind(enum.StrEnum):
    EXTEND = "extend"  # extend within the options
    RETENDER = "retender"
    END = "end"
    INSOURCE = "insource"  # continue in-house


class EndDecisionStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class EndDecision(Base):
    """What happens at the end of a contract: proposed by its beheerder or manager, approved
    or rejected by its owner, never by the proposer (four eyes)."""

    __tablename__ = "end_decision"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[EndDecisionKind] = enum_column(EndDecisionKind)
    reasons: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[EndDecisionStatus] = enum_column(
        EndDecisionStatus, default=EndDecisionStatus.PROPOSED
    )
    proposed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    proposed_at: Mapped[created_at]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    # The tender dossier an approved re-tender created.
    successor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="SET NULL")
    )

    dossier: Mapped[Dossier] = relationship(foreign_keys=[dossier_id])
    successor: Mapped[Dossier | None] = relationship(foreign_keys=[successor_id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class RelationKind(enum.StrEnum):
    CALL_OFF = "call_off"  # parent: framework agreement, child: call-off (nadere overeenkomst)
    SUCCESSOR = "successor"  # parent: predecessor, child: successor
    PROCESSING = "processing"  # parent: main contract, child: its processing agreement
    SLA = "sla"  # parent: main contract, child: its service level agreement


class DossierRelation(Base):
    """A directed relation between two dossiers (parent → child, read as the kind says)."""

    __tablename__ = "dossier_relation"
    __table_args__ = (
        sa.UniqueConstraint("parent_id", "child_id"),
        sa.CheckConstraint("parent_id <> child_id", name="not_itself"),
    )

    id: Mapped[intpk]
    parent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    child_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[RelationKind] = enum_column(RelationKind)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    parent: Mapped[Dossier] = relationship(foreign_keys=[parent_id])
    child: Mapped[Dossier] = relationship(foreign_keys=[child_id])
