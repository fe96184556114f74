"""The afsprakenlijst and actielijst: what was agreed (at a meeting or on its own), who acts, by
when, and what became of it. Every change is audited with the values before and after."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dossier import access, audit
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    Action,
    ActionStatus,
    AuditAction,
    Document,
    Dossier,
    GroupMember,
    Membership,
    User,
)

MAX_AGREEMENT = 5000
FIELDS = (
    "agreement",
    "meeting_on",
    "minutes_id",
    "assignee_id",
    "assignee_text",
    "due_on",
    "status",
    "status_note",
)
# What the user an action is assigned to may change on it (besides its managers).
ASSIGNEE_FIELDS = frozenset({"status", "status_note"})


def snapshot(action: Action) -> dict[str, Any]:
    """The recorded fields of `action` as plain values, for the audit trail."""
    return {name: getattr(action, name) for name in FIELDS}


def people(dossier: Dossier) -> list[User]:
    """Enabled users holding a role on `dossier` (directly or through a group): who may be
    given an action in it."""
    direct = sa.select(Membership.user_id).where(
        Membership.dossier_id == dossier.id, Membership.user_id.is_not(None)
    )
    via_group = (
        sa.select(GroupMember.user_id)
        .join(Membership, Membership.group_id == GroupMember.group_id)
        .where(Membership.dossier_id == dossier.id)
    )
    query = (
        sa.select(User)
        .where(User.is_enabled.is_(True), sa.or_(User.id.in_(direct), User.id.in_(via_group)))
        .order_by(User.name, User.email)
    )
    return list(db.session.scalars(query))


def _check(actor: User, dossier: Dossier, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values cleaned and checked against the dossier; ValidationError names each problem."""
    errors: dict[str, str] = {}
    clean = dict(values)
    if "agreement" in clean:
        clean["agreement"] = (clean["agreement"] or "").strip()
        if not clean["agreement"]:
            errors["agreement"] = _("Say what was agreed.")
        elif len(clean["agreement"]) > MAX_AGREEMENT:
            errors["agreement"] = _("At most %(num)d characters.", num=MAX_AGREEMENT)
    for name in ("assignee_text", "status_note"):
        if name in clean:
            clean[name] = (clean[name] or "").strip()
    if clean.get("minutes_id") is not None:
        minutes = db.session.get(Document, clean["minutes_id"])
        if (
            minutes is None
            or minutes.dossier_id != dossier.id
            or not access.can_view_document(actor, minutes)
        ):
            errors["minutes_id"] = _("Choose minutes filed in this dossier.")
    if clean.get("assignee_id") is not None:
        assignee = db.session.get(User, clean["assignee_id"])
        if assignee is None or assignee not in people(dossier):
            errors["assignee_id"] = _("Choose someone who holds a role in this dossier.")
    if "status" in clean:
        try:
            clean["status"] = ActionStatus(clean["status"])
        except ValueError:
            errors["status"] = _("Choose open, done or dropped.")
    if errors:
        raise ValidationError(errors)
    return clean


def create_action(actor: User, dossier: Dossier, values: Mapping[str, Any]) -> Action:
    """Record an agreement and who acts on it; flushed and audited, committed by the caller."""
    clean = _check(actor, dossier, {"status": ActionStatus.OPEN, **values})
    action = Action(dossier_id=dossier.id, created_by_id=actor.id)
    for name in FIELDS:
        if name in clean:
            setattr(action, name, clean[name])
    action.assignee_text = action.assignee_text or ""
    action.status_note = action.status_note or ""
    db.session.add(action)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.ACTION_CREATE,
        "action",
        action.id,
        dossier_id=dossier.id,
        after=snapshot(action),
    )
    return action


def update_action(actor: User, action: Action, values: Mapping[str, Any]) -> Action:
    """Change an action (its status with a note, or what, who and when); audited with the
    fields that changed. Nothing changed records nothing."""
    clean = _check(actor, action.dossier, {k: v for k, v in values.items() if k in FIELDS})
    before = snapshot(action)
    for name, value in clean.items():
        setattr(action, name, value)
    after = snapshot(action)
    changed = [name for name in FIELDS if before[name] != after[name]]
    if not changed:
        return action
    db.session.flush()
    audit.record(
        actor,
        AuditAction.ACTION_UPDATE,
        "action",
        action.id,
        dossier_id=action.dossier_id,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return action


def of_dossier(dossier: Dossier, only_open: bool = False) -> list[Action]:
    """The actions of `dossier`, open ones first by due date (undated last)."""
    query = sa.select(Action).where(Action.dossier_id == dossier.id)
    if only_open:
        query = query.where(Action.status == ActionStatus.OPEN)
    return _ordered(db.session.scalars(query))


def of_dossiers(dossier_ids: Iterable[int], only_open: bool = False) -> list[Action]:
    """The actions of these dossiers (already filtered by visibility)."""
    query = sa.select(Action).where(Action.dossier_id.in_(list(dossier_ids)))
    if only_open:
        query = query.where(Action.status == ActionStatus.OPEN)
    return _ordered(db.session.scalars(query))


def _ordered(actions: Iterable[Action]) -> list[Action]:
    return sorted(
        actions,
        key=lambda a: (not a.is_open, a.due_on is None, a.due_on or date.max, a.id),
    )


def assigned_to(user: User, only_open: bool = True) -> list[Action]:
    """The actions assigned to `user` in the dossiers they may still see."""
    query = sa.select(Action).where(
        Action.assignee_id == user.id, Action.dossier_id.in_(access.visible_dossier_ids(user))
    )
    if only_open:
        query = query.where(Action.status == ActionStatus.OPEN)
    return _ordered(db.session.scalars(query))


def open_in(dossier_ids: Iterable[int]) -> list[Action]:
    """The open actions with a due date in these dossiers (already filtered by visibility)."""
    ids = list(dossier_ids)
    found: list[Action] = []
    for start in range(0, len(ids), 500):
        query = sa.select(Action).where(
            Action.dossier_id.in_(ids[start : start + 500]),
            Action.status == ActionStatus.OPEN,
            Action.due_on.is_not(None),
        )
        found.extend(db.session.scalars(query))
    return _ordered(found)


def is_overdue(action: Action, today: date) -> bool:
    return action.is_open and action.due_on is not None and action.due_on < today


def minutes_choices(actor: User, dossier: Dossier) -> list[Document]:
    """Documents the actor may read in `dossier` that can be an action's minutes: minutes
    first, then the rest, newest first."""
    query = access.visible_documents(actor).where(Document.dossier_id == dossier.id)
    documents = list(db.session.scalars(query))
    return sorted(
        documents,
        key=lambda d: (d.kind.value != "minutes", -(d.document_date or date.min).toordinal()),
    )
