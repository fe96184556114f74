"""Actual spend imported from the financial system, and how its suppliers map to our parties."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, sha256_hex, str255
from dossier.models.dossier import Dossier, Party
from dossier.models.user import User


class SpendImportStatus(enum.StrEnum):
    PENDING = "pending"  # read and shown as a preview; nothing booked yet
    COMMITTED = "committed"
    DISCARDED = "discarded"


class SpendImport(Base):
    """One file from the financial system: previewed first, then committed or discarded.

    The preview's lines wait in `pending_lines` (in the database, so any web node can commit
    them); committing books them as `SpendLine`s and empties it.
    """

    __tablename__ = "spend_import"

    id: Mapped[intpk]
    source: Mapped[str] = mapped_column(sa.String(64))  # the financial system, e.g. "finance"
    filename: Mapped[str255]
    file_sha256: Mapped[sha256_hex]
    status: Mapped[SpendImportStatus] = enum_column(
        SpendImportStatus, default=SpendImportStatus.PENDING
    )
    pending_lines: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    errors: Mapped[list[list[Any]]] = mapped_column(sa.JSON, default=list)  # [row, message]
    row_count: Mapped[int] = mapped_column(default=0)
    new_count: Mapped[int] = mapped_column(default=0)
    known_count: Mapped[int] = mapped_column(default=0)  # lines an earlier import booked
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    created_at: Mapped[created_at]
    committed_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()


class SupplierKey(enum.StrEnum):
    """What a remembered supplier mapping matches on."""

    CREDITOR = "creditor"  # a creditor number, only within its source (each system numbers its own)
    KVK = "kvk"
    NAME = "name"  # the supplier's name as the financial system writes it, folded


class SupplierMapping(Base):
    """A supplier of the financial system that a user matched to one of our parties by hand;
    later imports match on it."""

    __tablename__ = "supplier_mapping"
    __table_args__ = (sa.UniqueConstraint("kind", "source", "identifier"),)

    id: Mapped[intpk]
    kind: Mapped[SupplierKey] = enum_column(SupplierKey)
    source: Mapped[str] = mapped_column(sa.String(64), default="")  # "" for KvK and name
    identifier: Mapped[str255]
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("party.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[created_at]

    party: Mapped[Party] = relationship()


class SpendAttribution(enum.StrEnum):
    """How a line came to count against a contract, or why it does not."""

    REFERENCE = "reference"  # the financial system named the contract
    ONLY_CONTRACT = "only_contract"  # the supplier's only contract running on the invoice date
    NONE = "none"  # without contract


class SpendLine(Base):
    """One booked invoice line; `line_key` makes a re-import of the same line a no-op."""

    __tablename__ = "spend_line"

    id: Mapped[intpk]
    line_key: Mapped[sha256_hex] = mapped_column(unique=True)
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("spend_import.id"), index=True)
    source: Mapped[str] = mapped_column(sa.String(64))
    supplier_name: Mapped[str255]
    kvk_number: Mapped[str] = mapped_column(sa.String(8), default="")
    creditor_number: Mapped[str] = mapped_column(sa.String(64), default="")
    contract_reference: Mapped[str] = mapped_column(sa.String(64), default="")  # as given
    invoice_number: Mapped[str] = mapped_column(sa.String(64))
    invoice_date: Mapped[date] = mapped_column(index=True)
    # Euro excluding VAT; a credit note is negative.
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    party_id: Mapped[int | None] = mapped_column(sa.ForeignKey("party.id"), index=True)
    dossier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dossier.id"), index=True)
    attribution: Mapped[SpendAttribution] = enum_column(
        SpendAttribution, default=SpendAttribution.NONE
    )
    created_at: Mapped[created_at]

    party: Mapped[Party | None] = relationship()
    dossier: Mapped[Dossier | None] = relationship()
