"""Related dossiers: a framework agreement and its call-off contracts (nadere overeenkomsten),
predecessor and successor, a main contract and its processing agreement or SLA.

What a reader sees of a dossier's family is filtered like everything else: a related dossier
they may not see is not shown at all, not even as "hidden" (its existence would tell something).
The one exception is the framework's ceiling: who answers for it (`access.can_see_framework_total`)
sees the sum of every call-off and how many of them they cannot open, never their titles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import access, audit
from dossier.dossiers import MAX_AMOUNT
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    REFERENCE_RE,
    AuditAction,
    Dossier,
    DossierRelation,
    RelationKind,
    User,
)

PARENT, CHILD = "parent", "child"


@dataclass(frozen=True)
class Relative:
    """A related dossier as one reader sees it: what it is to this one (`side`: the other
    dossier is the PARENT, e.g. the framework, or the CHILD, e.g. a call-off)."""

    relation: DossierRelation
    dossier: Dossier
    side: str

    @property
    def kind(self) -> RelationKind:
        return self.relation.kind


@dataclass
class Ceiling:
    """A framework's call-offs summed against its maximum value."""

    maximum: Decimal | None
    total: Decimal = Decimal(0)
    counted: int = 0  # call-offs with a value
    without_value: int = 0
    hidden: int = 0  # call-offs the reader cannot open (only with can_see_framework_total)
    complete: bool = True  # every call-off counted, also those the reader cannot open

    @property
    def exceeded(self) -> bool:
        return self.maximum is not None and self.total > self.maximum

    @property
    def share(self) -> int | None:
        if not self.maximum:
            return None
        return int(self.total * 100 / self.maximum)


@dataclass
class Family:
    relatives: list[Relative] = field(default_factory=list)
    ceiling: Ceiling | None = None


def _relations_of(dossier: Dossier) -> list[DossierRelation]:
    query = sa.select(DossierRelation).where(
        sa.or_(DossierRelation.parent_id == dossier.id, DossierRelation.child_id == dossier.id)
    )
    return list(db.session.scalars(query.order_by(DossierRelation.kind, DossierRelation.id)))


def _visible_ids(user: User, ids: Iterable[int]) -> set[int]:
    wanted = list(ids)
    if not wanted:
        return set()
    query = sa.select(Dossier.id).where(
        Dossier.id.in_(wanted), Dossier.id.in_(access.visible_dossier_ids(user))
    )
    return set(db.session.scalars(query))


def family(user: User, dossier: Dossier) -> Family:
    """The related dossiers `user` may see, and the framework's ceiling when `dossier` is one
    (or has call-offs)."""
    relations = _relations_of(dossier)
    others = {r.child_id if r.parent_id == dossier.id else r.parent_id for r in relations}
    visible = _visible_ids(user, others)
    result = Family()
    for relation in relations:
        if relation.parent_id == dossier.id:
            other, side = relation.child, CHILD
        else:
            other, side = relation.parent, PARENT
        if other.id in visible:
            result.relatives.append(Relative(relation, other, side))
    call_offs = [
        r.child for r in relations if r.kind == RelationKind.CALL_OFF and r.parent_id == dossier.id
    ]
    if dossier.is_framework or call_offs:
        whole = access.can_see_framework_total(user, dossier)
        ceiling = Ceiling(dossier.framework_max_value, complete=whole)
        for call_off in call_offs:
            if call_off.id not in visible:
                if not whole:
                    continue
                ceiling.hidden += 1
            if call_off.value is None:
                ceiling.without_value += 1
            else:
                ceiling.total += call_off.value
                ceiling.counted += 1
        result.ceiling = ceiling
    return result


def family_keys(dossiers: Iterable[Dossier]) -> dict[int, str]:
    """For reports over `dossiers` (already filtered by visibility): each one's family, named
    by the reference of its root among them (the framework of a call-off, the main contract
    of an annex, the first predecessor); a dossier without a related one among them is its
    own family. Only relations between these dossiers count, so a report never names a
    dossier its reader may not see."""
    by_id = {d.id: d for d in dossiers}
    parent_of: dict[int, int] = {}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            sa.select(DossierRelation.child_id, DossierRelation.parent_id)
            .where(DossierRelation.child_id.in_(ids[start : start + 500]))
            .order_by(DossierRelation.id)
        )
        for child, parent in rows:
            if parent in by_id:
                parent_of.setdefault(child, parent)
    keys = {}
    for dossier_id in ids:
        seen, current = {dossier_id}, dossier_id
        while current in parent_of and parent_of[current] not in seen:
            current = parent_of[current]
            seen.add(current)
        keys[dossier_id] = by_id[current].reference
    return keys


