"""The execution plan of a dossier: answers kept with their history, linked documents, reviews,
and which running contracts need a plan or a review.

A plan answer is never edited in place: a change adds a row (who, when, the new text), so the
previous row is the old value; each change is also an audit event with both values. A review is
due every `review_months` after the last one held, or after the start date when none was held
yet; the deadlines (`dossier.deadlines`) count from the same date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _

from dossier import audit
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    DeviationArea,
    Document,
    Dossier,
    DossierStatus,
    ExecutionPlan,
    PlanAnswer,
    PlanDeviation,
    PlanDocument,
    PlanQuestion,
    PlanReview,
    ReviewOutcome,
    User,
)

MAX_ANSWER = 20_000  # characters per answer
MAX_TEXT = 5_000  # participants, notes and each deviation


def _refuse_archived(dossier_id: int) -> None:
    """An archived dossier is a closed record: its plan and reviews no longer change."""
    status = db.session.scalar(sa.select(Dossier.status).where(Dossier.id == dossier_id))
    if status == DossierStatus.ARCHIVED:
        raise ValidationError(
            {"dossier": _("the dossier is archived; its execution plan no longer changes")}
        )


def plan_of(dossier: Dossier) -> ExecutionPlan | None:
    return db.session.scalar(sa.select(ExecutionPlan).where(ExecutionPlan.dossier_id == dossier.id))


def create_plan(actor: User, dossier: Dossier) -> ExecutionPlan:
    """Start the dossier's execution plan (once; a second call returns the existing one)."""
    plan = plan_of(dossier)
    if plan is not None:
        return plan
    _refuse_archived(dossier.id)
    plan = ExecutionPlan(dossier_id=dossier.id, created_by_id=actor.id)
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, AuditAction.PLAN_CREATE, "execution_plan", plan.id, dossier_id=dossier.id)
    return plan


def history(plan: ExecutionPlan) -> list[PlanAnswer]:
    """Every answer ever given, oldest first."""
    query = sa.select(PlanAnswer).where(PlanAnswer.plan_id == plan.id)
    return list(db.session.scalars(query.order_by(PlanAnswer.id)))


def current_answers(plan: ExecutionPlan) -> dict[PlanQuestion, PlanAnswer]:
    """The latest answer to each question that has one."""
    return {answer.question: answer for answer in history(plan)}


def save_answers(
    actor: User, plan: ExecutionPlan, values: Mapping[PlanQuestion, str]
) -> list[PlanQuestion]:
    """Record the answers that differ from the current ones; returns the questions changed."""
    _refuse_archived(plan.dossier_id)
    current = current_answers(plan)
    errors = {
        q.value: _("an answer holds at most %(num)d characters", num=MAX_ANSWER)
        for q, text in values.items()
        if len(text) > MAX_ANSWER
    }
    if errors:
        raise ValidationError(errors)
    changed = []
    for question in PlanQuestion:
        if question not in values:
            continue
        text = values[question].strip()
        old = current[question].text if question in current else ""
        if text == old:
            continue
        answer = PlanAnswer(
            plan_id=plan.id,
            question=question,
            text=text,
            plan_version=plan.version,
            changed_by_id=actor.id,
        )
        db.session.add(answer)
        db.session.flush()
        audit.record(
            actor,
            AuditAction.PLAN_ANSWER,
            "plan_answer",
            answer.id,
            dossier_id=plan.dossier_id,
            before={"question": question, "text": old},
            after={"question": question, "text": text, "plan_version": plan.version},
        )
        changed.append(question)
    return changed


# Documents


def linked_documents(plan: ExecutionPlan, readable: Sequence[Document]) -> list[Document]:
    """The plan's documents among `readable` (the documents the viewer may read)."""
    ids = set(
        db.session.scalars(
            sa.select(PlanDocument.document_id).where(PlanDocument.plan_id == plan.id)
        )
    )
    return [d for d in readable if d.id in ids]


