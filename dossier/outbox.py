"""Claiming outbox work, so that any number of workers on any number of machines share it.

A worker claims a few items at a time: it selects due items that nobody holds with
``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL: concurrent claimers pass each other's rows
without waiting; SQLite has one writer at a time, so a claim there is a short write
transaction), and marks them with its name and a lease (`OUTBOX_LEASE_SECONDS`). It renews the
lease while it works and deletes each item when its work has committed. A failure releases the
item with a back-off (`OUTBOX_RETRY_SECONDS`, doubling per attempt, at most an hour) and records
the error; after MAX_ATTEMPTS failures the item stays for `dossier verify` to report.

A worker that dies keeps its claims until their lease runs out; then any worker takes them
over. A claimant on this machine that is no longer running (its process is gone, or the
machine rebooted since) is recognised at once and its claims released, so a restarted node
does not wait out the lease. Work is idempotent (see `dossier.indexing`), so an item that a
worker finished just before its lease ran out and another worker repeats changes nothing.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app

from dossier.extensions import db
from dossier.models import OutboxItem, OutboxTopic, utcnow

__all__ = [
    "MAX_ATTEMPTS",
    "Claimed",
    "claim",
    "done",
    "failed",
    "release_dead_claimants",
    "renew",
    "retry_at",
    "worker_name",
]

MAX_ATTEMPTS = 5
MAX_BACKOFF = timedelta(hours=1)
Claimed = tuple[int, str, int]  # item id, topic, object id


@cache
def _boot_id() -> str:
    """This boot of this machine (Linux), so that a claim from before a reboot counts as dead."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip()[:8]
    except OSError:
        return "-"


def _host() -> str:
    return f"{socket.gethostname()[:80]}/{_boot_id()}"


def worker_name() -> str:
    """Who claims: machine, boot, process and thread (several drains may run in one process)."""
    return f"{_host()}:{os.getpid()}:{threading.get_native_id()}"


def _lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["OUTBOX_LEASE_SECONDS"]))


def claim(topics: Iterable[OutboxTopic], limit: int) -> list[Claimed]:
    """Claim up to `limit` due, unclaimed items of these topics, oldest first, and commit.

    Commits the caller's session first (the claim is a transaction of its own).
    """
    db.session.commit()
    now = utcnow()
    me = worker_name()
    free = sa.or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now)
    due = sa.or_(OutboxItem.not_before.is_(None), OutboxItem.not_before <= now)
    try:
        rows = db.session.execute(
            sa.select(OutboxItem.id, OutboxItem.topic, OutboxItem.object_id)
            .where(
                OutboxItem.topic.in_([OutboxTopic(t).value for t in topics]),
                OutboxItem.attempts < MAX_ATTEMPTS,
                free,
                due,
            )
            .order_by(OutboxItem.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = [(row.id, row.topic, row.object_id) for row in rows]
        if claimed:
            db.session.execute(
                sa.update(OutboxItem)
                .where(OutboxItem.id.in_([item_id for item_id, _, _ in claimed]))
                .values(claimed_by=me, claimed_until=now + _lease())
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return claimed


def renew(item_ids: Iterable[int]) -> None:
    """Extend the lease of items this worker still holds (in the caller's transaction)."""
    ids = list(item_ids)
    if ids:
        db.session.execute(
            sa.update(OutboxItem)
            .where(OutboxItem.id.in_(ids), OutboxItem.claimed_by == worker_name())
            .values(claimed_until=utcnow() + _lease())
            .execution_options(synchronize_session=False)
        )


def done(item_ids: Iterable[int]) -> None:
    """Remove finished items (in the caller's transaction, which commits the work with it)."""
    ids = list(item_ids)
    if ids:
        db.session.execute(
            sa.delete(OutboxItem)
            .where(OutboxItem.id.in_(ids))
            .execution_options(synchronize_session=False)
        )


def failed(item_id: int, exc: BaseException) -> None:
    """Record a failure on an item, release it and let it wait before the next attempt; commits.

    Call it after rolling back the work that failed.
    """
    item = db.session.get(OutboxItem, item_id, populate_existing=True)
    if item is None:
        db.session.rollback()
        return
    item.attempts += 1
    item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    item.claimed_by, item.claimed_until = "", None
    item.not_before = utcnow() + _backoff(item.attempts)
    db.session.commit()


def retry_at(item_id: int, when: datetime, error: str) -> None:
    """Release an item until `when` without counting a failed attempt, for work that counts
    and limits its own attempts (webhook deliveries); in the caller's transaction."""
    db.session.execute(
        sa.update(OutboxItem)
        .where(OutboxItem.id == item_id)
        .values(claimed_by="", claimed_until=None, not_before=when, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )


def _backoff(attempts: int) -> timedelta:
    base = float(current_app.config["OUTBOX_RETRY_SECONDS"])
    return min(timedelta(seconds=base * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def release_dead_claimants() -> int:
    """Release the live claims of this machine's processes that no longer run; commits.

    Returns the number of items released. Claims of other machines are left to their lease.
    """
    prefix = _host() + ":"
    now = utcnow()
    held = db.session.execute(
        sa.select(OutboxItem.id, OutboxItem.claimed_by).where(
            OutboxItem.claimed_until.is_not(None), OutboxItem.claimed_until >= now
        )
    ).all()
    dead = [
        item_id
        for item_id, holder in held
        if _on_other_boot(holder) or (holder.startswith(prefix) and not _running(holder))
    ]
    if dead:
        db.session.execute(
            sa.update(OutboxItem)
            .where(OutboxItem.id.in_(dead))
            .values(claimed_by="", claimed_until=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return len(dead)


def _on_other_boot(holder: str) -> bool:
    """A claim by this machine from before its last reboot."""
    host, _, rest = holder.partition("/")
    boot = rest.split(":", 1)[0]
    return host == socket.gethostname()[:80] and boot != _boot_id()


def _running(holder: str) -> bool:
    try:
        pid = int(holder.split(":")[-2])
    except (IndexError, ValueError):
        return True  # not ours to judge
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
