"""Recording and checking the hash-chained audit trail: events are appended, never edited."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from dossier.extensions import db
from dossier.models import AuditEvent, User, utcnow

GENESIS = "0" * 64
ANONYMOUS = "anonymous"  # the actor label of events caused by someone not logged in
# Any constant works; it names the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_ID = 0x0D055E1


def jsonable(value: Any) -> Any:
    """Turn dates, amounts and enums into the JSON form that is stored and hashed."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _digest(event: AuditEvent) -> str:
    payload = {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "dossier_id": event.dossier_id,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _chain_head() -> str:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK_ID})
    last = db.session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def record(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | None,
    *,
    dossier_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    anonymous: bool = False,
) -> AuditEvent:
    """Append one event to the chain; the caller's transaction commits it with the change.

    Without an actor the event is the system's, or, with `anonymous`, a visitor's who has not
    logged in (a failed log-in).
    """
    event = AuditEvent(
        at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else ANONYMOUS if anonymous else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        dossier_id=dossier_id,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        prev_hash=_chain_head(),
    )
    event.hash = _digest(event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


def check_chain() -> Iterator[ChainProblem]:
    """Yield every event whose hash or link does not match, in order."""
    expected_prev = GENESIS
    query = sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    for event in db.session.scalars(query):
        if event.prev_hash != expected_prev:
            yield ChainProblem(event.id, "link to the previous event is broken")
        if _digest(event) != event.hash:
            yield ChainProblem(event.id, "content does not match its hash")
        expected_prev = event.hash


@dataclass(frozen=True)
class EventFilter:
    """What the audit viewer narrows the trail to; empty fields do not filter."""

    dossier_id: int | None = None
    actor: str = ""  # part of the actor's e-mail address
    action: str = ""  # an action or its prefix, e.g. "membership"
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


def events(selection: EventFilter) -> sa.Select[Any]:
    """The events matching `selection`, newest first."""
    query = sa.select(AuditEvent)
    if selection.dossier_id is not None:
        query = query.where(AuditEvent.dossier_id == selection.dossier_id)
    if selection.actor:
        query = query.where(
            AuditEvent.actor_label.contains(selection.actor.lower(), autoescape=True)
        )
    if selection.action:
        query = query.where(AuditEvent.action.startswith(selection.action, autoescape=True))
    if selection.since:
        query = query.where(
            AuditEvent.at >= dt.datetime.combine(selection.since, dt.time(), dt.UTC)
        )
    if selection.until:
        end = dt.datetime.combine(selection.until + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(AuditEvent.at < end)
    return query.order_by(AuditEvent.id.desc())


def as_text(values: dict[str, Any] | None) -> str:
    """Before/after values as one line of plain text: `key: value; ...`."""
    if not values:
        return ""
    return "; ".join(f"{key}: {_text(value)}" for key, value in sorted(values.items()))


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "{" + as_text(value) + "}"
    return str(value)
