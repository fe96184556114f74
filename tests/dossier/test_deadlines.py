"""Deadline arithmetic on unsaved dossiers: month ends, leap years, days versus months,
automatic renewal, options, reviews and the tender start. Every expected date is worked out by
hand in the comment next to it. Then, on saved dossiers: which deadlines may turn "missed", the
warning for an active contract past its end, and recorded decisions surviving a change of term."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import deadlines, dossiers, reports
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Category,
    DeadlineAction,
    DeadlineKind,
    DeadlineStatus,
    Dossier,
    DossierStatus,
    MemberRole,
    NoticeUnit,
    User,
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
    # Notice matters where it stops a tacit renewal.
    renewing = dossier(end_on=end, notice_value=value, notice_unit=unit, auto_renewal=True)
    assert dates(renewing, date(2020, 1, 1)) == {K.END: [end], K.NOTICE: [notice]}


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


def test_a_renewal_length_below_one_month_renews_by_the_default(app: Flask) -> None:
    """An imported negative option length (import checks it only with options) once made the
    renewal loop count backwards until the date left the calendar (an error, not a page); it
    renews by the default 12 months, as the register's SQL does."""
    d = dossier(end_on=date(2025, 3, 31), auto_renewal=True, option_months=-3)
    assert deadlines.current_end(d, date(2026, 1, 15)) == date(2026, 3, 31)


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


def test_every_contract_with_an_end_date_gets_a_tender_start(app: Flask) -> None:
    """The tender pipeline covers every contract, not only European ones (issue 18): the
    procedure needed follows from the threshold of the category and the own policy."""
    base = {"end_on": date(2026, 6, 30), "option_count": 1, "option_months": 6}
    # Maximum end 30 December 2026 (30 June + 6 months); lead 9 months: 30 March 2026.
    services = dossier(**base, category=Category.SERVICES, value=Decimal("216000.00"))
    assert dates(services, date(2026, 1, 1))[K.TENDER] == [date(2026, 3, 30)]
    assert deadlines.procedure_needed(services) == deadlines.EUROPEAN
    below = dossier(**base, category=Category.SERVICES, value=Decimal("215999.99"))
    # Below the threshold the deadline lists carry the tender start all the same: the own
    # policy names its procedure (above 100,000 of services: a national one).
    assert dates(below, date(2026, 1, 1))[K.TENDER] == [date(2026, 3, 30)]
    assert deadlines.tender_start(below, date(2026, 1, 1)) == date(2026, 3, 30)
    assert deadlines.procedure_needed(below) == deadlines.NATIONAL
    works = dossier(**base, category=Category.WORKS, value=Decimal("5403999"))
    assert deadlines.procedure_needed(works) == deadlines.NATIONAL
    social = dossier(**base, category=Category.SOCIAL_SERVICES, value=Decimal("750000"))
    assert deadlines.procedure_needed(social) == deadlines.EUROPEAN
    # No total but an annual value: four years of it (60,000 x 4 = 240,000 > 216,000).
    annual = dossier(**base, category=Category.SUPPLIES, annual_value=Decimal("60000"))
    assert deadlines.procedure_needed(annual) == deadlines.EUROPEAN
    # The own policy below the threshold (defaults 50,000 and 100,000 for services).
    assert deadlines.procedure_needed(dossier(**base, value=Decimal("50000"))) == "single_private"
    assert deadlines.procedure_needed(dossier(**base, value=Decimal("50000.01"))) == (
        "multiple_private"
    )
    assert deadlines.procedure_needed(dossier(**base, value=Decimal("100000.01"))) == "national"
    assert deadlines.procedure_needed(dossier(**base)) is None
    small = dossier(**base, value=Decimal("1000"))
    assert deadlines.tender_start(small, date(2026, 1, 1)) == date(2026, 3, 30)
    assert deadlines.tender_start(dossier(**base), date(2026, 1, 1)) is None  # no value


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


# Noise: only deadlines someone could and had to act on turn "missed".

TODAY = date(2026, 1, 15)


def _registered(d: Dossier, day: date) -> Dossier:
    d.created_at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    db.session.commit()
    return d