def link_document(actor: User, plan: ExecutionPlan, document: Document) -> bool:
    """Link a document of the plan's dossier; False when it was linked already."""
    _refuse_archived(plan.dossier_id)
    if document.dossier_id != plan.dossier_id:
        raise ValidationError({"document": _("this document is not in this dossier")})
    exists = db.session.scalar(
        sa.select(PlanDocument.id).where(
            PlanDocument.plan_id == plan.id, PlanDocument.document_id == document.id
        )
    )
    if exists is not None:
        return False
    link = PlanDocument(plan_id=plan.id, document_id=document.id, linked_by_id=actor.id)
    db.session.add(link)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.PLAN_DOCUMENT_LINK,
        "execution_plan",
        plan.id,
        dossier_id=plan.dossier_id,
        after={"document_id": document.id, "title": document.title},
    )
    return True


def unlink_document(actor: User, plan: ExecutionPlan, document: Document) -> bool:
    _refuse_archived(plan.dossier_id)
    link = db.session.scalar(
        sa.select(PlanDocument).where(
            PlanDocument.plan_id == plan.id, PlanDocument.document_id == document.id
        )
    )
    if link is None:
        return False
    db.session.delete(link)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.PLAN_DOCUMENT_UNLINK,
        "execution_plan",
        plan.id,
        dossier_id=plan.dossier_id,
        before={"document_id": document.id, "title": document.title},
    )
    return True


# Reviews


@dataclass(frozen=True)
class ReviewInput:
    held_on: date
    outcome: ReviewOutcome
    participants: str = ""
    notes: str = ""
    deviations: tuple[tuple[DeviationArea, str], ...] = ()
    minutes: Document | None = None
    new_version: bool = False  # start a new plan version (only when the plan is to change)


def _check_review(plan: ExecutionPlan, data: ReviewInput, today: date) -> dict[str, str]:
    errors = {}
    if data.held_on > today:
        errors["held_on"] = _("a review is recorded once it has been held; this date is ahead")
    if data.outcome == ReviewOutcome.ON_TRACK and data.deviations:
        errors["deviations"] = _("a review that found the plan on track records no deviations")
    if data.outcome == ReviewOutcome.DEVIATIONS and not data.deviations:
        errors["deviations"] = _("name at least one deviation (result, approach or budget)")
    if data.new_version and data.outcome != ReviewOutcome.CHANGE_PLAN:
        errors["new_version"] = _("only a review that changes the plan starts a new version")
    if data.minutes is not None and data.minutes.dossier_id != plan.dossier_id:
        errors["minutes"] = _("the minutes must be a document of this dossier")
    too_long = [data.participants, data.notes, *(text for _a, text in data.deviations)]
    if any(len(text) > MAX_TEXT for text in too_long):
        errors["notes"] = _("a text holds at most %(num)d characters", num=MAX_TEXT)
    return errors


def record_review(actor: User, plan: ExecutionPlan, data: ReviewInput, today: date) -> PlanReview:
    """Record a review held on `data.held_on`; with `new_version` the plan's version goes up and
    the review links to it."""
    _refuse_archived(plan.dossier_id)
    errors = _check_review(plan, data, today)
    if errors:
        raise ValidationError(errors)
    if data.new_version:
        plan.version += 1
    review = PlanReview(
        plan_id=plan.id,
        held_on=data.held_on,
        outcome=data.outcome,
        participants=data.participants.strip(),
        notes=data.notes.strip(),
        minutes_document_id=data.minutes.id if data.minutes else None,
        new_plan_version=plan.version if data.new_version else None,
        recorded_by_id=actor.id,
        deviations=[PlanDeviation(area=a, description=t.strip()) for a, t in data.deviations],
    )
    db.session.add(review)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.PLAN_REVIEW,
        "plan_review",
        review.id,
        dossier_id=plan.dossier_id,
        after={
            "held_on": review.held_on,
            "outcome": review.outcome,
            "participants": review.participants,
            "deviations": [[d.area, d.description] for d in review.deviations],
            "minutes_document_id": review.minutes_document_id,
            "new_plan_version": review.new_plan_version,
        },
    )
    return review


def reviews(plan: ExecutionPlan) -> list[PlanReview]:
    """The plan's reviews, latest first."""
    query = sa.select(PlanReview).where(PlanReview.plan_id == plan.id)
    return list(db.session.scalars(query.order_by(PlanReview.held_on.desc(), PlanReview.id.desc())))


