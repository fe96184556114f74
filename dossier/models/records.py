"""Records management: the selection list, the category of each dossier and document, disposal
(destruction) lists with their items and proof, and legal holds."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, UTCDateTime, created_at, enum_column, intpk, sha256_hex
from dossier.models.dossier import Dossier
from dossier.models.user import User


class Valuation(enum.StrEnum):
    """What the selection list says happens to a record when its period ends."""

    KEEP = "bewaren"  # kept permanently, transferred to an archive repository
    DESTROY = "vernietigen"  # destroyed after the retention period


class RetentionTrigger(enum.StrEnum):
    """The event the retention period counts from."""

    CONTRACT_END = "contract_end"
    DOSSIER_CLOSED = "dossier_closed"
    DOCUMENT_DATE = "document_date"


class DisposalStatus(enum.StrEnum):
    PROPOSED = "proposed"  # awaiting review by an archivist
    APPROVED = "approved"  # in the grace period: documents out of sight, blobs still kept
    CANCELLED = "cancelled"  # cancelled before destruction (proposed or in the grace period)
    DESTROYED = "destroyed"  # purged: irreversible


class DisposalItemState(enum.StrEnum):
    PROPOSED = "proposed"
    EXCLUDED = "excluded"  # taken off the list by the archivist, with a reason
    QUARANTINED = "quarantined"  # approved; destroyed when the grace period ends
    SKIPPED = "skipped"  # on hold when the list was approved or purged: not destroyed
    RESTORED = "restored"  # the list was cancelled in the grace period
    DESTROYED = "destroyed"


class SelectionCategory(Base):
    """One category of the selection list (selectielijst)."""

    __tablename__ = "selection_category"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    description: Mapped[str] = mapped_column(sa.String(500))
    valuation: Mapped[Valuation] = enum_column(Valuation)
    # Years after the trigger; None with valuation KEEP (permanent).
    retention_years: Mapped[int | None]
    trigger: Mapped[RetentionTrigger] = enum_column(
        RetentionTrigger, default=RetentionTrigger.CONTRACT_END
    )
    # Whether documents may carry this category themselves (e.g. invoices kept shorter).
    for_documents: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]


class DossierRetention(Base):
    """The selection-list category assigned to a dossier (absent: the configured default)."""

    __tablename__ = "dossier_retention"

    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("selection_category.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    assigned_at: Mapped[created_at]
    reason: Mapped[str] = mapped_column(sa.Text, default="")

    category: Mapped[SelectionCategory] = relationship(lazy="joined")


class DocumentRetention(Base):
    """A category of its own for one document, where the selection list allows it."""

    __tablename__ = "document_retention"

    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("selection_category.id"), index=True)

    category: Mapped[SelectionCategory] = relationship(lazy="joined")


class DisposalList(Base):
    """A destruction list (vernietigingslijst): proposed, reviewed and approved by an archivist."""

    __tablename__ = "disposal_list"

    id: Mapped[intpk]
    status: Mapped[DisposalStatus] = enum_column(DisposalStatus, default=DisposalStatus.PROPOSED)
    proposed_at: Mapped[created_at]
    # None when the periodic command proposed it.
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    as_of: Mapped[date]  # disposal dates on or before this day were due
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # Destruction becomes irreversible at this moment (approval + DISPOSAL_GRACE_DAYS).
    purge_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # cancelled or destroyed
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    items: Mapped[list[DisposalItem]] = relationship(
        back_populates="disposal_list", order_by="DisposalItem.id", cascade="all, delete-orphan"
    )


class DisposalItem(Base):
    """One dossier on a destruction list."""

    __tablename__ = "disposal_item"
    __table_args__ = (sa.UniqueConstraint("list_id", "dossier_id"),)

    id: Mapped[intpk]
    list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("disposal_list.id", ondelete="CASCADE"), index=True
    )
    dossier_id: Mapped[int] = mapped_column(sa.ForeignKey("dossier.id"), index=True)
    # What the list showed, kept as proof even if the dossier's data change later.
    reference: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(255))
    category_code: Mapped[str] = mapped_column(sa.String(32))
    disposal_on: Mapped[date]
    state: Mapped[DisposalItemState] = enum_column(
        DisposalItemState, default=DisposalItemState.PROPOSED
    )
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # why excluded or skipped
    # Documents this list took out of sight (ids, space separated): a cancel restores them.
    withdrawn_documents: Mapped[str] = mapped_column(sa.Text, default="")
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    disposal_list: Mapped[DisposalList] = relationship(back_populates="items")
    dossier: Mapped[Dossier] = relationship()


class DestroyedVersion(Base):
    """Proof that a version's content was destroyed under an approved list: `dossier verify`
    reports its blob as destroyed, not missing."""

    __tablename__ = "destroyed_version"

    version_id: Mapped[int] = mapped_column(sa.ForeignKey("document_version.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("disposal_item.id"), index=True)
    blob_key: Mapped[sha256_hex] = mapped_column(index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    destroyed_at: Mapped[created_at]


class LegalHold(Base):
    """A legal hold on a dossier: nothing in it is destroyed until the hold is lifted."""

    __tablename__ = "legal_hold"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    placed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    placed_at: Mapped[created_at]
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    lift_reason: Mapped[str] = mapped_column(sa.Text, default="")

    dossier: Mapped[Dossier] = relationship()
    placed_by: Mapped[User | None] = relationship(foreign_keys=[placed_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
