"""Contract dossiers, the parties they are with, and who may do what in them."""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, str255, utcnow
from dossier.models.user import Group, User

# A dossier reference (2025-017, ICT.2024.3): what URLs, file names and exports can carry as is.
REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PartyKind(enum.StrEnum):
    SUPPLIER = "supplier"
    CLIENT = "client"
    INTERNAL = "internal"


class DossierStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"
    TERMINATED = "terminated"
    ARCHIVED = "archived"


class NoticeUnit(enum.StrEnum):
    DAYS = "days"
    MONTHS = "months"


class Procedure(enum.StrEnum):
    EU_OPEN = "eu_open"
    EU_RESTRICTED = "eu_restricted"
    EU_COMPETITIVE_DIALOGUE = "eu_competitive_dialogue"
    EU_NEGOTIATED = "eu_negotiated"
    NATIONAL = "national"
    MULTIPLE_PRIVATE = "multiple_private"
    SINGLE_PRIVATE = "single_private"
    EXEMPT = "exempt"


class Category(enum.StrEnum):
    """Procurement category; it decides which European threshold applies."""

    SUPPLIES = "supplies"
    SERVICES = "services"
    WORKS = "works"
    SOCIAL_SERVICES = "social_services"


class Confidentiality(enum.StrEnum):
    NORMAL = "normal"
    CONFIDENTIAL = "confidential"


class MemberRole(enum.StrEnum):
    BEHEERDER = "beheerder"  # files and edits everything, manages members
    MANAGER = "manager"  # adds correspondence and minutes, edits status and deadlines
    OWNER = "owner"  # reads all, approves
    READER = "reader"  # reads non-confidential documents


class Party(Base):
    """An organisation a contract is with (or a department of our own)."""

    __tablename__ = "party"

    id: Mapped[intpk]
    name: Mapped[str255] = mapped_column(unique=True)
    kvk_number: Mapped[str | None] = mapped_column(sa.String(8))  # Dutch chamber of commerce
    kind: Mapped[PartyKind] = enum_column(PartyKind, default=PartyKind.SUPPLIER)
    created_at: Mapped[created_at]


class Dossier(Base):
    """One contract and everything about it."""

    __tablename__ = "dossier"
    __table_args__ = (
        sa.CheckConstraint("value IS NULL OR value >= 0", name="value_not_negative"),
        sa.CheckConstraint(
            "annual_value IS NULL OR annual_value >= 0", name="annual_value_not_negative"
        ),
        sa.CheckConstraint(
            "start_on IS NULL OR end_on IS NULL OR start_on <= end_on", name="start_before_end"
        ),
    )

    id: Mapped[intpk]
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)  # e.g. 2025-017
    title: Mapped[str255]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id"), index=True)
    client_department: Mapped[str] = mapped_column(sa.String(255), default="")
    # Who holds which role (owner, manager, beheerder) is recorded only in `Membership`; the
    # copies this table once held drifted from it and were dropped (drop_dossier_people_columns).
    status: Mapped[DossierStatus] = enum_column(DossierStatus, default=DossierStatus.DRAFT)
    signed_on: Mapped[date | None]
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]
    # Remaining renewal options and the length of each, in months.
    option_count: Mapped[int] = mapped_column(default=0)
    option_months: Mapped[int | None]
    notice_value: Mapped[int | None]
    notice_unit: Mapped[NoticeUnit | None] = enum_column(NoticeUnit, nullable=True)
    auto_renewal: Mapped[bool] = mapped_column(default=False)
    # Euro amounts excluding VAT.
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    annual_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    procedure: Mapped[Procedure | None] = enum_column(Procedure, nullable=True)
    tender_reference: Mapped[str] = mapped_column(sa.String(64), default="")
    cpv_code: Mapped[str] = mapped_column(sa.String(10), default="")  # 12345678-9
    category: Mapped[Category | None] = enum_column(Category, nullable=True)
    confidentiality: Mapped[Confidentiality] = enum_column(
        Confidentiality, default=Confidentiality.NORMAL
    )
    retention_years: Mapped[int | None]
    # Whether the supplier processes personal data for us (then a processing agreement is due).
    personal_data: Mapped[bool] = mapped_column(default=False)
    # How often the execution plan is reviewed, in months from the start date.
    review_months: Mapped[int | None]
    # Months before the end by which an option must be decided, and a new procurement must
    # start; None: the configured OPTION_LEAD_MONTHS / TENDER_LEAD_MONTHS.
    option_lead_months: Mapped[int | None]
    tender_lead_months: Mapped[int | None]
    # A framework agreement, and the most its call-offs may add up to (euro excl. VAT).
    is_framework: Mapped[bool] = mapped_column(default=False)
    framework_max_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic locking: an edit based on a stale form is refused, not silently merged.
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}

    supplier: Mapped[Party | None] = relationship(lazy="joined")
    tags: Mapped[list[DossierTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DossierTag.name"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan"
    )

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]

    def __repr__(self) -> str:
        return f"<Dossier {self.reference}>"


class DossierTag(Base):
    __tablename__ = "dossier_tag"

    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class Membership(Base):
    """A role on one dossier, held by a user or by a whole group."""

    __tablename__ = "membership"
    __table_args__ = (
        sa.CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="user_xor_group"),
        sa.UniqueConstraint("dossier_id", "user_id"),
        sa.UniqueConstraint("dossier_id", "group_id"),
    )

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("group.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MemberRole] = enum_column(MemberRole)
    created_at: Mapped[created_at]

    dossier: Mapped[Dossier] = relationship(back_populates="memberships")
    user: Mapped[User | None] = relationship()
    group: Mapped[Group | None] = relationship()
