"""Deadline arithmetic on unsaved dossiers: month ends, leap years, days versus months,
automatic renewal, options, reviews and the tender start. Every expected date is worked out by
hand in the comment next to it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from dossier import deadlines
from dossier.models import (
    Category,
    DeadlineAction,
    DeadlineKind,
    DeadlineStatus,
    Dossier,
    DossierStatus,
    NoticeUnit,
)

K = DeadlineKind


def dossier(**values: Any) -> Dossier:
    base: dict[str, Any] = {
        "reference": "x",
        "title": "x",
        "status": DossierStatus.ACTIVE,
        "option_count": 0,
        "auto_renewal": False,
        "personal_data": False,
    }
    return Dossier(**(base | values))


def dates(d: Dossier, today: date) -> dict[DeadlineKind, list[date]]:
    found: dict[DeadlineKind, list[date]] = {}
    for kind, due in deadlines.due_dates(d, today):
        found.setdefault(kind, []).append(due)
    return found


@pytest.mark.parametrize(
    ("end", "value", "unit", "notice"),
    [
        (date(2026, 1, 31), 1, NoticeUnit.MONTHS, date(2025, 12, 31)),  # 31 Jan - 1 month
        (date(2026, 3, 31), 1, NoticeUnit.MONTHS, date(2026, 2, 28)),  # no 31 Feb; 2026 not leap
        (date(2028, 3, 31), 1, NoticeUnit.MONTHS, date(2028, 2, 29)),  # 2028 is a leap year
        (date(2024, 3, 1), 1, NoticeUnit.DAYS, date(2024, 2, 29)),  # one day before 1 March 2024
        (date(2026, 5, 31), 3, NoticeUnit.MONTHS, date(2026, 2, 28)),  # 31 May - 3 months
        (date(2026, 6, 30), 30, NoticeUnit.DAYS, date(2026, 5, 31)),  # 30 days before 30 June
        (date(2026, 3, 1), 0, NoticeUnit.DAYS, date(2026, 3, 1)),  # no notice period at all
    ],
)
def test_notice_deadline(app: Flask, end: date, value: int, unit: NoticeUnit, notice: date) -> None:
    found = dates(dossier(end_on=end, notice_value=value, notice_unit=unit), date(2020, 1, 1))
    assert found == {K.END: [end], K.NOTICE: [notice]}


def test_a_contract_without_end_date_has_no_deadlines(app: Flask) -> None:
    d = dossier(end_on=None, notice_value=3, notice_unit=NoticeUnit.MONTHS, value=Decimal(10**7))
    assert deadlines.due_dates(d, date(2026, 1, 15)) == []


def test_closed_contracts_have_no_deadlines(app: Flask) -> None:
    d = dossier(end_on=date(2026, 3, 1), status=DossierStatus.ENDED)
    assert deadlines.due_dates(d, date(2026, 1, 1)) == []


def test_automatic_renewal_rolls_to_the_next_period_once_the_end_has_passed(app: Flask) -> None:
    d = dossier(
        end_on=date(2025, 1, 31),
        auto_renewal=True,
        notice_value=1,
        notice_unit=NoticeUnit.MONTHS,
    )
    # Before the end: the first term, notice 31 December 2024.
    assert dates(d, date(2024, 12, 1)) == {
        K.END: [date(2025, 1, 31)],
        K.NOTICE: [date(2024, 12, 31)],
    }
    # The end passed: renewed by the default 12 months to 31 January 2026, notice 31 December.
    assert dates(d, date(2025, 2, 1)) == {
        K.END: [date(2026, 1, 31)],
        K.NOTICE: [date(2025, 12, 31)],
    }
    # Two periods on; counted from the original 31 January, so no drift to the 28th.
    assert dates(d, date(2026, 2, 1))[K.END] == [date(2027, 1, 31)]
    # On the end date itself the running term is still the current one.
    assert dates(d, date(2026, 1, 31))[K.END] == [date(2026, 1, 31)]


def test_automatic_renewal_by_the_option_length(app: Flask) -> None:
    d = dossier(end_on=date(2024, 2, 29), auto_renewal=True, option_months=6)
    # 29 Feb 2024 + 6 = 29 Aug 2024, + 12 = 28 Feb 2025 (from the original), + 18 = 29 Aug 2025.
    assert dates(d, date(2025, 3, 1))[K.END] == [date(2025, 8, 29)]
    assert dates(d, date(2024, 9, 1))[K.END] == [date(2025, 2, 28)]


def test_option_decision_is_the_notice_deadline_or_a_lead_before_the_end(app: Flask) -> None:
    with_notice = dossier(
        end_on=date(2026, 3, 31),
        option_count=2,
        option_months=12,
        notice_value=1,
        notice_unit=NoticeUnit.MONTHS,
    )
    assert dates(with_notice, date(2026, 1, 1))[K.OPTION] == [date(2026, 2, 28)]
    without = dossier(end_on=date(2026, 5, 31), option_count=1, option_months=12)
    # Default OPTION_LEAD_MONTHS is 3: 31 May - 3 months = 28 February.
    assert dates(without, date(2026, 1, 1))[K.OPTION] == [date(2026, 2, 28)]


def test_tender_start_uses_the_threshold_of_the_category(app: Flask) -> None:
    base = {"end_on": date(2026, 6, 30), "option_count": 1, "option_months": 6}
    # Maximum end 30 December 2026 (30 June + 6 months); lead 9 months: 30 March 2026.
    services = dossier(**base, category=Category.SERVICES, value=Decimal("216000.00"))
    assert dates(services, date(2026, 1, 1))[K.TENDER] == [date(2026, 3, 30)]
    below = dossier(**base, category=Category.SERVICES, value=Decimal("215999.99"))
    assert K.TENDER not in dates(below, date(2026, 1, 1))
    works = dossier(**base, category=Category.WORKS, value=Decimal("5403999"))
    assert K.TENDER not in dates(works, date(2026, 1, 1))
    social = dossier(**base, category=Category.SOCIAL_SERVICES, value=Decimal("750000"))
    assert K.TENDER in dates(social, date(2026, 1, 1))
    # No total but an annual value: four years of it (60,000 x 4 = 240,000 > 216,000).
    annual = dossier(**base, category=Category.SUPPLIES, annual_value=Decimal("60000"))
    assert K.TENDER in dates(annual, date(2026, 1, 1))


def test_thresholds_are_configurable(app: Flask) -> None:
    d = dossier(end_on=date(2026, 6, 30), category=Category.WORKS, value=Decimal("1000"))
    app.config["EU_THRESHOLDS"] = {**app.config["EU_THRESHOLDS"], "works": 999}
    app.config["TENDER_LEAD_MONTHS"] = 12
    assert dates(d, date(2026, 1, 1))[K.TENDER] == [date(2025, 6, 30)]


def test_reviews_keep_the_latest_past_one_and_every_coming_one(app: Flask) -> None:
    d = dossier(start_on=date(2024, 1, 31), end_on=date(2027, 1, 31), review_months=6)
    # 31 Jan 2024 + 6k months: 31 Jul 24, 31 Jan 25, 31 Jul 25, 31 Jan 26, 31 Jul 26, 31 Jan 27;
    # on 1 September 2025 the latest past one is 31 July 2025.
    assert dates(d, date(2025, 9, 1))[K.REVIEW] == [
        date(2025, 7, 31),
        date(2026, 1, 31),
        date(2026, 7, 31),
        date(2027, 1, 31),
    ]


def test_status_open_until_the_date_passes_then_missed_unless_acted_on(app: Flask) -> None:
    due, today = date(2026, 1, 10), date(2026, 1, 15)
    assert deadlines.effective_status(None, date(2026, 1, 15), today) == DeadlineStatus.OPEN
    assert deadlines.effective_status(None, due, today) == DeadlineStatus.MISSED
    acted = DeadlineAction(status=DeadlineStatus.ACTED_ON)
    assert deadlines.effective_status(acted, due, today) == DeadlineStatus.ACTED_ON
    reopened = DeadlineAction(status=DeadlineStatus.OPEN)
    assert deadlines.effective_status(reopened, due, today) == DeadlineStatus.MISSED
