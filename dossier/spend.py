"""Spend against the ceiling: what the financial system booked on a contract, by year, against
its value and its expected annual value, with warnings at configurable percentages.

What counts: the lines imported from the financial system (dossier/spend_import.py), and only
those. Invoices filed as documents (kind "invoice", with amount and period) are evidence of the
same spend, not more of it: adding them would count an invoice twice once the ledger holds it.
They are shown beside the booked figure (`invoices_filed`), so a difference stands out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from dossier import access, amendments
from dossier.extensions import db
from dossier.models import Document, DocumentKind, Dossier, Party, SpendLine, User

ZERO = Decimal("0.00")
TENTH = Decimal("0.1")


def ceiling(dossier: Dossier) -> Decimal | None:
    """The amount spend is held against: the current contract value (the initial value plus
    the approved amendments, dossier/amendments.py)."""
    return amendments.current_value(dossier)


def thresholds() -> list[int]:
    return sorted(int(p) for p in current_app.config["SPEND_WARNING_PERCENTAGES"])


def percent(amount: Decimal, limit: Decimal | None) -> Decimal | None:
    if not limit:
        return None
    return (amount * 100 / limit).quantize(TENTH)


def warning(amount: Decimal, limit: Decimal | None) -> int | None:
    """The highest warning percentage `amount` reached of `limit` (None: none, or no limit)."""
    if not limit or limit <= 0:
        return None
    reached = [p for p in thresholds() if amount * 100 >= limit * p]
    return reached[-1] if reached else None


@dataclass
class YearSpend:
    year: int
    amount: Decimal
    annual_value: Decimal | None

    @property
    def percent(self) -> Decimal | None:
        return percent(self.amount, self.annual_value)

    @property
    def warning(self) -> int | None:
        return warning(self.amount, self.annual_value)


@dataclass
class DossierSpend:
    dossier: Dossier
    total: Decimal
    line_count: int
    ceiling: Decimal | None
    years: list[YearSpend]
    this_year: YearSpend
    invoices_filed: Decimal = ZERO
    invoice_count: int = 0
    lines: list[SpendLine] = field(default_factory=list)

    @property
    def percent(self) -> Decimal | None:
        return percent(self.total, self.ceiling)

    @property
    def warning(self) -> int | None:
        return warning(self.total, self.ceiling)


def totals(dossier_ids: Iterable[int]) -> dict[int, tuple[Decimal, int]]:
    """Booked spend and line count per dossier id."""
    ids = list(dossier_ids)
    if not ids:
        return {}
    query = (
        sa.select(SpendLine.dossier_id, sa.func.sum(SpendLine.amount), sa.func.count())
        .where(SpendLine.dossier_id.in_(ids))
        .group_by(SpendLine.dossier_id)
    )
    return {i: (Decimal(s or 0).quantize(ZERO), n) for i, s, n in db.session.execute(query)}


def by_year(dossier_ids: Iterable[int]) -> dict[int, dict[int, Decimal]]:
    """Booked spend per dossier id and invoice year."""
    ids = list(dossier_ids)
    found: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if not ids:
        return found
    query = sa.select(SpendLine.dossier_id, SpendLine.invoice_date, SpendLine.amount).where(
        SpendLine.dossier_id.in_(ids)
    )
    for dossier_id, day, amount in db.session.execute(query):
        years = found[dossier_id]
        years[day.year] = years.get(day.year, ZERO) + amount
    return found


def _summary(
    dossier: Dossier, total: tuple[Decimal, int], years: dict[int, Decimal], today: date
) -> DossierSpend:
    rows = [YearSpend(y, a.quantize(ZERO), dossier.annual_value) for y, a in sorted(years.items())]
    current = next((y for y in rows if y.year == today.year), None)
    return DossierSpend(
        dossier=dossier,
        total=total[0],
        line_count=total[1],
        ceiling=ceiling(dossier),
        years=rows,
        this_year=current or YearSpend(today.year, ZERO, dossier.annual_value),
    )


def dossier_spend(user: User, dossier: Dossier, today: date, lines: int = 0) -> DossierSpend:
    """The spend figures of one dossier (the caller checked `user` sees it), with its latest
    `lines` and the invoices filed in it that `user` may read."""
    figures = _summary(
        dossier,
        totals([dossier.id]).get(dossier.id, (ZERO, 0)),
        by_year([dossier.id]).get(dossier.id, {}),
        today,
    )
    invoices = access.visible_documents(user).where(
        Document.dossier_id == dossier.id,
        Document.kind == DocumentKind.INVOICE,
        Document.invoice_amount.is_not(None),
    )
    amounts = [d.invoice_amount for d in db.session.scalars(invoices)]
    figures.invoices_filed = sum(amounts, ZERO)
    figures.invoice_count = len(amounts)
    if lines:
        query = (
            sa.select(SpendLine)
            .where(SpendLine.dossier_id == dossier.id)
            .order_by(SpendLine.invoice_date.desc(), SpendLine.id.desc())
            .limit(lines)
        )
        figures.lines = list(db.session.scalars(query))
    return figures


def summaries(dossiers: Iterable[Dossier], today: date) -> list[DossierSpend]:
    """The figures of each of `dossiers` that has booked spend."""
    dossiers = list(dossiers)
    ids = [d.id for d in dossiers]
    sums, years = totals(ids), by_year(ids)
    return [_summary(d, sums[d.id], years.get(d.id, {}), today) for d in dossiers if d.id in sums]


@dataclass
class Warning:
    dossier: Dossier
    kind: str  # "ceiling" or "annual"
    threshold: int
    amount: Decimal
    limit: Decimal
    percent: Decimal


def warnings(dossiers: Iterable[Dossier], today: date) -> list[Warning]:
    """Every contract of `dossiers` whose spend reached a warning percentage of its ceiling,
    or whose spend this year reached one of its annual value."""
    found = []
    for figures in summaries(dossiers, today):
        if figures.warning is not None and figures.ceiling:
            found.append(
                Warning(
                    figures.dossier,
                    "ceiling",
                    figures.warning,
                    figures.total,
                    figures.ceiling,
                    figures.percent or ZERO,
                )
            )
        year = figures.this_year
        if year.warning is not None and year.annual_value:
            found.append(
                Warning(
                    figures.dossier,
                    "annual",
                    year.warning,
                    year.amount,
                    year.annual_value,
                    year.percent or ZERO,
                )
            )
    return sorted(found, key=lambda w: (-w.percent, w.dossier.reference))


# Spend without any contract


@dataclass
class Unattributed:
    supplier: str
    party: Party | None
    kvk_number: str
    creditor_number: str
    source: str
    count: int
    total: Decimal
    first: date
    last: date
    references: list[str]


def without_contract() -> list[Unattributed]:
    """Booked lines that count against no contract, per supplier (our party when known, else the
    supplier as the financial system names it), largest total first."""
    groups: dict[Any, Unattributed] = {}
    query = sa.select(SpendLine).where(SpendLine.dossier_id.is_(None))
    for line in db.session.scalars(query):
        key: Any = (
            ("party", line.party_id)
            if line.party_id
            else (
                "raw",
                line.source,
                line.creditor_number,
                line.kvk_number,
                line.supplier_name,
            )
        )
        group = groups.get(key)
        if group is None:
            group = groups[key] = Unattributed(
                supplier=line.party.name if line.party else line.supplier_name,
                party=line.party,
                kvk_number=line.kvk_number or (line.party.kvk_number if line.party else "") or "",
                creditor_number=line.creditor_number,
                source=line.source,
                count=0,
                total=ZERO,
                first=line.invoice_date,
                last=line.invoice_date,
                references=[],
            )
        group.count += 1
        group.total += line.amount
        group.first = min(group.first, line.invoice_date)
        group.last = max(group.last, line.invoice_date)
        if line.contract_reference and line.contract_reference not in group.references:
            group.references.append(line.contract_reference)
    return sorted(groups.values(), key=lambda g: (-g.total, g.supplier))
