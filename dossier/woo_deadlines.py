"""The statutory deadline of a Woo request (Woo art. 4.4 and the Algemene termijnenwet), and
the requests whose decision is due, for the dashboard and `dossier report woo`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from dateutil.easter import easter
from flask import current_app
from flask_babel import lazy_gettext as _l

from dossier import access
from dossier.extensions import db
from dossier.models import User, WooRequest, WooStatus

# The statutory deadline


def is_holiday(day: date) -> bool:
    """A public holiday of the Algemene termijnenwet (art. 3): New Year's Day, Easter and Whit
    Monday, Ascension Day, both Christmas days, King's Day and the fifth of May."""
    easter_sunday = easter(day.year)
    kings_day = date(day.year, 4, 27)
    if kings_day.weekday() == 6:  # on a Sunday King's Day is celebrated the day before
        kings_day = date(day.year, 4, 26)
    fixed = {date(day.year, 1, 1), date(day.year, 5, 5), date(day.year, 12, 25)}
    fixed |= {date(day.year, 12, 26), kings_day}
    moving = {easter_sunday + timedelta(days=n) for n in (1, 39, 50)}
    return day in fixed or day in moving


def next_working_day(day: date) -> date:
    """`day`, or the first day after it that is no Saturday, Sunday or public holiday
    (Algemene termijnenwet art. 1: a statutory period ending on one of them runs on)."""
    while day.weekday() >= 5 or is_holiday(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Deadline:
    first_period_ends: date  # the end of the four weeks: postponing must be announced by then
    decision_due: date  # the end of the period with the extension and suspension in it
    extended: bool
    suspended_days: int


def deadline(request: WooRequest) -> Deadline:
    """The decision deadline of `request` (Woo art. 4.4): four weeks from the day after receipt,
    plus two weeks when postponed, plus the days suspended; shifted past weekends and holidays."""
    config = current_app.config
    weeks = int(config.get("WOO_DECISION_WEEKS", 4))
    extension = int(config.get("WOO_EXTENSION_WEEKS", 2)) if request.extended_on else 0
    suspended = timedelta(days=request.suspended_days or 0)
    first = request.received_on + timedelta(weeks=weeks) + suspended
    return Deadline(
        first_period_ends=next_working_day(first),
        decision_due=next_working_day(first + timedelta(weeks=extension)),
        extended=request.extended_on is not None,
        suspended_days=request.suspended_days or 0,
    )


# Deadlines for dashboards and reports


def upcoming(today: date, days: int) -> list[tuple[WooRequest, Deadline]]:
    """Open requests whose decision is due within `days` days or overdue, soonest first."""
    found = [(r, deadline(r)) for r in requests(WooStatus.OPEN)]
    soon = [(r, d) for r, d in found if d.decision_due <= today + timedelta(days=days)]
    return sorted(soon, key=lambda pair: pair[1].decision_due)


def woo_table(user: User, today: date) -> Any:
    """Every Woo request with its deadline, for `dossier report woo` and the report export;
    empty for a user who may not see Woo requests."""
    from dossier import reports  # it imports records and deadlines; imported on use

    table = reports.Table(
        "woo",
        _l("Woo requests"),
        [
            ("number", _l("Number")),
            ("received_on", _l("Received on")),
            ("requester", _l("Requester")),
            ("subject", _l("Subject")),
            ("first_period_ends", _l("First period ends")),
            ("decision_due", _l("Decision due")),
            ("postponed", _l("Postponed")),
            ("suspended_days", _l("Days suspended")),
            ("days_left", _l("Days left")),
            ("woo_status", _l("Status")),
            ("documents", _l("Documents")),
        ],
    )
    shown = requests() if access.can_view_woo(user) else []
    for request in sorted(shown, key=lambda r: deadline(r).decision_due):
        due = deadline(request)
        table.rows.append(
            [
                f"Woo-{request.id}",
                request.received_on,
                request.requester,
                request.subject,
                due.first_period_ends,
                due.decision_due,
                due.extended,
                due.suspended_days,
                (due.decision_due - today).days if request.status == WooStatus.OPEN else None,
                request.status.value,
                len(request.items),
            ]
        )
    return table


def requests(status: WooStatus | None = None) -> list[WooRequest]:
    """Every request (with `status`), the newest received first."""
    query = sa.select(WooRequest).order_by(WooRequest.received_on.desc(), WooRequest.id.desc())
    if status is not None:
        query = query.where(WooRequest.status == status)
    return list(db.session.scalars(query))
