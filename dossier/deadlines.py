"""Deadlines derived from the contract data, and the status people record on them.

A deadline is (dossier, kind, due date). It is computed, never typed: end of the current term,
notice deadline (only where notice stops a tacit renewal), option decision, execution-plan review
and the start of a new procurement (of every contract with a known value, under the procedure
its value needs: `procedure_needed`). What someone did about it is a `DeadlineAction`
with the same key; without one a deadline is open until its date passes, then missed, except an
end of term (it elapses: nothing had to be done on the day itself) and a deadline that passed
before the dossier was registered (nobody could act on it here).

A recorded action is a fact: when a change of the contract data moves or removes its deadline
(an option exercised, a new end date), the action stays visible as a superseded deadline on its
original date, beside the newly derived one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import gettext as _

from dossier import access, audit, plans, terms
from dossier.dossiers import DerivedDates, derived_dates, subtract_period
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    DeadlineAction,
    DeadlineKind,
    DeadlineStatus,
    Dossier,
    DossierStatus,
    User,
    utcnow,
)

# Contracts in these states drive no more action.
CLOSED = frozenset({DossierStatus.ENDED, DossierStatus.TERMINATED, DossierStatus.ARCHIVED})
# The statuses a person records on a deadline; the others are derived.
RECORDABLE = (DeadlineStatus.OPEN, DeadlineStatus.ACTED_ON, DeadlineStatus.MISSED)
# The estimated value of a contract without a total is its monthly value times 48 (Directive
# 2014/24/EU art. 5(14)(b)), i.e. four annual values.
_YEARS_FOR_ANNUAL_VALUE = 4
_MAX_REVIEWS = 240


@dataclass(frozen=True)
class Deadline:
    """One deadline of one dossier, with its status as of `today`."""

    dossier: Dossier
    kind: DeadlineKind
    due_on: date
    status: DeadlineStatus
    days_left: int  # negative once the date has passed
    action: DeadlineAction | None = None
    # A recorded action whose deadline the contract data no longer gives (history, not a task).
    superseded: bool = False

    @property
    def key(self) -> tuple[int, DeadlineKind, date]:
        return (self.dossier.id, self.kind, self.due_on)


def _settings(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return config if config is not None else current_app.config


def current_end(dossier: Dossier, today: date, config: Mapping[str, Any] | None = None) -> date:
    """The end of the running term: a contract that renews automatically rolls past `today`."""
    assert dossier.end_on is not None
    if not dossier.auto_renewal or dossier.end_on >= today:
        return dossier.end_on
    months = _renewal_months(dossier.option_months, config)
    periods = 1
    # Always count from the original date, so 31 January keeps ending on the 31st.
    while dossier.end_on + relativedelta(months=periods * months) < today:
        periods += 1
    return dossier.end_on + relativedelta(months=periods * months)


def _renewal_months(option_months: int | None, config: Mapping[str, Any] | None) -> int:
    """The length of one automatic renewal: the option length, else the configured default
    (also for a length below one month, which would never reach today)."""
    if option_months is not None and option_months > 0:
        return option_months
    return int(_settings(config)["AUTO_RENEWAL_MONTHS"])


def _sql_int(part: str, column: Any) -> sa.ColumnElement[int]:
    return sa.cast(sa.extract(part, column), sa.Integer)


def _rolled_on(today: date) -> sa.ColumnElement[bool]:
    """SQL: the dossier renews automatically and its recorded end date has passed."""
    return sa.and_(Dossier.auto_renewal.is_(True), Dossier.end_on < today)


def running_end_sql(
    today: date, config: Mapping[str, Any] | None = None
) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """SQL for the end of each dossier's running term (`current_end`) as two whole numbers:
    its month (counted from year 0) and the day of the month of the recorded end date.

    Month arithmetic that clamps like `relativedelta` (31 January + 1 month = 28 February)
    cannot be written the same way for SQLite and PostgreSQL, but it is not needed: the running
    end lies in month `month + periods * months`, on the recorded day or the month's last day
    if that is earlier. Ordering by the pair orders by the date (a clamped day ties with the
    month's last day and sorts after it); `ends_between` compares the pair with a date.
    NULL for a dossier without an end date.
    """
    default = int(_settings(config)["AUTO_RENEWAL_MONTHS"])
    months = sa.case((Dossier.option_months > 0, Dossier.option_months), else_=default)
    month = _sql_int("year", Dossier.end_on) * 12 + _sql_int("month", Dossier.end_on) - 1
    day = _sql_int("day", Dossier.end_on)
    behind = (today.year * 12 + today.month - 1) - month  # whole months to today's month
    # The fewest renewals (at least one) that bring the end on or after today, as in
    # `current_end`: in today's month only when the end's day is not before today's.
    periods = sa.case(
        (day >= today.day, (behind + months - 1) // months),
        else_=behind // months + 1,
    )
    return sa.case((_rolled_on(today), month + periods * months), else_=month), day


def ends_between(
    today: date, last: date, config: Mapping[str, Any] | None = None
) -> sa.ColumnElement[bool]:
    """SQL: the running term (`current_end`) ends from `today` up to and including `last`."""
    month, day = running_end_sql(today, config)
    last_month = last.year * 12 + last.month - 1
    # A day clamped to a shorter month ends on its last day: on `last` if `last` is one.
    on_last_month = sa.true() if (last + timedelta(days=1)).day == 1 else day <= last.day
    rolled_by_last = sa.or_(month < last_month, sa.and_(month == last_month, on_last_month))
    return sa.or_(Dossier.end_on.between(today, last), sa.and_(_rolled_on(today), rolled_by_last))


def estimated_value(dossier: Dossier) -> Decimal | None:
    """The value a new procurement is measured by: the total, or four annual values."""
    if dossier.value is not None:
        return dossier.value
    if dossier.annual_value is not None:
        return dossier.annual_value * _YEARS_FOR_ANNUAL_VALUE
    return None


def threshold(dossier: Dossier, config: Mapping[str, Any] | None = None) -> Decimal:
    """The European threshold of the dossier's category (services when none is recorded)."""
    thresholds = _settings(config)["EU_THRESHOLDS"]
    category = dossier.category.value if dossier.category else "services"
    return Decimal(thresholds.get(category, thresholds["services"]))


def final_end(
    dossier: Dossier, today: date, config: Mapping[str, Any] | None = None
) -> date | None:
    """The maximum end date (all options used), or the running term of an automatic renewal."""
    if dossier.end_on is None:
        return None
    max_end = derived_dates(dossier).max_end_on
    assert max_end is not None
    return max(max_end, current_end(dossier, today, config))


def running_dates(
    dossier: Dossier, today: date, config: Mapping[str, Any] | None = None
) -> DerivedDates:
    """The derived dates of the running term, as the deadlines show them: a contract that
    renews automatically has rolled on past its recorded end date, and so have its notice
    deadline and its maximum end."""
    stored = derived_dates(dossier)
    if dossier.end_on is None or not dossier.auto_renewal:
        return stored
    end = current_end(dossier, today, config)
    if end == dossier.end_on:
        return stored
    notice = None
    if dossier.notice_value is not None and dossier.notice_unit is not None:
        notice = subtract_period(end, dossier.notice_value, dossier.notice_unit)
    return DerivedDates(notice, final_end(dossier, today, config), current_end_on=end)


# The procedure a new procurement needs, from the European one down to a single quote.
EUROPEAN, NATIONAL, MULTIPLE_PRIVATE, SINGLE_PRIVATE = (
    "european",
    "national",
    "multiple_private",
    "single_private",
)


def procedure_needed(dossier: Dossier, config: Mapping[str, Any] | None = None) -> str | None:
    """The procedure a re-tender of `dossier` needs by its estimated value: European from the
    threshold of its category, below it what the organisation's PROCUREMENT_POLICY says
    (single private up to its first limit, multiple private up to its second, national above).
    None when the value is unknown."""
    value = estimated_value(dossier)
    if value is None:
        return None
    if value >= threshold(dossier, config):
        return EUROPEAN
    policy = _settings(config)["PROCUREMENT_POLICY"]
    category = dossier.category.value if dossier.category else "services"
    limits = policy.get(category, policy["services"])
    if value <= Decimal(limits["single_private"]):
        return SINGLE_PRIVATE
    if value <= Decimal(limits["multiple_private"]):
        return MULTIPLE_PRIVATE
    return NATIONAL


def tender_start(
    dossier: Dossier, today: date, config: Mapping[str, Any] | None = None
) -> date | None:
    """When a new procurement must start: every contract with an end date and a known value
    is re-tendered (or consciously not) under some procedure, European or the organisation's
    own (`procedure_needed`), so each gets this deadline. Without a value the procedure
    cannot be named; the register's completeness and the checks ask for the value instead."""
    end = final_end(dossier, today, config)
    if end is None or procedure_needed(dossier, config) is None:
        return None
    return end - relativedelta(months=terms.tender_lead(dossier, config))


def decision_due(
    dossier: Dossier, today: date, config: Mapping[str, Any] | None = None
) -> date | None:
    """When the end-of-contract decision (extend, re-tender, end, in-house) must be approved:
    a procurement's lead time before the maximum end, so a re-tender can still start in time.
    Only for a fixed term (one that renews automatically has no maximum end) whose maximum end
    is still to come and lies within the tender horizon (TENDER_HORIZON_MONTHS) of `today`."""
    if dossier.end_on is None or dossier.auto_renewal or dossier.status in CLOSED:
        return None
    end = final_end(dossier, today, config)
    assert end is not None
    if end < today:  # over: the end of term and the warning for a contract past it say so
        return None
    if end > today + relativedelta(months=int(_settings(config)["TENDER_HORIZON_MONTHS"])):
        return None
    return end - relativedelta(months=terms.tender_lead(dossier, config))


def due_dates(
    dossier: Dossier,
    today: date,
    config: Mapping[str, Any] | None = None,
    *,
    last_review: date | None = None,
) -> list[tuple[DeadlineKind, date]]:
    """Every deadline of `dossier` as (kind, due date), ordered by date; reviews count from
    `last_review` (the latest execution-plan review held) when there is one."""
    if dossier.status in CLOSED:
        return []
    found: list[tuple[DeadlineKind, date]] = _reviews(dossier, today, config, last_review)
    if dossier.end_on is not None:
        end = current_end(dossier, today, config)
        found.append((DeadlineKind.END, end))
        notice = None
        if dossier.notice_value is not None and dossier.notice_unit is not None:
            notice = subtract_period(end, dossier.notice_value, dossier.notice_unit)
            if dossier.auto_renewal:  # a fixed term ends by itself: no notice to give
                found.append((DeadlineKind.NOTICE, notice))
        if dossier.option_count:
            # The dossier's own lead time (the contract's "at the latest six months before
            # the end") wins; without one the notice deadline, else the configured lead.
            lead = relativedelta(months=terms.option_lead(dossier, config))
            if dossier.option_lead_months is not None:
                found.append((DeadlineKind.OPTION, end - lead))
            else:
                found.append((DeadlineKind.OPTION, notice or end - lead))
        # Every contract with a known value is re-tendered under some procedure (European,
        # or below the thresholds the organisation's own policy: `procedure_needed`), so the
        # deadline lists, digest and feeds carry its tender start, as the tenders report does.
        start = tender_start(dossier, today, config)
        if start is not None:
            found.append((DeadlineKind.TENDER, start))
        decision = decision_due(dossier, today, config)
        if decision is not None:
            found.append((DeadlineKind.DECISION, decision))
    return sorted(found, key=lambda pair: (pair[1], pair[0].value))


def _reviews(
    dossier: Dossier,
    today: date,
    config: Mapping[str, Any] | None,
    last_review: date | None = None,
) -> list[tuple[DeadlineKind, date]]:
    """Execution-plan reviews: the latest one due so far, and every one still to come, every
    interval from the last review held (from the start date before the first)."""
    anchor = last_review or dossier.start_on
    if anchor is None or not dossier.review_months:
        return []
    last = final_end(dossier, today, config) or today + relativedelta(years=2)
    dates = []
    for number in range(1, _MAX_REVIEWS + 1):
        day = anchor + relativedelta(months=number * dossier.review_months)
        if day > last:
            break
        dates.append(day)
    past = [d for d in dates if d < today]
    kept = past[-1:] + [d for d in dates if d >= today]
    return [(DeadlineKind.REVIEW, d) for d in kept]


def effective_status(
    action: DeadlineAction | None,
    due_on: date,
    today: date,
    *,
    kind: DeadlineKind | None = None,
    registered_on: date | None = None,
) -> DeadlineStatus:
    """What people recorded; else open until the date passes, then missed, unless nothing
    was to be done: an end of term elapses, and a deadline before the dossier's registration
    (`registered_on`) was never one anybody could act on here."""
    if action is not None and action.status != DeadlineStatus.OPEN:
        return action.status
    if due_on >= today:
        return DeadlineStatus.OPEN
    if kind == DeadlineKind.END:
        return DeadlineStatus.ELAPSED
    if registered_on is not None and due_on < registered_on:
        return DeadlineStatus.BEFORE_REGISTRATION
    return DeadlineStatus.MISSED


def registered_on(
    dossier: Dossier, today: date, config: Mapping[str, Any] | None = None
) -> date | None:
    """The calendar day the dossier was registered, where it matters as of `today`.

    A registration after `today` (a report computed as of an earlier day) is unknown on that
    day and cuts nothing off.
    """
    if dossier.created_at is None:
        return None
    zone = ZoneInfo(_settings(config)["BABEL_DEFAULT_TIMEZONE"])
    created = dossier.created_at
    day = (created if created.tzinfo else created.replace(tzinfo=UTC)).astimezone(zone).date()
    return day if day <= today else None


def past_end(dossier: Dossier, today: date, config: Mapping[str, Any] | None = None) -> bool:
    """An active contract whose (running) term has ended: its status or term needs updating."""
    if dossier.status != DossierStatus.ACTIVE or dossier.end_on is None:
        return False
    return current_end(dossier, today, config) < today


def for_dossiers(
    dossiers: Iterable[Dossier],
    today: date,
    config: Mapping[str, Any] | None = None,
    *,
    history: bool = False,
) -> list[Deadline]:
    """The deadlines of `dossiers` (already filtered by visibility), ordered by date.

    With `history`, recorded actions whose deadline the contract data no longer gives come
    along as superseded deadlines, so no recorded decision drops out of sight.
    """
    dossiers = list(dossiers)
    actions = _actions_for([d.id for d in dossiers])
    reviewed = plans.last_reviews(d.id for d in dossiers if d.review_months)
    result = []
    for dossier in dossiers:
        registered = registered_on(dossier, today, config)
        last_review = reviewed.get(dossier.id)
        for kind, due in due_dates(dossier, today, config, last_review=last_review):
            action = actions.pop((dossier.id, kind, due), None)
            status = effective_status(action, due, today, kind=kind, registered_on=registered)
            result.append(Deadline(dossier, kind, due, status, (due - today).days, action))
    if history:
        by_id = {d.id: d for d in dossiers}
        for (dossier_id, kind, due), action in actions.items():
            days_left = (due - today).days
            result.append(
                Deadline(by_id[dossier_id], kind, due, action.status, days_left, action, True)
            )
    return sorted(result, key=lambda d: (d.due_on, d.dossier.reference, d.kind.value))


def _actions_for(dossier_ids: Sequence[int]) -> dict[tuple[int, DeadlineKind, date], Any]:
    actions: dict[tuple[int, DeadlineKind, date], DeadlineAction] = {}
    for start in range(0, len(dossier_ids), 500):
        chunk = dossier_ids[start : start + 500]
        query = sa.select(DeadlineAction).where(DeadlineAction.dossier_id.in_(chunk))
        for action in db.session.scalars(query):
            actions[(action.dossier_id, action.kind, action.due_on)] = action
    return actions


def visible(user: User, today: date, query: sa.Select[Any] | None = None) -> list[Deadline]:
    """The deadlines of every dossier `user` may see (optionally narrowed by `query`)."""
    query = query if query is not None else access.visible_dossiers(user)
    return for_dossiers(db.session.scalars(query.order_by(Dossier.reference)).unique(), today)


def upcoming(deadlines: Iterable[Deadline], days: int) -> list[Deadline]:
    """Open deadlines due from today up to `days` days ahead."""
    return [
        d
        for d in deadlines
        if d.status == DeadlineStatus.OPEN and not d.superseded and 0 <= d.days_left <= days
    ]


def missed(deadlines: Iterable[Deadline]) -> list[Deadline]:
    return [d for d in deadlines if d.status == DeadlineStatus.MISSED and not d.superseded]


def find(dossier: Dossier, kind: DeadlineKind, due_on: date, today: date) -> Deadline | None:
    """The deadline of `dossier` with this kind and date, if the contract data has it or an
    action was recorded on it."""
    for deadline in for_dossiers([dossier], today, history=True):
        if deadline.kind == kind and deadline.due_on == due_on:
            return deadline
    return None


def set_status(
    actor: User,
    dossier: Dossier,
    kind: DeadlineKind,
    due_on: date,
    status: DeadlineStatus,
    note: str,
    today: date | None = None,
) -> DeadlineAction:
    """Record what was done about a deadline (open, acted on, missed) with a note; audited."""
    today = today or local_today()
    if status not in RECORDABLE:
        raise ValidationError({"status": _("this status follows from the dates; it is not set")})
    if find(dossier, kind, due_on, today) is None:
        raise ValidationError({"due_on": _("this dossier has no such deadline (any more)")})
    action = db.session.scalar(
        sa.select(DeadlineAction).where(
            DeadlineAction.dossier_id == dossier.id,
            DeadlineAction.kind == kind,
            DeadlineAction.due_on == due_on,
        )
    )
    before = {"status": action.status, "note": action.note} if action else None
    if action is None:
        action = DeadlineAction(dossier_id=dossier.id, kind=kind, due_on=due_on)
        db.session.add(action)
    action.status, action.note = status, note.strip()
    action.set_by_id, action.set_at = actor.id, utcnow()
    db.session.flush()
    audit.record(
        actor,
        AuditAction.DEADLINE_STATUS,
        "deadline_action",
        action.id,
        dossier_id=dossier.id,
        before=before,
        after={"kind": kind, "due_on": due_on, "status": status, "note": action.note},
    )
    return action


def windows(
    deadlines: Sequence[Deadline], sizes: Iterable[int]
) -> list[tuple[int, list[Deadline]]]:
    """Open deadlines within each window of days ahead (30, 90, 180 by default)."""
    return [(days, upcoming(deadlines, days)) for days in sizes]


# Agreed actions and obligations are deadlines too: the deadlines report, the digest and the
# calendar feed list them beside the contract's own, as `Task`s (dossier/actions.py and
# dossier/obligations.py keep them).
ACTION, OBLIGATION = "action", "obligation"


@dataclass(frozen=True)
class Task:
    """An open action or an obligation's due date, shaped like a `Deadline` for the lists."""

    dossier: Dossier
    kind: str  # ACTION or OBLIGATION
    due_on: date
    status: DeadlineStatus  # OPEN, or MISSED once the date passed
    days_left: int
    title: str
    object_id: int  # the action's or the obligation's id
    superseded: bool = False
    action: DeadlineAction | None = None

    @property
    def uid(self) -> str:
        return f"{self.kind}-{self.object_id}-{self.due_on.isoformat()}"


def tasks_for(
    dossier_ids: Iterable[int], today: date, ahead: int | None = None, user: User | None = None
) -> list[Task]:
    """Open actions with a due date and the unfulfilled due dates of obligations in these
    (visible) dossiers, ordered by date: every missed one, and of those to come each
    obligation's next date (or, with `ahead`, every date up to that many days ahead).

    With `user`, only what is theirs: actions assigned to them, obligations they own.
    """
    from dossier import actions, obligations

    ids = list(dossier_ids)
    found: list[Task] = []
    for item in actions.open_in(ids):
        if user is not None and item.assignee_id != user.id:
            continue
        assert item.due_on is not None
        status = DeadlineStatus.MISSED if item.due_on < today else DeadlineStatus.OPEN
        days = (item.due_on - today).days
        found.append(Task(item.dossier, ACTION, item.due_on, status, days, item.agreement, item.id))
    for obligation in obligations.in_dossiers(ids):
        if not obligations.is_running(obligation):
            continue
        if user is not None and obligation.owner_id != user.id:
            continue
        coming = 0
        for occurrence in obligations.occurrences(obligation, today):
            if occurrence.status == obligations.FULFILLED:
                continue
            if occurrence.status == obligations.OPEN:
                coming += 1
                if (ahead is None and coming > 1) or (
                    ahead is not None and occurrence.days_left > ahead
                ):
                    break
            status = (
                DeadlineStatus.MISSED
                if occurrence.status == obligations.MISSED
                else DeadlineStatus.OPEN
            )
            found.append(
                Task(
                    obligation.dossier,
                    OBLIGATION,
                    occurrence.due_on,
                    status,
                    occurrence.days_left,
                    obligation.title,
                    obligation.id,
                )
            )
    return sorted(found, key=lambda t: (t.due_on, t.dossier.reference, t.kind, t.object_id))


def local_today() -> date:
    """Today in the organisation's time zone (a deadline is a calendar day there)."""
    fixed = current_app.config.get("REPORT_DATE")
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(fixed)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(zone).date()
