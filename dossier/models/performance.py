"""Performance management: the service levels and KPIs agreed in a contract, and what was
measured per period, with the report it came from and any penalty it cost the supplier."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dossier.models.base import Base, created_at, enum_column, intpk, str32, str255
from dossier.models.document import Document
from dossier.models.dossier import Dossier
from dossier.models.user import User


class KpiDirection(enum.StrEnum):
    HIGHER = "higher"  # higher is better (availability, satisfaction)
    LOWER = "lower"  # lower is better (response time, incidents)


class KpiPeriod(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class RagStatus(enum.StrEnum):
    """A value against its norm (derived, never stored): see dossier/performance.py."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NONE = "none"  # nothing measured


class Kpi(Base):
    """One agreed service level or KPI of a dossier: its norm, and how close to it is amber."""

    __tablename__ = "kpi"
    __table_args__ = (sa.UniqueConstraint("dossier_id", "name"),)

    id: Mapped[intpk]
    dossier_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dossier.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str255]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    norm: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4))
    unit: Mapped[str32] = mapped_column(default="")  # "%", "uur", "incidenten"
    direction: Mapped[KpiDirection] = enum_column(KpiDirection)
    period: Mapped[KpiPeriod] = enum_column(KpiPeriod)
    # How far on the wrong side of the norm a value may be and still count as amber, in the
    # KPI's unit; 0 means a value is green (norm met) or red.
    tolerance: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4), default=Decimal(0))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    dossier: Mapped[Dossier] = relationship()
    measurements: Mapped[list[KpiMeasurement]] = relationship(
        back_populates="kpi", order_by="KpiMeasurement.period_start", cascade="all, delete-orphan"
    )


class KpiMeasurement(Base):
    """The value measured for one period (identified by its first day), from a report of the
    dossier, and the penalty or malus it led to."""

    __tablename__ = "kpi_measurement"
    __table_args__ = (sa.UniqueConstraint("kpi_id", "period_start"),)

    id: Mapped[intpk]
    kpi_id: Mapped[int] = mapped_column(sa.ForeignKey("kpi.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date]
    value: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4))
    # The report the value was taken from: a document of the same dossier.
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"), index=True)
    penalty_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # euro
    penalty_note: Mapped[str] = mapped_column(sa.Text, default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[created_at]

    kpi: Mapped[Kpi] = relationship(back_populates="measurements")
    document: Mapped[Document | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()
