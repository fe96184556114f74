"""The end-of-contract decision: extend within the options, re-tender, end, or continue in-house.

Proposed (with reasons) by the dossier's beheerder or manager, approved or rejected (with a
reason) by its contract owner, never by the proposer: four eyes, every step audited. An approved
decision closes the "decision needed" deadline (dossier/deadlines.py) as acted on, and a decision
to end or to continue in-house the tender start too; an approved re-tender creates the tender
dossier (draft), linked as successor, with an estimate of its value and the members of this one.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _

from dossier import access, audit, dossiers, memberships
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.i18n import format_money
from dossier.models import (
    AuditAction,
    DeadlineKind,
    DeadlineStatus,
    Dossier,
    DossierRelation,
    DossierStatus,
    EndDecision,
    EndDecisionKind,
    EndDecisionStatus,
    MemberRole,
    RelationKind,
    User,
    utcnow,
)

# Without a known term, a contract's value is estimated over 48 months (Directive 2014/24/EU
# art. 5(14)(b)), as dossier/deadlines.py does.
DEFAULT_YEARS = 4
MAX_TEXT = 4000


def of_dossier(dossier: Dossier) -> list[EndDecision]:
    """Every decision of `dossier`, newest first."""
    query = sa.select(EndDecision).where(EndDecision.dossier_id == dossier.id)
    return list(db.session.scalars(query.order_by(EndDecision.id.desc())))


def approved(dossier: Dossier) -> EndDecision | None:
    for decision in of_dossier(dossier):
        if decision.status == EndDecisionStatus.APPROVED:
            return decision
    return None


def pending(dossier: Dossier) -> EndDecision | None:
    for decision in of_dossier(dossier):
        if decision.status == EndDecisionStatus.PROPOSED:
            return decision
    return None


def approved_ids(dossier_ids: list[int]) -> set[int]:
    """Those of `dossier_ids` that have an approved decision."""
    found: set[int] = set()
    for start in range(0, len(dossier_ids), 500):
        query = sa.select(EndDecision.dossier_id).where(
            EndDecision.dossier_id.in_(dossier_ids[start : start + 500]),
            EndDecision.status == EndDecisionStatus.APPROVED,
        )
        found.update(db.session.scalars(query))
    return found


def needs_decision(dossier: Dossier, today: date, has_approved: bool | None = None) -> bool:
    """ "Besluit nodig": the maximum end lies within the tender horizon and no decision was
    approved yet."""
    from dossier import deadlines

    if deadlines.decision_due(dossier, today) is None:
        return False
    if has_approved is None:
        has_approved = approved(dossier) is not None
    return not has_approved


def estimate(dossier: Dossier) -> tuple[Decimal | None, str]:
    """The estimated value of the next contract and how it was reached: the annual value times
    the years of the current contract's full term (start to maximum end, whole years, at least
    one), or times four when the term is unknown; without an annual value the current total."""
    if dossier.annual_value is not None:
        years = DEFAULT_YEARS
        basis = _("no known term: the 48 months of the procurement rules")
        max_end = dossiers.derived_dates(dossier).max_end_on
        if dossier.start_on and max_end:
            span = relativedelta(max_end + relativedelta(days=1), dossier.start_on)
            months = span.years * 12 + span.months + (1 if span.days >= 15 else 0)
            years = max(1, int((Decimal(months) / 12).quantize(Decimal(1), ROUND_HALF_UP)))
            basis = _("the full term of the current contract, options included")
        value = (dossier.annual_value * years).quantize(Decimal("0.01"))
        return value, _(
            "annual value %(annual)s × %(years)d years (%(basis)s)",
            annual=format_money(dossier.annual_value),
            years=years,
            basis=basis,
        )
    if dossier.value is not None:
        return dossier.value, _("the total value of the current contract (no annual value)")
    return None, _("no estimate: the current contract has no value recorded")


def propose(actor: User, dossier: Dossier, kind: EndDecisionKind, reasons: str) -> EndDecision:
    reasons = reasons.strip()
    errors = {}
    if not reasons:
        errors["reasons"] = _("give the reasons for this decision")
    elif len(reasons) > MAX_TEXT:
        errors["reasons"] = _("at most %(most)d characters", most=MAX_TEXT)
    if pending(dossier) is not None:
        errors["kind"] = _(
            "a proposal is awaiting the contract owner; it is approved or rejected first"
        )
    if errors:
        raise ValidationError(errors)
    decision = EndDecision(
        dossier_id=dossier.id, kind=kind, reasons=reasons, proposed_by_id=actor.id,
        status=EndDecisionStatus.PROPOSED, decision_note="",
    )  # fmt: skip
    db.session.add(decision)
    db.session.flush()
    audit.record(
        actor, AuditAction.DECISION_PROPOSE, "end_decision", decision.id, dossier_id=dossier.id,
        after={"kind": kind, "reasons": reasons},
    )  # fmt: skip
    return decision


def _settle(actor: User, decision: EndDecision, status: EndDecisionStatus, note: str) -> None:
    if decision.status != EndDecisionStatus.PROPOSED:
        raise ValidationError({"note": _("this decision was settled already")})
    if not access.can_approve_decision(actor, decision):
        # The view checks it too; here it is the rule itself (four eyes).
        raise ValidationError(
            {"note": _("the contract owner approves, and never the one who proposed it")}
        )
    decision.status = status
    decision.decided_by_id = actor.id
    decision.decided_at = utcnow()
    decision.decision_note = note.strip()


def approve(actor: User, decision: EndDecision, note: str = "", today: date | None = None) -> None:
    from dossier import deadlines

    today = today or deadlines.local_today()
    if len(note) > MAX_TEXT:
        raise ValidationError({"note": _("at most %(most)d characters", most=MAX_TEXT)})
    _settle(actor, decision, EndDecisionStatus.APPROVED, note)
    dossier = decision.dossier
    successor = None
    if decision.kind == EndDecisionKind.RETENDER:
        successor = _create_successor(actor, dossier)
        decision.successor_id = successor.id
    db.session.flush()
    audit.record(
        actor, AuditAction.DECISION_APPROVE, "end_decision", decision.id, dossier_id=dossier.id,
        before={"status": EndDecisionStatus.PROPOSED},
        after={"status": decision.status, "kind": decision.kind, "note": decision.decision_note,
               "successor": successor.reference if successor else None},
    )  # fmt: skip
    due = deadlines.decision_due(dossier, today)
    if due is not None:
        deadlines.set_status(
            actor, dossier, DeadlineKind.DECISION, due, DeadlineStatus.ACTED_ON,
            _("Decision approved: %(kind)s.", kind=_kind_label(decision.kind)), today,
        )  # fmt: skip
    if decision.kind in (EndDecisionKind.END, EndDecisionKind.INSOURCE):
        # No new procurement follows: the tender start is settled by this decision (a
        # re-tender or an extension keeps it open, the procurement still has to start).
        for kind, day in deadlines.due_dates(dossier, today):
            if kind == DeadlineKind.TENDER:
                deadlines.set_status(
                    actor, dossier, kind, day, DeadlineStatus.ACTED_ON,
                    _("No new tender: decision approved: %(kind)s.",
                      kind=_kind_label(decision.kind)), today,
                )  # fmt: skip


def reject(actor: User, decision: EndDecision, note: str) -> None:
    if not note.strip():
        raise ValidationError({"note": _("say why the proposal is rejected")})
    if len(note) > MAX_TEXT:
        raise ValidationError({"note": _("at most %(most)d characters", most=MAX_TEXT)})
    _settle(actor, decision, EndDecisionStatus.REJECTED, note)
    db.session.flush()
    audit.record(
        actor, AuditAction.DECISION_REJECT, "end_decision", decision.id,
        dossier_id=decision.dossier_id, before={"status": EndDecisionStatus.PROPOSED},
        after={"status": decision.status, "note": decision.decision_note},
    )  # fmt: skip


def _kind_label(kind: EndDecisionKind) -> str:
    from dossier.labels import END_DECISION_KIND

    return str(END_DECISION_KIND[kind])


def _free_reference(base: str) -> str:
    base = base[:58]
    for number in range(1, 1000):
        candidate = f"{base}-R{number}"
        taken = db.session.scalar(
            sa.select(Dossier.id).where(sa.func.lower(Dossier.reference) == candidate.lower())
        )
        if taken is None:
            return candidate
    raise ValidationError({"kind": _("no free reference for the tender dossier")})


def _create_successor(actor: User, dossier: Dossier) -> Dossier:
    """The tender dossier of a re-tender: a draft with this one's subject and members, the
    estimated value and how it was reached, linked as successor."""
    value, basis = estimate(dossier)
    members = memberships.members_of(dossier)
    beheerders = [m.user.email for m in members if m.role == MemberRole.BEHEERDER and m.user]
    values = {
        "reference": _free_reference(dossier.reference),
        "title": _("Re-tender: %(title)s", title=dossier.title)[:255],
        "description": _(
            "Tender for the successor of %(reference)s. Estimated value: %(basis)s.",
            reference=dossier.reference,
            basis=basis,
        ),
        "status": DossierStatus.DRAFT,
        "client_department": dossier.client_department,
        "category": dossier.category,
        "cpv_code": dossier.cpv_code,
        "confidentiality": dossier.confidentiality,
        "personal_data": dossier.personal_data,
        "value": value,
        "beheerder": beheerders or [actor.email],
    }
    successor = dossiers.create_dossier(actor, values)
    # The other members (groups too) with the same roles; beheerders first, so the dossier
    # keeps one while the rest is copied.
    ordered = sorted(members, key=lambda m: m.role != MemberRole.BEHEERDER)
    for membership in ordered:
        principal = membership.user or membership.group
        if not beheerders and principal is actor:
            continue  # made beheerder above, as the dossier needs one
        if principal is not None:
            memberships.set_role(actor, successor, principal, membership.role)
    relation = DossierRelation(
        parent_id=dossier.id, child_id=successor.id, kind=RelationKind.SUCCESSOR,
        created_by_id=actor.id,
    )  # fmt: skip
    db.session.add(relation)
    db.session.flush()
    audit.record(
        actor, AuditAction.RELATION_ADD, "dossier_relation", relation.id, dossier_id=dossier.id,
        after={"parent": dossier.reference, "child": successor.reference,
               "kind": RelationKind.SUCCESSOR},
    )  # fmt: skip
    return successor
