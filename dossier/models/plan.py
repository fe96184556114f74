"""The execution plan (uitvoeringsplan) of a dossier: its seven answers with their history,
the documents it links to, and its periodic reviews."""

from __future__ import annotations

import enum
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk
from dossier.models.document import Document
from dossier.models.dossier import Dossier
from dossier.models.user import User


class PlanQuestion(enum.StrEnum):
    """The seven questions an execution plan answers, in the order it asks them."""

    WHY = "why"  # why are we doing this
    SCOPE = "scope"  # what exactly do we do, and what not
    APPROACH = "approach"  # how
    RESPONSIBILITIES = "responsibilities"  # who does what (client or supplier)
    COST = "cost"  # what does it cost
    RISKS = "risks"  # what are the risks
    RESULT = "result"  # measurable result, when, and how progress is reported in between


class ReviewOutcome(enum.StrEnum):
    ON_TRACK = "on_track"
    DEVIATIONS = "deviations"
    CHANGE_PLAN = "change_plan"  # the plan is to be changed: a new plan version


class DeviationArea(enum.StrEnum):
    RESULT = "result"
    APPROACH = "approach"
    BUDGET = "budget"


class ExecutionPlan(Base):
    """A dossier's execution plan; its answers are rows of `PlanAnswer`, never edited."""

    __tablename__ = "execution_plan"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), unique=True
    )
    # Raised when a review decides the plan is to change; answers carry the version they
    # were given in.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    dossier: Mapped[Dossier] = relationship()
    created_by: Mapped[User | None] = relationship()


class PlanAnswer(Base):
    """One answer to one question as given at one moment: a change adds a row."""

    __tablename__ = "plan_answer"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("execution_plan.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[PlanQuestion] = enum_column(PlanQuestion)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    plan_version: Mapped[int]
    changed_at: Mapped[created_at]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    changed_by: Mapped[User | None] = relationship()


class PlanDocument(Base):
    """A document of the dossier that belongs to the plan (the annex itself, whatever its title)."""

    __tablename__ = "plan_document"
    __table_args__ = (sa.UniqueConstraint("plan_id", "document_id"),)

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("execution_plan.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    linked_at: Mapped[created_at]
    linked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    document: Mapped[Document] = relationship()


class PlanReview(Base):
    """One review of the plan: when, with whom, the outcome, and what came of it."""

    __tablename__ = "plan_review"

    id: Mapped[intpk]
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("execution_plan.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date]
    participants: Mapped[str] = mapped_column(sa.Text, default="")
    outcome: Mapped[ReviewOutcome] = enum_column(ReviewOutcome)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    minutes_document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("document.id", ondelete="SET NULL")
    )
    # The plan version this review led to (only when the outcome changes the plan).
    new_plan_version: Mapped[int | None]
    recorded_at: Mapped[created_at]
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )

    minutes: Mapped[Document | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    deviations: Mapped[list[PlanDeviation]] = relationship(
        cascade="all, delete-orphan", order_by="PlanDeviation.id", lazy="selectin"
    )


class PlanDeviation(Base):
    """A deviation a review found, in the result, the approach or the budget."""

    __tablename__ = "plan_deviation"

    id: Mapped[intpk]
    review_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_review.id", ondelete="CASCADE"), index=True
    )
    area: Mapped[DeviationArea] = enum_column(DeviationArea)
    description: Mapped[str] = mapped_column(sa.Text, default="")
