"""Woo requests (Wet open overheid): the request with its statutory deadline, the documents
collected for it with their assessment, the passages to redact, and the redacted files."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, UTCDateTime, created_at, enum_column, intpk
from dossier.models.document import Document, DocumentVersion
from dossier.models.user import User


class WooStatus(enum.StrEnum):
    OPEN = "open"  # being handled
    DECIDED = "decided"  # the decision was taken; the package is final


class Assessment(enum.StrEnum):
    """What the decision says about one document."""

    PENDING = "pending"  # not assessed yet
    PUBLIC = "public"  # openbaar
    PARTLY_PUBLIC = "partly_public"  # deels openbaar: passages redacted
    NOT_PUBLIC = "not_public"  # niet openbaar


class WooRequest(Base):
    """A request for public information (Woo art. 4.1)."""

    __tablename__ = "woo_request"

    id: Mapped[intpk]
    received_on: Mapped[date]  # the period runs from the day after (art. 4.4 lid 1)
    requester: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[WooStatus] = enum_column(WooStatus, default=WooStatus.OPEN)
    # Art. 4.4 lid 2: the decision was postponed once; the requester was told why, before the
    # first period ended, on this day.
    extended_on: Mapped[date | None]
    extension_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # Art. 4.4 lid 3 / Awb 4:15: days the period was suspended (opschorting), in total.
    suspended_days: Mapped[int] = mapped_column(default=0)
    # The text of the decision letter the handler writes; part of the publication package.
    decision_text: Mapped[str] = mapped_column(sa.Text, default="")
    decided_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[created_at]

    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[WooDocument]] = relationship(
        back_populates="request", order_by="WooDocument.number", cascade="all, delete-orphan"
    )


class WooDocument(Base):
    """One document collected for a request: the version it was collected at, its number on
    the inventory list, its assessment and the derived redacted PDF (never the original)."""

    __tablename__ = "woo_document"
    __table_args__ = (
        sa.UniqueConstraint("request_id", "document_id"),
        sa.UniqueConstraint("request_id", "number"),
    )

    id: Mapped[intpk]
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("woo_request.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("document_version.id"))
    number: Mapped[int]  # the document's number on the inventory list
    assessment: Mapped[Assessment] = enum_column(Assessment, default=Assessment.PENDING)
    # Space-separated ground codes for a document withheld as a whole.
    grounds: Mapped[str] = mapped_column(sa.Text, default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    # The published PDF (redacted, metadata removed): a blob of its own, keyed by its SHA-256.
    redacted_blob_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    redacted_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    added_at: Mapped[created_at]

    request: Mapped[WooRequest] = relationship(back_populates="items")
    document: Mapped[Document] = relationship()
    version: Mapped[DocumentVersion] = relationship()
    passages: Mapped[list[WooPassage]] = relationship(
        back_populates="item", order_by="WooPassage.id", cascade="all, delete-orphan"
    )


class WooPassage(Base):
    """An area of one page to redact, in PDF points (origin top left), with its legal ground."""

    __tablename__ = "woo_passage"

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(
        sa.ForeignKey("woo_document.id", ondelete="CASCADE"), index=True
    )
    page: Mapped[int]  # 1-based
    x0: Mapped[float] = mapped_column(sa.Float)
    y0: Mapped[float] = mapped_column(sa.Float)
    x1: Mapped[float] = mapped_column(sa.Float)
    y1: Mapped[float] = mapped_column(sa.Float)
    ground: Mapped[str] = mapped_column(sa.String(32))  # a code of WOO_GROUNDS
    phrase: Mapped[str] = mapped_column(sa.String(500), default="")  # when found by search
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[created_at]

    item: Mapped[WooDocument] = relationship(back_populates="passages")