def test_a_fixed_term_without_renewal_has_no_notice_deadline(app: Flask) -> None:
    fixed = dossier(end_on=date(2026, 6, 30), notice_value=3, notice_unit=NoticeUnit.MONTHS)
    # The end-of-contract decision: its maximum end (30 June 2026) lies within the tender
    # horizon (18 months), so it is due 9 months (the tender lead) before it.
    assert dates(fixed, date(2026, 1, 1)) == {
        K.END: [date(2026, 6, 30)],
        K.DECISION: [date(2025, 9, 30)],
    }
    assert dossiers.derived_dates(fixed).notice_deadline is None
    # With an option, the decision on it is what is due (by the notice period), once.
    with_option = dossier(
        end_on=date(2026, 6, 30),
        notice_value=3,
        notice_unit=NoticeUnit.MONTHS,
        option_count=1,
        option_months=12,
    )
    assert dates(with_option, date(2026, 1, 1)) == {
        K.OPTION: [date(2026, 3, 30)],
        K.END: [date(2026, 6, 30)],
        K.DECISION: [date(2026, 9, 30)],  # max end 30 June 2027 - 9 months
    }


def test_the_end_of_a_term_elapses_and_is_not_missed(
    app: Flask, make_dossier: Callable[..., Dossier]
) -> None:
    ended = _registered(
        make_dossier("2025-300", status=DossierStatus.ACTIVE, end_on=date(2025, 11, 15)),
        date(2025, 1, 1),
    )
    [end] = deadlines.for_dossiers([ended], TODAY)
    assert (end.kind, end.status) == (K.END, DeadlineStatus.ELAPSED)
    assert deadlines.missed([end]) == []


def test_registering_a_running_contract_gives_no_pile_of_missed_deadlines(
    app: Flask, make_dossier: Callable[..., Dossier]
) -> None:
    running = {
        "status": DossierStatus.ACTIVE,
        "start_on": date(2024, 1, 1),
        "end_on": date(2026, 2, 28),
        "option_count": 1,
        "option_months": 12,
        "review_months": 6,
        "value": Decimal("1000000"),
    }
    # The option decision (28 November 2025) and the review (1 January 2026) both passed
    # before the registration on 10 January: nobody could act on them here.
    late = _registered(make_dossier("2025-301", **running), date(2026, 1, 10))
    found = {(d.kind, d.due_on): d.status for d in deadlines.for_dossiers([late], TODAY)}
    assert found == {
        (K.OPTION, date(2025, 11, 28)): DeadlineStatus.BEFORE_REGISTRATION,
        (K.REVIEW, date(2026, 1, 1)): DeadlineStatus.BEFORE_REGISTRATION,
        (K.END, date(2026, 2, 28)): DeadlineStatus.OPEN,
        (K.TENDER, date(2026, 5, 28)): DeadlineStatus.OPEN,  # max end 28 Feb 2027 - 9 months
        (K.DECISION, date(2026, 5, 28)): DeadlineStatus.OPEN,  # the same: before the tender
        (K.REVIEW, date(2026, 7, 1)): DeadlineStatus.OPEN,
        (K.REVIEW, date(2027, 1, 1)): DeadlineStatus.OPEN,
    }
    # Registered on 15 December, the review of 1 January was missed here; the option not.
    earlier = _registered(make_dossier("2025-302", **running), date(2025, 12, 15))
    missed = deadlines.missed(deadlines.for_dossiers([earlier], TODAY))
    assert [(d.kind, d.due_on) for d in missed] == [(K.REVIEW, date(2026, 1, 1))]


