"""The spend reports as `reports.Table`s, for the page, the exports and `dossier report`:
spend per contract against its ceiling, and spend without any contract by supplier."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from dossier import access, spend
from dossier.models import User
from dossier.reports import Table, _dossiers, _supplier


def spend_table(user: User, today: date) -> Table:
    """Every contract `user` may see that has booked spend, against its ceiling and, this year,
    against its annual value; the warning columns hold the percentage reached (80, 100)."""
    table = Table(
        "spend",
        _l("Spend per contract"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("ceiling", _l("Contract value")),
            ("spend", _l("Spend to date")),
            ("spend_percent", _l("Share of contract value")),
            ("ceiling_warning", _l("Warning (contract value)")),
            ("annual_value", _l("Annual value")),
            ("spend_this_year", _l("Spend this year")),
            ("annual_percent", _l("Share of annual value")),
            ("annual_warning", _l("Warning (annual value)")),
        ],
    )
    for figures in spend.summaries(_dossiers(user), today):
        year = figures.this_year
        table.rows.append(
            [
                figures.dossier.reference,
                figures.dossier.title,
                _supplier(figures.dossier),
                figures.ceiling,
                figures.total,
                figures.percent,
                figures.warning,
                year.annual_value,
                year.amount,
                year.percent,
                year.warning,
            ]
        )
    return table


def without_contract_table(user: User) -> Table | None:
    """Spend that counts against no contract, per supplier; None for who may not see it."""
    if not access.can_view_unattributed_spend(user):
        return None
    table = Table(
        "spend_without_contract",
        _l("Spend without a contract"),
        [
            ("supplier", _l("Supplier")),
            ("known_party", _l("Known supplier")),
            ("kvk_number", _l("KvK number")),
            ("creditor_number", _l("Creditor number")),
            ("source", _l("Source")),
            ("lines", _l("Lines")),
            ("spend", _l("Spend")),
            ("first_invoice", _l("First invoice")),
            ("last_invoice", _l("Last invoice")),
            ("unknown_references", _l("Contract references not found")),
        ],
    )
    for group in spend.without_contract():
        table.rows.append(
            [
                group.supplier,
                group.party is not None,
                group.kvk_number,
                group.creditor_number,
                group.source,
                group.count,
                group.total,
                group.first,
                group.last,
                ", ".join(group.references),
            ]
        )
    return table
