"""Recording and checking the hash-chained audit trail: events are appended, never edited."""

from __future__ import annotations

import datetime as dt
import enum
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context

from dossier.extensions import db
from dossier.models import AuditAction, AuditEvent, User, utcnow

GENESIS = "0" * 64
ANONYMOUS = "anonymous"  # the actor label of events caused by someone not logged in
# Any constant works; it names the PostgreSQL advisory lock that serialises chain appends.
_CHAIN_LOCK_ID = 0x0D055E1
ANCHOR_FILE = "audit-anchor.json"
# session.info keys: events were flushed in this transaction; the head read before it commits.
_EVENTS_FLUSHED = "dossier.audit_events_flushed"
_PENDING_HEAD = "dossier.audit_head"
log = logging.getLogger(__name__)


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


# What an event's hash covers; a transfer package exports exactly these (dossier/transfer.py)
# so its verifier can recompute the hash offline (dossier/transfer_verify.py).
HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "dossier_id",
    "before",
    "after",
    "prev_hash",
)


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    return fields | {"at": event.at.isoformat()}


def digest_of(fields: dict[str, Any]) -> str:
    """The hash of an event from its hashed fields (as stored, or as exported)."""
    payload = {name: fields.get(name) for name in HASHED_FIELDS}
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _digest(event: AuditEvent) -> str:
    return digest_of(hashed_fields(event))


def _chain_head() -> str:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK_ID})
    last = db.session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def record(
    actor: User | None,
    action: AuditAction,
    object_type: str,
    object_id: int | None,
    *,
    dossier_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    anonymous: bool = False,
) -> AuditEvent:
    """Append one event to the chain; the caller's transaction commits it with the change.

    An action that is not an AuditAction raises ValueError: the trail holds no code that the
    audit viewer cannot name.
    Without an actor the event is the system's, or, with `anonymous`, a visitor's who has not
    logged in (a failed log-in).
    """
    event = AuditEvent(
        at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else ANONYMOUS if anonymous else "system",
        action=AuditAction(action).value,
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


# ---------------------------------------------------------------------------- the anchor
# The chain proves that no event was edited or removed from the middle; it cannot prove that the
# newest events were not deleted. So the head is also kept outside the table: after every commit
# that appended events, the newest one's id and hash go into a file in the instance folder (and
# every backup manifest holds the head at its moment). `dossier verify` checks the table still
# holds each anchored event unchanged (R15).


def init_app(app: Flask) -> None:
    """Keep the chain head anchored in `AUDIT_ANCHOR_PATH` (default: the instance folder)."""
    app.config.setdefault("AUDIT_ANCHOR_PATH", os.path.join(app.instance_path, ANCHOR_FILE))
    if not sa.event.contains(sa.orm.Session, "after_flush", _note_events):
        sa.event.listen(sa.orm.Session, "after_flush", _note_events)
        sa.event.listen(sa.orm.Session, "before_commit", _read_head)
        sa.event.listen(sa.orm.Session, "after_commit", _anchor_head)
        sa.event.listen(sa.orm.Session, "after_rollback", _forget_head)


# Savepoints (register import wraps each row in one) also fire the commit and rollback events;
# only the outermost transaction counts. The head is read inside that transaction just before it
# commits, so an event flushed in a savepoint that was rolled back is never anchored.


def _note_events(session: sa.orm.Session, _context: object) -> None:
    if any(isinstance(obj, AuditEvent) for obj in session.new):
        session.info[_EVENTS_FLUSHED] = True


def _read_head(session: sa.orm.Session) -> None:
    if session.in_nested_transaction() or not session.info.pop(_EVENTS_FLUSHED, False):
        return
    head = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if head is not None:
        session.info[_PENDING_HEAD] = (head.id, head.hash)


def _anchor_head(session: sa.orm.Session) -> None:
    if session.in_nested_transaction():
        return
    head = session.info.pop(_PENDING_HEAD, None)
    if head is None or not has_app_context():
        return
    path = current_app.config.get("AUDIT_ANCHOR_PATH")
    if not path:
        return
    try:
        advance_anchor(path, *head)
    except OSError as exc:  # the change is committed; a lagging anchor is safe, so carry on
        log.warning("could not anchor the audit chain head in %s: %s", path, exc)


def _forget_head(session: sa.orm.Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_PENDING_HEAD, None)
        session.info.pop(_EVENTS_FLUSHED, None)


def read_anchor(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The anchored head `{"id": ..., "hash": ...}`, or None when there is none yet."""
    try:
        with open(path, encoding="utf-8") as handle:
            anchor = json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError:  # torn by a crash (it is written without fsync): as good as none
        return None
    return anchor if isinstance(anchor, dict) else None


def advance_anchor(path: str | os.PathLike[str], event_id: int, event_hash: str) -> None:
    """Move the anchor to a newer event; an older head (another process was slower) is kept."""
    with _anchor_lock(path):
        current = read_anchor(path)
        if current and isinstance(current.get("id"), int) and current["id"] >= event_id:
            return
        _write_anchor(path, {"id": event_id, "hash": event_hash})


def reset_anchor(path: str | os.PathLike[str], head: dict[str, Any]) -> None:
    """Set the anchor to `head` as it is (after a restore, the restored chain's head)."""
    with _anchor_lock(path):
        if head.get("id") is None:
            Path(path).unlink(missing_ok=True)
        else:
            _write_anchor(path, {"id": head["id"], "hash": head["hash"]})


@contextmanager
def _anchor_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Serialise anchor updates across threads and processes."""
    fd = os.open(f"{os.fspath(path)}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_anchor(path: str | os.PathLike[str], anchor: dict[str, Any]) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".audit-anchor-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(anchor, handle)  # no fsync: after a crash the anchor may lag, never lead
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def check_anchor(anchor: dict[str, Any], source: str) -> Iterator[ChainProblem]:
    """Yield a problem when the table no longer holds the anchored event unchanged."""
    event_id, event_hash = anchor.get("id"), anchor.get("hash")
    if not isinstance(event_id, int) or not isinstance(event_hash, str):
        yield ChainProblem(0, f"the anchor in {source} is damaged")
        return
    stored = db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == event_id))
    if stored is None:
        last = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
        yield ChainProblem(
            event_id,
            f"{source} anchors event {event_id}, but the trail ends at event {last or 0}: "
            "events were removed",
        )
    elif stored != event_hash:
        yield ChainProblem(event_id, f"event {event_id} differs from the head anchored in {source}")


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
