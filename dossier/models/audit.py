"""The append-only audit trail and the outbox of pending index work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from dossier.models.base import Base, created_at, intpk, sha256_hex, str32, utcnow


class AuditEvent(Base):
    """One thing that happened; each event's hash covers its content and the previous hash."""

    __tablename__ = "audit_event"

    id: Mapped[intpk]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(255))  # e-mail at the time, or "system"
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str32]
    object_id: Mapped[int | None]
    dossier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dossier.id"), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    prev_hash: Mapped[sha256_hex] = mapped_column(unique=True)
    hash: Mapped[sha256_hex] = mapped_column(unique=True)


class OutboxItem(Base):
    """Index work written in the same transaction as the change it reflects."""

    __tablename__ = "outbox"

    id: Mapped[intpk]
    topic: Mapped[str32]  # "version.extract", "document.reindex", "document.remove", ...
    object_id: Mapped[int]
    created_at: Mapped[created_at]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
