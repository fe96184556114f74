"""Webhooks: addresses an administrator registers for events, the deliveries queued for them
(through the outbox, in the transaction of the change) and every attempt to deliver one."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, str32, str255


class WebhookEvent(enum.StrEnum):
    """What a webhook can be told about; PING is the administrator's test and never chosen."""

    DOCUMENT_FILED = "document.filed"
    VERSION_ADDED = "document.version_added"
    DEADLINE_APPROACHING = "deadline.approaching"
    DOSSIER_CHANGED = "dossier.changed"
    PING = "ping"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # queued, or waiting for its next attempt
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed; "send again" queues it once more


class Webhook(Base):
    """An address that receives signed event deliveries."""

    __tablename__ = "webhook"

    id: Mapped[intpk]
    name: Mapped[str255]
    url: Mapped[str] = mapped_column(sa.String(2000))
    # The HMAC-SHA256 key deliveries are signed with; shown to the administrator once.
    secret: Mapped[str] = mapped_column(sa.String(128))
    events: Mapped[list[str]] = mapped_column(sa.JSON)  # WebhookEvent values
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True
    )


class WebhookDelivery(Base):
    """One event for one webhook: the exact body sent on every attempt, and how it went."""

    __tablename__ = "webhook_delivery"

    id: Mapped[intpk]
    webhook_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook.id", ondelete="CASCADE"), index=True
    )
    # Sent as X-Dossier-Delivery and in the body: the same on every attempt (idempotence).
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    event: Mapped[str32]  # a WebhookEvent value
    body: Mapped[str] = mapped_column(sa.Text)  # the JSON sent, made when the event happened
    status: Mapped[DeliveryStatus] = enum_column(DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[created_at]

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")
    tries: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WebhookAttempt.id",
    )


class WebhookAttempt(Base):
    """One try to deliver: when, the HTTP status or the error, and how long it took."""

    __tablename__ = "webhook_attempt"

    id: Mapped[intpk]
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[created_at]
    status_code: Mapped[int | None]
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    duration_ms: Mapped[int] = mapped_column(default=0)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="tries")

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeadlineSignal(Base):
    """A deadline-approaching event already produced for this deadline and threshold, so the
    daily scan produces each one once."""

    __tablename__ = "webhook_deadline_signal"

    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # a DeadlineKind value
    due_on: Mapped[date] = mapped_column(primary_key=True)
    threshold_days: Mapped[int] = mapped_column(primary_key=True)
    signalled_at: Mapped[created_at]
