"""Documents filed into a dossier and their immutable versions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, sha256_hex, str255
from dossier.models.dossier import Confidentiality, Dossier
from dossier.models.user import User


class DocumentKind(enum.StrEnum):
    CONTRACT = "contract"
    ANNEX = "annex"
    AMENDMENT = "amendment"
    SLA = "sla"  # service level agreement (dienstverleningsovereenkomst)
    PROCESSING_AGREEMENT = "processing_agreement"  # verwerkersovereenkomst (GDPR art. 28)
    CORRESPONDENCE = "correspondence"
    MINUTES = "minutes"
    REPORT = "report"
    INVOICE = "invoice"
    EXECUTION_PLAN = "execution_plan"
    OTHER = "other"


class Direction(enum.StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL = "internal"


class ExtractionStatus(enum.StrEnum):
    PENDING = "pending"
    OK = "ok"
    PARTIAL = "partial"
    NO_TEXT_LAYER = "no_text_layer"
    ENCRYPTED = "encrypted"
    TIMED_OUT = "timed_out"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    OCR_UNAVAILABLE = "ocr_unavailable"


class Document(Base):
    """A contract, annex, letter or other paper in one dossier; its content lives in versions."""

    __tablename__ = "document"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(sa.ForeignKey("dossier.id"), index=True)
    kind: Mapped[DocumentKind] = enum_column(DocumentKind)
    title: Mapped[str255]
    document_date: Mapped[date | None]
    direction: Mapped[Direction | None] = enum_column(Direction, nullable=True)
    correspondent: Mapped[str] = mapped_column(sa.String(255), default="")
    confidentiality: Mapped[Confidentiality] = enum_column(
        Confidentiality, default=Confidentiality.NORMAL
    )
    # An invoice's amount (euro, excluding VAT) and the period it bills.
    invoice_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    invoice_from: Mapped[date | None]
    invoice_to: Mapped[date | None]
    # An e-mail attachment points at the message it came with.
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"), index=True)
    current_version_number: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # Withdrawn documents stay stored (versions are evidence) but leave lists and search.
    withdrawn_at: Mapped[datetime | None]

    dossier: Mapped[Dossier] = relationship()
    created_by: Mapped[User | None] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.number"
    )
    # The message an attachment came with, and the attachments of a message.
    parent: Mapped[Document | None] = relationship(
        remote_side="Document.id", back_populates="attachments"
    )
    attachments: Mapped[list[Document]] = relationship(
        back_populates="parent", order_by="Document.id"
    )

    @property
    def is_confidential(self) -> bool:
        return self.confidentiality == Confidentiality.CONFIDENTIAL

    @property
    def current_version(self) -> DocumentVersion | None:
        return self.versions[-1] if self.versions else None


class DocumentVersion(Base):
    """One immutable upload: its bytes live in the blob store under their SHA-256."""

    __tablename__ = "document_version"
    __table_args__ = (
        sa.UniqueConstraint("document_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint("size >= 0", name="size_not_negative"),
    )

    id: Mapped[intpk]
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id"), index=True)
    number: Mapped[int]
    blob_key: Mapped[sha256_hex] = mapped_column(index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    mime_type: Mapped[str] = mapped_column(sa.String(127))  # what we serve it as
    magic_mime: Mapped[str] = mapped_column(sa.String(127))  # what libmagic said
    file_kind: Mapped[str] = mapped_column(sa.String(16))  # pdf, docx, eml, ...
    original_filename: Mapped[str255]  # cleaned for display and download headers only
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    uploaded_at: Mapped[created_at]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    extraction_status: Mapped[ExtractionStatus] = enum_column(
        ExtractionStatus, default=ExtractionStatus.PENDING
    )
    extraction_detail: Mapped[str] = mapped_column(sa.Text, default="")
    page_count: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(sa.Text)
    extracted_at: Mapped[datetime | None]

    document: Mapped[Document] = relationship(back_populates="versions")
    uploaded_by: Mapped[User | None] = relationship()
    clauses: Mapped[list[Clause]] = relationship(
        back_populates="version", order_by="Clause.position", cascade="all, delete-orphan"
    )


class Clause(Base):
    """A numbered article or paragraph of a version's text, found by clause segmentation."""

    __tablename__ = "clause"

    id: Mapped[intpk]
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document_version.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(sa.String(32), default="")
    heading: Mapped[str] = mapped_column(sa.String(500), default="")
    text: Mapped[str] = mapped_column(sa.Text)
    page: Mapped[int | None]
    position: Mapped[int]  # order within the version
    # The thesaurus concepts the clause is about (search.clause_types), ids separated by spaces,
    # strongest first; derived from heading and text, recomputed by `dossier reindex --clauses`.
    clause_types: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    version: Mapped[DocumentVersion] = relationship(back_populates="clauses")

    @property
    def types(self) -> tuple[str, ...]:
        """The clause types, strongest first."""
        return tuple(self.clause_types.split())