# Choices of the form: what the other dossier is to this one.
CHOICES = (
    (f"{CHILD}:{RelationKind.CALL_OFF}", RelationKind.CALL_OFF, CHILD),
    (f"{PARENT}:{RelationKind.CALL_OFF}", RelationKind.CALL_OFF, PARENT),
    (f"{CHILD}:{RelationKind.SUCCESSOR}", RelationKind.SUCCESSOR, CHILD),
    (f"{PARENT}:{RelationKind.SUCCESSOR}", RelationKind.SUCCESSOR, PARENT),
    (f"{CHILD}:{RelationKind.PROCESSING}", RelationKind.PROCESSING, CHILD),
    (f"{PARENT}:{RelationKind.PROCESSING}", RelationKind.PROCESSING, PARENT),
    (f"{CHILD}:{RelationKind.SLA}", RelationKind.SLA, CHILD),
    (f"{PARENT}:{RelationKind.SLA}", RelationKind.SLA, PARENT),
)


def add(actor: User, dossier: Dossier, other_reference: str, choice: str) -> DossierRelation:
    """Link `dossier` to the dossier with `other_reference`, which `actor` must be able to
    see (a hidden one is reported as unknown, like a missing one)."""
    found = [(kind, side) for value, kind, side in CHOICES if value == choice]
    if not found:
        raise ValidationError({"relation": _("choose what the other dossier is")})
    kind, side = found[0]
    reference = other_reference.strip()
    other = None
    if REFERENCE_RE.match(reference):
        other = db.session.scalar(sa.select(Dossier).where(Dossier.reference == reference))
    if other is None or not access.can_view_dossier(actor, other):
        raise ValidationError({"other": _("no dossier with reference %(ref)s", ref=reference)})
    if other.id == dossier.id:
        raise ValidationError({"other": _("a dossier is not related to itself")})
    exists = db.session.scalar(
        sa.select(DossierRelation.id).where(
            sa.or_(
                sa.and_(DossierRelation.parent_id == dossier.id,
                        DossierRelation.child_id == other.id),
                sa.and_(DossierRelation.parent_id == other.id,
                        DossierRelation.child_id == dossier.id),
            )
        )
    )  # fmt: skip
    if exists is not None:
        raise ValidationError({"other": _("these dossiers are related already")})
    parent, child = (dossier, other) if side == CHILD else (other, dossier)
    relation = DossierRelation(
        parent_id=parent.id, child_id=child.id, kind=kind, created_by_id=actor.id
    )
    db.session.add(relation)
    db.session.flush()
    audit.record(
        actor, AuditAction.RELATION_ADD, "dossier_relation", relation.id, dossier_id=dossier.id,
        after={"parent": parent.reference, "child": child.reference, "kind": kind},
    )  # fmt: skip
    return relation


def get(dossier: Dossier, relation_id: int) -> DossierRelation | None:
    relation = db.session.get(DossierRelation, relation_id)
    if relation is None or dossier.id not in (relation.parent_id, relation.child_id):
        return None
    return relation


def remove(actor: User, dossier: Dossier, relation: DossierRelation) -> None:
    before = {
        "parent": relation.parent.reference,
        "child": relation.child.reference,
        "kind": relation.kind,
    }
    db.session.delete(relation)
    db.session.flush()
    audit.record(
        actor, AuditAction.RELATION_REMOVE, "dossier_relation", relation.id,
        dossier_id=dossier.id, before=before,
    )  # fmt: skip


def set_framework(
    actor: User, dossier: Dossier, is_framework: bool, maximum: Decimal | None
) -> bool:
    if maximum is not None and (not maximum.is_finite() or maximum < 0 or maximum > MAX_AMOUNT):
        raise ValidationError({"framework_max_value": _("give an amount from 0")})
    if not is_framework:
        maximum = None
    before = {"is_framework": dossier.is_framework, "maximum": dossier.framework_max_value}
    after = {"is_framework": is_framework, "maximum": maximum}
    if before == after:
        return False
    dossier.is_framework, dossier.framework_max_value = is_framework, maximum
    db.session.flush()
    audit.record(
        actor, AuditAction.FRAMEWORK_UPDATE, "dossier", dossier.id, dossier_id=dossier.id,
        before=before, after=after,
    )  # fmt: skip
    return True
