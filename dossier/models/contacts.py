"""The supplier's people on a contract and what each may decide (contactpersonen en
bevoegdheden).

Our own side is not repeated here: who is contract owner, manager or beheerder is recorded only
in `Membership` (several people may hold one role); these are the people of the other party.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, str255, utcnow


class ContactRole(enum.StrEnum):
    """The part a supplier's contact plays, as contracts name them."""

    ACCOUNT_MANAGER = "account_manager"
    CONTRACT_CONTACT = "contract_contact"
    SERVICE_MANAGER = "service_manager"
    OTHER = "other"


class MandateKind(enum.StrEnum):
    """What a contact may decide for the supplier."""

    SIGN_AMENDMENTS = "sign_amendments"  # up to `limit_amount`, when given
    ACCEPT_DELIVERIES = "accept_deliveries"
    APPROVE_INVOICES = "approve_invoices"
    GIVE_NOTICE = "give_notice"
    OTHER = "other"


class Contact(Base):
    """One person of the supplier named in a dossier."""

    __tablename__ = "contact"

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str255]
    role: Mapped[ContactRole] = enum_column(ContactRole, default=ContactRole.CONTRACT_CONTACT)
    function: Mapped[str] = mapped_column(sa.String(255), default="")  # job title as they give it
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    phone: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    mandates: Mapped[list[Mandate]] = relationship(
        back_populates="contact",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="Mandate.id",
    )


class Mandate(Base):
    """One power (bevoegdheid) of a contact, with its limit where the contract sets one."""

    __tablename__ = "contact_mandate"
    __table_args__ = (
        sa.CheckConstraint("limit_amount IS NULL OR limit_amount >= 0", name="limit_not_negative"),
    )

    id: Mapped[intpk]
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MandateKind] = enum_column(MandateKind)
    # Euro, excluding VAT; None means no amount limit is recorded.
    limit_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[created_at]

    contact: Mapped[Contact] = relationship(back_populates="mandates")