def last_reviews(dossier_ids: Iterable[int]) -> dict[int, date]:
    """The date of the latest review held, per dossier that has one."""
    ids = list(dossier_ids)
    found: dict[int, date] = {}
    for start in range(0, len(ids), 500):
        query = (
            sa.select(ExecutionPlan.dossier_id, sa.func.max(PlanReview.held_on))
            .join(PlanReview, PlanReview.plan_id == ExecutionPlan.id)
            .where(ExecutionPlan.dossier_id.in_(ids[start : start + 500]))
            .group_by(ExecutionPlan.dossier_id)
        )
        found.update({dossier_id: day for dossier_id, day in db.session.execute(query)})
    return found


def next_review_on(dossier: Dossier, last_review: date | None) -> date | None:
    """When the plan is next due for review: the interval after the last review, or after the
    start date when none was held; None without an interval (or a start to count from)."""
    if not dossier.review_months:
        return None
    anchor = last_review or dossier.start_on
    if anchor is None:
        return None
    return anchor + relativedelta(months=dossier.review_months)


def next_scheduled(dossier: Dossier, last_review: date | None, today: date) -> date | None:
    """The first date of the review schedule (every interval from the last review held, or from
    the start date) that is today or later: the one the deadlines list and calendar show next,
    also while an earlier review is overdue."""
    due = next_review_on(dossier, last_review)
    if due is None:
        return None
    anchor = last_review or dossier.start_on
    assert anchor is not None and dossier.review_months
    number = 1
    while due < today:
        number += 1
        due = anchor + relativedelta(months=number * dossier.review_months)
    return due


# Attention: running contracts without a plan or with an overdue review.

NO_PLAN = "no_plan"
REVIEW_OVERDUE = "review_overdue"


@dataclass(frozen=True)
class Attention:
    dossier: Dossier
    reason: str  # NO_PLAN or REVIEW_OVERDUE
    review_due_on: date | None

    def days_overdue(self, today: date) -> int | None:
        return (today - self.review_due_on).days if self.review_due_on else None


def answered_dossier_ids(dossier_ids: Iterable[int]) -> set[int]:
    """The dossiers among `dossier_ids` whose plan answers at least one question (any answer
    ever given counts only while the latest answer to some question is not empty)."""
    ids = list(dossier_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        latest = (
            sa.select(sa.func.max(PlanAnswer.id))
            .join(ExecutionPlan, PlanAnswer.plan_id == ExecutionPlan.id)
            .where(ExecutionPlan.dossier_id.in_(ids[start : start + 500]))
            .group_by(PlanAnswer.plan_id, PlanAnswer.question)
        )
        query = (
            sa.select(ExecutionPlan.dossier_id)
            .join(PlanAnswer, PlanAnswer.plan_id == ExecutionPlan.id)
            .where(PlanAnswer.id.in_(latest), PlanAnswer.text != "")
        )
        found.update(db.session.scalars(query))
    return found


def attention(
    dossiers: Iterable[Dossier], today: date, requires_plan: Callable[[Dossier], bool]
) -> list[Attention]:
    """Running (active) contracts that require a plan and have no answered one, or whose plan
    is overdue for review: it is never too late to make one."""
    running = [d for d in dossiers if d.status == DossierStatus.ACTIVE]
    ids = [d.id for d in running]
    answered = answered_dossier_ids(ids)
    last = last_reviews(ids)
    found = []
    for dossier in running:
        due = next_review_on(dossier, last.get(dossier.id))
        if dossier.id not in answered:
            if requires_plan(dossier):
                found.append(Attention(dossier, NO_PLAN, due))
        elif due is not None and due < today:
            found.append(Attention(dossier, REVIEW_OVERDUE, due))
    return found


@dataclass(frozen=True)
class Summary:
    """What the dossier page shows of the plan: how far it is answered, its reviews, the next."""

    plan: ExecutionPlan | None
    answered: int  # questions with an answer
    reviews: list[PlanReview]  # latest first
    next_review_on: date | None  # the review due since the last one (or the start)
    overdue: bool
    next_scheduled: date | None = None  # the first review date of the schedule from today on


def summary(dossier: Dossier, today: date) -> Summary:
    plan = plan_of(dossier)
    answered = sum(1 for a in current_answers(plan).values() if a.text) if plan else 0
    held = reviews(plan) if plan else []
    last = held[0].held_on if held else None
    due = next_review_on(dossier, last)
    running = dossier.status == DossierStatus.ACTIVE
    overdue = running and due is not None and due < today
    return Summary(plan, answered, held, due, overdue, next_scheduled(dossier, last, today))
