"""The amendment register (wijzigingen en meerwerk) of a dossier, and the contract's current
value: the initial value plus every approved amendment.

An amendment is proposed by the dossier's beheerder or manager and approved or rejected by its
owner, never by the person who proposed it (four eyes). Every step is audited; nothing is
edited in place: a wrong amendment is rejected and a new one proposed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import access, audit
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    Amendment,
    AmendmentStatus,
    AuditAction,
    Document,
    Dossier,
    LegalGround,
    User,
    utcnow,
)

MAX_TEXT = 5000
# Larger changes than this are a typing error, not an amendment (the column holds 14 digits).
MAX_CHANGE = Decimal("999999999999.99")
FIELDS = ("amended_on", "description", "value_change", "reason", "legal_ground")
# Amendments that count: approved ones for the value, and (in the checks) proposed ones too,
# so the owner sees a limit crossed before approving.
COUNTED = (AmendmentStatus.PROPOSED, AmendmentStatus.APPROVED)


def snapshot(amendment: Amendment) -> dict[str, Any]:
    """The recorded fields of `amendment` as plain values, for the audit trail."""
    values = {name: getattr(amendment, name) for name in FIELDS}
    values["status"] = amendment.status
    values["document_ids"] = sorted(d.id for d in amendment.documents)
    return values


def _check(actor: User, dossier: Dossier, values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean = dict(values)
    clean["description"] = (clean.get("description") or "").strip()
    clean["reason"] = (clean.get("reason") or "").strip()
    if not clean["description"]:
        errors["description"] = _("Describe what changes.")
    for name in ("description", "reason"):
        if len(clean[name]) > MAX_TEXT:
            errors[name] = _("At most %(num)d characters.", num=MAX_TEXT)
    if not isinstance(clean.get("amended_on"), date):
        errors["amended_on"] = _("Give the date of the amendment.")
    change = clean.get("value_change")
    if not isinstance(change, Decimal):
        errors["value_change"] = _("Give the value change in euros (0 when the value stays).")
    elif abs(change) > MAX_CHANGE:
        errors["value_change"] = _("This amount is too large.")
    try:
        clean["legal_ground"] = LegalGround(clean.get("legal_ground"))
    except ValueError:
        errors["legal_ground"] = _("Choose the legal ground from the list.")
    if clean.get("legal_ground") == LegalGround.OTHER and not clean["reason"]:
        errors["reason"] = _("With another legal ground, say in the reason which one and why.")
    clean["documents"] = _documents(actor, dossier, clean.get("document_ids") or [], errors)
    if errors:
        raise ValidationError(errors)
    return clean


def _documents(
    actor: User, dossier: Dossier, ids: Iterable[int], errors: dict[str, str]
) -> list[Document]:
    """The linked documents: each one of this dossier and readable by the actor, or none."""
    wanted = set(ids)
    found = access.readable_documents(actor, dossier, wanted)
    if len(found) != len(wanted):
        errors["document_ids"] = _("Choose documents filed in this dossier.")
        return []
    return found


def propose(actor: User, dossier: Dossier, values: Mapping[str, Any]) -> Amendment:
    """Record a proposed amendment; flushed and audited, committed by the caller."""
    clean = _check(actor, dossier, values)
    amendment = Amendment(dossier_id=dossier.id, proposed_by_id=actor.id, decision_note="")
    for name in FIELDS:
        setattr(amendment, name, clean[name])
    amendment.value_change = clean["value_change"].quantize(Decimal("0.01"))
    amendment.status = AmendmentStatus.PROPOSED
    amendment.documents = clean["documents"]
    db.session.add(amendment)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.AMENDMENT_PROPOSE,
        "amendment",
        amendment.id,
        dossier_id=dossier.id,
        after=snapshot(amendment),
    )
    return amendment


def decide(actor: User, amendment: Amendment, approve: bool, note: str = "") -> Amendment:
    """Approve or reject a proposed amendment: its owner, not who proposed it; audited."""
    if amendment.status != AmendmentStatus.PROPOSED:
        raise ValidationError({"status": _("This amendment has already been decided.")})
    if amendment.proposed_by_id == actor.id:
        raise ValidationError(
            {"status": _("Someone else than who proposed it approves an amendment.")}
        )
    note = (note or "").strip()
    if len(note) > MAX_TEXT:
        raise ValidationError({"decision_note": _("At most %(num)d characters.", num=MAX_TEXT)})
    amendment.status = AmendmentStatus.APPROVED if approve else AmendmentStatus.REJECTED
    amendment.decided_by_id, amendment.decided_at = actor.id, utcnow()
    amendment.decision_note = note
    db.session.flush()
    audit.record(
        actor,
        AuditAction.AMENDMENT_DECIDE,
        "amendment",
        amendment.id,
        dossier_id=amendment.dossier_id,
        before={"status": AmendmentStatus.PROPOSED},
        after={"status": amendment.status, "decision_note": note},
    )
    return amendment


def of_dossier(dossier: Dossier) -> list[Amendment]:
    """The amendments of `dossier` in the order they were made."""
    query = (
        sa.select(Amendment)
        .where(Amendment.dossier_id == dossier.id)
        .order_by(Amendment.amended_on, Amendment.id)
    )
    return list(db.session.scalars(query))


def of_dossiers(
    dossier_ids: Iterable[int], statuses: Iterable[AmendmentStatus] = COUNTED
) -> dict[int, list[Amendment]]:
    """The amendments of these (visible) dossiers with one of `statuses`, per dossier, in the
    order they were made."""
    ids = list(dossier_ids)
    found: dict[int, list[Amendment]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        query = (
            sa.select(Amendment)
            .where(
                Amendment.dossier_id.in_(ids[start : start + 500]),
                Amendment.status.in_(list(statuses)),
            )
            .order_by(Amendment.amended_on, Amendment.id)
        )
        for amendment in db.session.scalars(query):
            found[amendment.dossier_id].append(amendment)
    return found


def approved_totals(dossier_ids: Iterable[int]) -> dict[int, Decimal]:
    """The sum of the approved value changes per dossier (dossiers without any are absent)."""
    ids = list(dossier_ids)
    totals: dict[int, Decimal] = {}
    for start in range(0, len(ids), 500):
        query = (
            sa.select(Amendment.dossier_id, sa.func.sum(Amendment.value_change))
            .where(
                Amendment.dossier_id.in_(ids[start : start + 500]),
                Amendment.status == AmendmentStatus.APPROVED,
            )
            .group_by(Amendment.dossier_id)
        )
        for dossier_id, amount in db.session.execute(query):
            totals[dossier_id] = Decimal(amount).quantize(Decimal("0.01"))
    return totals


def current_value(dossier: Dossier, approved: Decimal | None = None) -> Decimal | None:
    """The current contract value: the initial value plus the approved amendments (unknown
    when the initial value is). `approved` is the sum when the caller already has it."""
    if dossier.value is None:
        return None
    if approved is None:
        approved = approved_totals([dossier.id]).get(dossier.id, Decimal("0.00"))
    return dossier.value + approved


def current_values(dossiers: Iterable[Dossier]) -> dict[int, Decimal | None]:
    """`current_value` of each dossier by id, in one query."""
    dossiers = list(dossiers)
    totals = approved_totals(d.id for d in dossiers)
    return {d.id: current_value(d, totals.get(d.id, Decimal("0.00"))) for d in dossiers}


def document_choices(actor: User, dossier: Dossier) -> list[Document]:
    """Documents of `dossier` the actor may read, amendments first, then newest first."""
    query = access.visible_documents(actor).where(Document.dossier_id == dossier.id)
    return sorted(
        db.session.scalars(query),
        key=lambda d: (d.kind.value != "amendment", -(d.document_date or date.min).toordinal()),
    )


def readable_documents(actor: User, amendment: Amendment) -> list[Document]:
    """The linked documents the actor may read (confidential ones only for the right roles)."""
    return [d for d in amendment.documents if access.can_view_document(actor, d)]
