"""Following a dossier: its followers hear in the daily digest what happened in it the day
before (new documents and versions, notices sent to them, register changes).

Each event is filtered for the follower when the digest is composed: a dossier they no longer
see says nothing, and a document they may not open (a confidential one) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from dossier import access, audit
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Document,
    DocumentVersion,
    Dossier,
    DossierFollow,
    Notice,
    User,
)


def is_following(user: User, dossier: Dossier) -> bool:
    return db.session.get(DossierFollow, (user.id, dossier.id)) is not None


def follow(user: User, dossier: Dossier) -> bool:
    """Follow `dossier`; returns whether that is new (then audited)."""
    if is_following(user, dossier):
        return False
    db.session.add(DossierFollow(user_id=user.id, dossier_id=dossier.id))
    db.session.flush()
    audit.record(user, AuditAction.DOSSIER_FOLLOW, "dossier", dossier.id, dossier_id=dossier.id)
    return True


def unfollow(user: User, dossier: Dossier) -> bool:
    found = db.session.get(DossierFollow, (user.id, dossier.id))
    if found is None:
        return False
    db.session.delete(found)
    db.session.flush()
    audit.record(user, AuditAction.DOSSIER_UNFOLLOW, "dossier", dossier.id, dossier_id=dossier.id)
    return True


def followers() -> list[User]:
    """Enabled users who follow at least one dossier (digest recipients)."""
    query = (
        sa.select(User)
        .where(User.is_enabled.is_(True), User.id.in_(sa.select(DossierFollow.user_id)))
        .order_by(User.email)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class FollowedEvent:
    """One thing that happened in a followed dossier, as its follower may know it."""

    dossier: Dossier
    at: datetime
    kind: str  # "version", "notice" or "register"
    title: str  # the document's title or the notice's subject
    number: int | None = None  # the version number
    # The register fields a change touched, by their (lazy) labels: translated when the
    # digest is rendered in its reader's language.
    fields: tuple[Any, ...] = ()


def window(today: date, days: int = 1) -> tuple[datetime, datetime]:
    """The `days` whole days (UTC) before `today`: what a digest sent on `today` reports."""
    end = datetime.combine(today, time(), tzinfo=UTC)
    return end - timedelta(days=days), end


def followed_events(user: User, today: date, days: int = 1) -> list[FollowedEvent]:
    """New documents and versions, notices and register changes in the dossiers `user`
    follows and still sees, over the days before `today`; each filtered for `user`."""
    start, end = window(today, days)
    followed = (
        sa.select(DossierFollow.dossier_id)
        .where(DossierFollow.user_id == user.id)
        .where(DossierFollow.dossier_id.in_(access.visible_dossier_ids(user)))
    )
    events = _versions(user, followed, start, end)
    events += _notices(user, followed, start, end)
    events += _register_changes(followed, start, end)
    return sorted(events, key=lambda e: (e.dossier.reference, e.at))


def _versions(user: User, followed: Any, start: datetime, end: datetime) -> list[FollowedEvent]:
    readable = access.visible_documents(user).where(Document.dossier_id.in_(followed))
    query = (
        sa.select(DocumentVersion, Document)
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(Document.id.in_(readable.with_only_columns(Document.id)))
        .where(DocumentVersion.uploaded_at >= start, DocumentVersion.uploaded_at < end)
        .order_by(DocumentVersion.uploaded_at)
    )
    return [
        FollowedEvent(
            document.dossier, version.uploaded_at, "version", document.title, version.number
        )
        for version, document in db.session.execute(query)
    ]


def _notices(user: User, followed: Any, start: datetime, end: datetime) -> list[FollowedEvent]:
    query = access.received_notices(user).where(
        Notice.dossier_id.in_(followed), Notice.created_at >= start, Notice.created_at < end
    )
    return [
        FollowedEvent(n.dossier, n.created_at, "notice", n.subject)
        for n in db.session.scalars(query)
    ]


def _register_changes(followed: Any, start: datetime, end: datetime) -> list[FollowedEvent]:
    query = sa.select(AuditEvent).where(
        AuditEvent.action == AuditAction.DOSSIER_UPDATE.value,
        AuditEvent.dossier_id.in_(followed),
        AuditEvent.at >= start,
        AuditEvent.at < end,
    )
    names = _field_names()
    found = []
    for event in db.session.scalars(query):
        dossier = db.session.get(Dossier, event.dossier_id)
        fields = tuple(names.get(k, k) for k in sorted((event.after or {}).keys()))
        found.append(FollowedEvent(dossier, event.at, "register", "", fields=fields))
    return found


def _field_names() -> dict[str, Any]:
    """The register fields by the labels of the register (its form and its export)."""
    from dossier.register_io import LABELS

    return dict(LABELS)
