"""Procurement-law checks: a registry of rules, each of which looks at the dossiers a user may
see and returns flags for review (never a verdict) with the rule, the figures and the dossier.

The limits come from the configuration (dossier/config.py, with their sources there):
DE_MINIMIS_PERCENT, MODIFICATION_LIMIT_PERCENT, EU_THRESHOLDS, SPLITTING_CPV_DIGITS,
SPLITTING_MONTHS. Every rule sees only `Context.dossiers`, the dossiers the reader may see, so
no figure of a dossier she may not read can reach her: the splitting rule adds up only the
visible contracts (a portfolio manager or auditor, who sees all, gets the complete picture).

Adding a rule is one function decorated with `@rule("name")` plus its label in
dossier/labels.py (CHECK_RULE); a test walks every registered rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app

from dossier import access, amendments, deadlines, terms
from dossier.extensions import db
from dossier.models import (
    Amendment,
    Dossier,
    DossierRelation,
    Procedure,
    RelationKind,
    TermEvent,
    TermEventKind,
    User,
)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
EUROPEAN = frozenset(
    {
        Procedure.EU_OPEN,
        Procedure.EU_RESTRICTED,
        Procedure.EU_COMPETITIVE_DIALOGUE,
        Procedure.EU_NEGOTIATED,
    }
)
# Automatic renewals are followed this many periods at most (then the horizon cuts anyway).
_MAX_PERIODS = 100


@dataclass(frozen=True)
class Flag:
    """One finding of one rule on one dossier: what to review, and the figures behind it.

    `amount` is the figure that crossed `limit`; `percent` is it as a share of the initial
    value where the rule is about that; `on` is the date it happens (the amendment's date, the
    start of the renewal period, the start of the contract that completes a split).
    """

    rule: str
    dossier: Dossier
    on: date | None = None
    amount: Decimal | None = None
    limit: Decimal | None = None
    percent: Decimal | None = None
    amendment: Amendment | None = None
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    dossiers: list[Dossier]
    today: date
    config: Mapping[str, Any]
    # Proposed and approved amendments per dossier id, in the order they were made.
    amendments: dict[int, list[Amendment]]
    # The recorded term history per dossier id, oldest first (dossier/terms.py).
    term_events: dict[int, list[TermEvent]] = field(default_factory=dict)


Rule = Callable[[Context], Iterable[Flag]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        RULES[name] = function
        return function

    return register


def _category(dossier: Dossier) -> str:
    return dossier.category.value if dossier.category else "services"


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * HUNDRED / whole).quantize(Decimal("0.1"))


def _is_open(dossier: Dossier) -> bool:
    return dossier.status not in deadlines.CLOSED


@rule("de_minimis")
def de_minimis(context: Context) -> Iterable[Flag]:
    """Art. 2.163b: modifications whose net cumulative value reaches the European threshold or
    10 % (supplies, services) / 15 % (works) of the initial value need review. Flagged at the
    amendment that crosses the limit. Every proposed or approved amendment counts, whatever
    ground it names: the flag asks someone to check that ground."""
    percents = context.config["DE_MINIMIS_PERCENT"]
    for dossier in context.dossiers:
        initial = dossier.value
        if not initial or not _is_open(dossier):
            continue
        limit_percent = Decimal(percents.get(_category(dossier), percents["services"]))
        threshold = deadlines.threshold(dossier, context.config)
        limit = min((initial * limit_percent / HUNDRED).quantize(CENT), threshold)
        cumulative = Decimal("0.00")
        for amendment in context.amendments.get(dossier.id, []):
            before = abs(cumulative)
            cumulative += amendment.value_change
            if before < limit <= abs(cumulative):
                yield Flag(
                    "de_minimis",
                    dossier,
                    amendment.amended_on,
                    cumulative,
                    limit,
                    _percent(cumulative, initial),
                    amendment,
                    {
                        "initial": initial,
                        "limit_percent": limit_percent,
                        "threshold": threshold,
                    },
                )


@rule("modification_limit")
def modification_limit(context: Context) -> Iterable[Flag]:
    """Art. 2.163d/2.163e: one modification may raise the price by at most 50 % of the
    initial value."""
    limit_percent = Decimal(context.config["MODIFICATION_LIMIT_PERCENT"])
    for dossier in context.dossiers:
        initial = dossier.value
        if not initial or not _is_open(dossier):
            continue
        limit = (initial * limit_percent / HUNDRED).quantize(CENT)
        for amendment in context.amendments.get(dossier.id, []):
            if amendment.value_change > limit:
                yield Flag(
                    "modification_limit",
                    dossier,
                    amendment.amended_on,
                    amendment.value_change,
                    limit,
                    _percent(amendment.value_change, initial),
                    amendment,
                    {"initial": initial, "limit_percent": limit_percent},
                )


def _months(start: date, end: date) -> Decimal:
    """The length of the term from `start` up to and including `end`, in months."""
    span = relativedelta(end + timedelta(days=1), start)
    return Decimal(span.years * 12 + span.months) + Decimal(span.days) / Decimal(30)


# Term events that add a period to the contract (dossier/terms.py), and those that set its end.
_GROWS = frozenset({TermEventKind.OPTION, TermEventKind.RENEWAL, TermEventKind.EXTENSION})
_SETS_END = frozenset({TermEventKind.TERMINATION, TermEventKind.CORRECTION})


def _recorded_terms(
    dossier: Dossier, history: Iterable[TermEvent]
) -> tuple[date, list[list[date]]]:
    """The end of the original term and each period the term history added after it (an
    option exercised, a tacit renewal, an extension) as [start, end], from the recorded
    events (dossier/terms.py): the register's end date has already moved past them. An early
    termination or a correction ends the term on its new end date (later periods drop, the
    last one is cut or stretched). Without a history the original term ends on the end date."""
    assert dossier.end_on is not None
    original_end = dossier.end_on
    added: list[list[date]] = []
    for event in history:
        if event.kind == TermEventKind.ORIGINAL and event.end_after is not None:
            original_end, added = event.end_after, []
        elif event.kind in _GROWS and event.end_before and event.end_after:
            if event.end_after > event.end_before:
                added.append([event.end_before + timedelta(days=1), event.end_after])
        elif event.kind in _SETS_END and event.end_after is not None:
            added = [period for period in added if period[0] <= event.end_after]
            if added:
                added[-1][1] = event.end_after
            else:
                original_end = event.end_after
    # The register's end date is the current state: the history ends there too.
    if added and added[-1][1] != dossier.end_on:
        added[-1][1] = dossier.end_on
    elif not added:
        original_end = dossier.end_on
    return original_end, added


def periods(
    dossier: Dossier,
    today: date,
    config: Mapping[str, Any],
    approved: Decimal | None = None,
    history: Iterable[TermEvent] | None = None,
) -> list[tuple[int, date, Decimal]]:
    """The contract's term and each renewal or option after it as (number, start, value):
    number 0 is the original term, valued at the initial value (or the annual value for its
    length) plus the approved amendments; then every period the term history recorded (an
    option exercised, a tacit renewal, an extension: `history`, the dossier's term events,
    read here when not given), then the options still left or, for a contract that renews
    automatically, the renewals up to the tender horizon. Each period after the original term
    is valued at the annual value for its length (the annual value, else the initial value
    spread over the original term)."""
    if dossier.end_on is None:
        return []
    if history is None:
        history = terms.stored_events(dossier)
    original_end, recorded = _recorded_terms(dossier, history)
    annual = dossier.annual_value
    term = None
    if dossier.start_on and dossier.start_on <= original_end:
        term = _months(dossier.start_on, original_end)
    if annual is None and dossier.value is not None and term:
        annual = dossier.value * 12 / term
    if dossier.value is not None:
        first = dossier.value
    elif annual is not None and term is not None:
        first = annual * term / 12
    else:
        return []
    if approved is None:
        approved = amendments.approved_totals([dossier.id]).get(dossier.id, Decimal("0.00"))
    first += approved
    found = [(0, dossier.start_on or original_end, first.quantize(CENT))]
    if annual is None:
        return found
    for start, end in recorded:
        found.append((len(found), start, (annual * _months(start, end) / 12).quantize(CENT)))
    if dossier.auto_renewal:
        # As deadlines.current_end renews: by the option length, else the configured default.
        months = dossier.option_months or 0
        length = months if months > 0 else int(config["AUTO_RENEWAL_MONTHS"])
        horizon = today + relativedelta(months=int(config["TENDER_HORIZON_MONTHS"]))
        count = _MAX_PERIODS
    else:
        length = dossier.option_months or 0
        horizon, count = date.max, dossier.option_count if length else 0
    for number in range(1, count + 1):
        start = dossier.end_on + timedelta(days=1) + relativedelta(months=(number - 1) * length)
        if start > horizon:
            break
        found.append((len(found), start, (annual * length / 12).quantize(CENT)))
    return found


@rule("cumulative_threshold")
def cumulative_threshold(context: Context) -> Iterable[Flag]:
    """Art. 2.14-2.15 (value including options and renewals): a contract not tendered in a
    European procedure whose cumulative value reaches the European threshold of its category,
    flagged at the renewal or option period in which it does, counting the periods the term
    history recorded (`periods`)."""
    for dossier in context.dossiers:
        if dossier.procedure in EUROPEAN or not _is_open(dossier):
            continue
        threshold = deadlines.threshold(dossier, context.config)
        cumulative = Decimal("0.00")
        approved = sum(
            (a.value_change for a in context.amendments.get(dossier.id, []) if a.is_approved),
            Decimal("0.00"),
        )
        history = context.term_events.get(dossier.id, [])
        for number, start, value in periods(
            dossier, context.today, context.config, approved, history
        ):
            cumulative += value
            if cumulative >= threshold:
                yield Flag(
                    "cumulative_threshold",
                    dossier,
                    start,
                    cumulative,
                    threshold,
                    figures={
                        "period": number,
                        "auto_renewal": dossier.auto_renewal,
                        "annual_value": dossier.annual_value,
                    },
                )
                break


@rule("no_end_date")
def no_end_date(context: Context) -> Iterable[Flag]:
    """A running contract without an end date: a public contract is for a fixed term."""
    for dossier in context.dossiers:
        if dossier.end_on is None and _is_open(dossier):
            yield Flag("no_end_date", dossier, dossier.start_on)


def cpv_group(dossier: Dossier, digits: int) -> str | None:
    code = (dossier.cpv_code or "").split("-")[0]
    return code[:digits] if len(code) >= digits and code[:digits].isdigit() else None


@rule("splitting")
def splitting(context: Context) -> Iterable[Flag]:
    """Art. 1.5 and 2.15: contracts with one supplier in the same CPV group whose start dates
    lie within SPLITTING_MONTHS and whose estimated values together reach the European
    threshold, while none was tendered in a European procedure: possible splitting. Flagged on
    the contract that brings the sum over the threshold; only visible contracts are added up."""
    digits = int(context.config["SPLITTING_CPV_DIGITS"])
    months = int(context.config["SPLITTING_MONTHS"])
    groups: dict[tuple[int, str], list[Dossier]] = defaultdict(list)
    for dossier in context.dossiers:
        group = cpv_group(dossier, digits)
        known = deadlines.estimated_value(dossier) is not None
        if group and dossier.supplier_id and dossier.start_on and known:
            groups[(dossier.supplier_id, group)].append(dossier)
    for (_supplier, group), members in groups.items():
        members.sort(key=lambda d: (d.start_on, d.reference))
        flagged: set[int] = set()
        for index, last in enumerate(members):
            window = [
                d
                for d in members[: index + 1]
                if d.start_on >= last.start_on - relativedelta(months=months)  # type: ignore[operator]
            ]
            if len(window) < 2 or any(d.procedure in EUROPEAN for d in window):
                continue
            total = sum((deadlines.estimated_value(d) for d in window), Decimal("0.00"))  # type: ignore[misc]
            threshold = deadlines.threshold(last, context.config)
            if total >= threshold and not flagged & {d.id for d in window}:
                flagged.update(d.id for d in window)
                yield Flag(
                    "splitting",
                    last,
                    last.start_on,
                    total,
                    threshold,
                    figures={
                        "cpv_group": group,
                        "references": [d.reference for d in window],
                        "months": months,
                    },
                )


@rule("framework_without_maximum")
def framework_without_maximum(context: Context) -> Iterable[Flag]:
    """A running framework agreement without a maximum value: a court held such a framework
    non-compliant (the contracting authority must state the maximum quantity or value, CJEU
    C-216/17 Coopservice and C-23/20 Simonsen & Weel)."""
    for dossier in context.dossiers:
        if dossier.is_framework and dossier.framework_max_value is None and _is_open(dossier):
            yield Flag("framework_without_maximum", dossier, dossier.start_on)


@rule("framework_exceeded")
def framework_exceeded(context: Context) -> Iterable[Flag]:
    """A framework agreement whose call-offs (nadere overeenkomsten) together exceed its
    maximum value. Only call-offs among the checked (visible) dossiers are added up, so a
    reader never learns the value of one she cannot read."""
    frameworks = {
        d.id: d
        for d in context.dossiers
        if d.is_framework and d.framework_max_value is not None and _is_open(d)
    }
    if not frameworks:
        return
    values = {d.id: d.value for d in context.dossiers}
    totals: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    counted: dict[int, list[str]] = defaultdict(list)
    references = {d.id: d.reference for d in context.dossiers}
    query = sa.select(DossierRelation.parent_id, DossierRelation.child_id).where(
        DossierRelation.kind == RelationKind.CALL_OFF,
        DossierRelation.parent_id.in_(list(frameworks)),
    )
    for parent_id, child_id in db.session.execute(query):
        value = values.get(child_id)
        if child_id in values and value is not None:
            totals[parent_id] += value
            counted[parent_id].append(references[child_id])
    for framework_id, total in totals.items():
        framework = frameworks[framework_id]
        maximum = framework.framework_max_value
        assert maximum is not None
        if total > maximum:
            yield Flag(
                "framework_exceeded",
                framework,
                context.today,
                total,
                maximum,
                _percent(total, maximum) if maximum else None,
                figures={"references": sorted(counted[framework_id])},
            )


def evaluate(
    dossiers: Iterable[Dossier],
    today: date,
    config: Mapping[str, Any] | None = None,
    rules: Iterable[str] | None = None,
) -> list[Flag]:
    """Every flag of `dossiers` (already filtered by visibility), by date and reference."""
    config = config if config is not None else current_app.config
    dossiers = list(dossiers)
    ids = [d.id for d in dossiers]
    context = Context(dossiers, today, config, amendments.of_dossiers(ids), _term_events(ids))
    found = [flag for name in rules or RULES for flag in RULES[name](context)]
    return sorted(found, key=lambda f: (f.on or date.min, f.dossier.reference, f.rule))


def _term_events(dossier_ids: list[int]) -> dict[int, list[TermEvent]]:
    """The stored term events of these dossiers, oldest first, in one query per 500."""
    found: dict[int, list[TermEvent]] = defaultdict(list)
    for start in range(0, len(dossier_ids), 500):
        query = (
            sa.select(TermEvent)
            .where(TermEvent.dossier_id.in_(dossier_ids[start : start + 500]))
            .order_by(TermEvent.dossier_id, TermEvent.recorded_at, TermEvent.id)
        )
        for event in db.session.scalars(query):
            found[event.dossier_id].append(event)
    return dict(found)


def visible(user: User, today: date, config: Mapping[str, Any] | None = None) -> list[Flag]:
    """The flags over the dossiers `user` may see."""
    query = access.visible_dossiers(user).order_by(Dossier.reference)
    return evaluate(db.session.scalars(query).unique(), today, config)