def test_an_active_contract_past_its_end_is_flagged_in_register_page_and_report(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    active = {"status": DossierStatus.ACTIVE, "end_on": date(2025, 11, 15)}
    stale = make_dossier("2025-310", title="Verlopen schoonmaak", **active)
    make_dossier("2025-311", **active, auto_renewal=True)  # renewed tacitly: still running
    make_dossier("2025-312", status=DossierStatus.ENDED, end_on=date(2025, 11, 15))
    make_dossier("2025-313", status=DossierStatus.ACTIVE, end_on=date(2026, 3, 1))
    assert [d.reference for d in _all() if deadlines.past_end(d, TODAY)] == [stale.reference]
    client = app.test_client(user=admin)
    register = client.get("/").text
    rows = {ref: row for ref, row in re.findall(r"(2025-31\d)</a></td>(.*?)</tr>", register, re.S)}
    assert "Einddatum verstreken" in rows["2025-310"]
    assert not any("Einddatum verstreken" in rows[r] for r in ("2025-311", "2025-312", "2025-313"))
    page = client.get("/dossiers/2025-310").text
    assert "De einddatum is verstreken, maar het contract is nog actief." in page
    assert "Verlopen" in page and "Gemist" not in page  # the end of term elapsed
    assert "De einddatum is verstreken" not in client.get("/dossiers/2025-313").text
    report = reports.past_end_report(admin, TODAY)
    assert [(r["reference"], r["days_past"]) for r in report.records()] == [("2025-310", 61)]
    assert "Verlopen schoonmaak" in client.get("/reports/deadlines").text
    export = client.get("/reports/export/past_end.csv")
    assert export.status_code == 200 and "2025-310" in export.text


def _all() -> list[Dossier]:
    return list(db.session.scalars(sa.select(Dossier).order_by(Dossier.reference)))


# A recorded decision is a fact: a change of the contract data never makes it disappear.


def test_an_exercised_option_keeps_its_decision_and_note(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    manager = make_user("manager@example.org")
    d = make_dossier(
        "2025-320",
        {manager: MemberRole.MANAGER},
        status=DossierStatus.ACTIVE,
        end_on=date(2026, 6, 30),
        option_count=2,
        option_months=12,
    )
    old_url = "/deadlines/2025-320/option/2026-03-30"  # 30 June - 3 months
    client = app.test_client(user=manager)
    note = "Optie 1 gelicht per brief van 12 januari"
    response = client.post(old_url, data={"status": "acted_on", "note": note})
    assert response.status_code == 302
    # Recording the exercise: a year longer, one option fewer.
    changes = dossiers.update_dossier(
        admin, d, {"end_on": date(2027, 6, 30), "option_count": 1}, d.row_version
    )
    db.session.commit()
    assert changes == {
        "end_on": (date(2026, 6, 30), date(2027, 6, 30)),
        "option_count": (2, 1),
    }
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.update")
    ).one()
    assert event.before == {"end_on": "2026-06-30", "option_count": 2}
    assert event.after == {"end_on": "2027-06-30", "option_count": 1}

    page = client.get("/dossiers/2025-320").text
    assert note in page and "Afgehandeld" in page
    assert f'href="{old_url}"' in page  # the old decision, on its own date
    assert 'href="/deadlines/2025-320/option/2027-03-30"' in page  # the next one, beside it
    assert "niet meer actueel" in page
    detail = client.get(old_url)
    assert detail.status_code == 200 and note in detail.text
    assert "blijft bewaard als geschiedenis" in detail.text
    items = deadlines.for_dossiers([d], TODAY, history=True)
    old = next(i for i in items if i.due_on == date(2026, 3, 30))
    assert old.superseded and old.status == DeadlineStatus.ACTED_ON
    assert old.action is not None and old.action.note == note
    # History is no task: the reports and the digest count only the current deadlines.
    assert all(not i.superseded for i in deadlines.for_dossiers([d], TODAY))
    # Ending the contract keeps the decision too.
    dossiers.update_dossier(admin, d, {"status": DossierStatus.ENDED})
    db.session.commit()
    assert note in client.get("/dossiers/2025-320").text


def test_only_recorded_statuses_can_be_set(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    d = make_dossier("2025-330", status=DossierStatus.ACTIVE, end_on=date(2026, 6, 30))
    with pytest.raises(ValidationError):
        deadlines.set_status(
            admin, d, K.END, date(2026, 6, 30), DeadlineStatus.ELAPSED, "", today=TODAY
        )


def test_the_deadline_form_starts_at_the_status_as_it_stands(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    """One click on "save" must not record a decision nobody made (a trial found the form
    preset to "acted on" for an open deadline)."""
    app.config["REPORT_DATE"] = TODAY.isoformat()
    manager = make_user("manager@example.org")
    make_dossier(
        "2025-321",
        {manager: MemberRole.MANAGER},
        status=DossierStatus.ACTIVE,
        end_on=date(2026, 6, 30),
        option_count=1,
        option_months=12,
    )
    url = "/deadlines/2025-321/option/2026-03-30"
    client = app.test_client(user=manager)

    def selected() -> list[str]:
        return re.findall(
            r'<option selected value="(\w+)"|<option value="(\w+)" selected', client.get(url).text
        )

    assert [a or b for a, b in selected()] == ["open"]
    assert client.post(url, data={"status": "missed", "note": ""}).status_code == 302
    assert [a or b for a, b in selected()] == ["missed"]
