"""Amendments and extra work (wijzigingen, meerwerk): a change of a running contract with its
value, legal ground and the owner's approval (four eyes)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk
from dossier.models.document import Document
from dossier.models.dossier import Dossier
from dossier.models.user import User


class LegalGround(enum.StrEnum):
    """The Aanbestedingswet 2012 grounds on which a public contract may be modified without a
    new procedure (art. 2.163b-2.163g), or another ground recorded in the reason."""

    DE_MINIMIS = "2.163b"  # below the threshold and 10 % (supplies, services) / 15 % (works)
    REVIEW_CLAUSE = "2.163c"  # a clear review clause or option in the original documents
    ADDITIONAL = "2.163d"  # additional work that only the contractor can deliver
    UNFORESEEN = "2.163e"  # circumstances a diligent authority could not foresee
    NEW_CONTRACTOR = "2.163f"  # a new contractor replaces the original one
    NOT_SUBSTANTIAL = "2.163g"  # the change is not substantial
    OTHER = "other"


class AmendmentStatus(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


amendment_document = sa.Table(
    "amendment_document",
    Base.metadata,
    sa.Column("amendment_id", sa.ForeignKey("amendment.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("document_id", sa.ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
)


class Amendment(Base):
    """One modification of a contract: proposed by its beheerder or manager, approved (or
    rejected) by its owner. Only approved amendments count in the current contract value."""

    __tablename__ = "amendment"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    amended_on: Mapped[date]  # the date of the modification (agreed or taking effect)
    description: Mapped[str] = mapped_column(sa.Text)
    # Plus or minus, euro excluding VAT.
    value_change: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    legal_ground: Mapped[LegalGround] = enum_column(LegalGround)
    status: Mapped[AmendmentStatus] = enum_column(AmendmentStatus, default=AmendmentStatus.PROPOSED)
    created_at: Mapped[created_at]
    proposed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")

    dossier: Mapped[Dossier] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    documents: Mapped[list[Document]] = relationship(
        secondary=amendment_document, order_by="Document.title"
    )

    @property
    def is_approved(self) -> bool:
        return self.status == AmendmentStatus.APPROVED
