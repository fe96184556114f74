"""Management information: deadlines, tenders, money, completeness and filing activity.

Every figure is computed from `access.visible_dossiers(user)` and `access.visible_documents(user)`
and nothing else, so a report never counts what its reader may not see. Each report is a list
of `Table`s that the web pages render, chart, and export to CSV and XLSX.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import lazy_gettext as _l

from dossier import access, amendments, deadlines, plans
from dossier.extensions import db
from dossier.models import (
    DeadlineKind,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    DossierStatus,
    ExtractionStatus,
    User,
)

ZERO = Decimal("0.00")
TOP_SUPPLIERS = 10
QUARTERS_AHEAD = 8
MAX_YEARS = 20


@dataclass
class Table:
    """A named table: column keys with their headings, and rows of plain values."""

    name: str
    title: Any
    columns: list[tuple[str, Any]]
    rows: list[list[Any]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [key for key, _label in self.columns]

    @property
    def headings(self) -> list[str]:
        return [str(label) for _key, label in self.columns]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.keys, row, strict=True)) for row in self.rows]


def _dossiers(user: User) -> list[Dossier]:
    query = access.visible_dossiers(user).order_by(Dossier.reference)
    return list(db.session.scalars(query).unique())


def _open(dossiers: Iterable[Dossier]) -> list[Dossier]:
    return [d for d in dossiers if d.status not in deadlines.CLOSED]


def _supplier(dossier: Dossier) -> str:
    return dossier.supplier.name if dossier.supplier else ""


# Deadlines


def deadline_table(items: Iterable[deadlines.Deadline], name: str = "deadlines") -> Table:
    table = Table(
        name,
        _l("Deadlines"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("kind", _l("Deadline")),
            ("due_on", _l("Date")),
            ("days_left", _l("Days left")),
            ("status", _l("Status")),
            ("note", _l("Note")),
        ],
    )
    for d in items:
        table.rows.append(
            [
                d.dossier.reference,
                d.dossier.title,
                _supplier(d.dossier),
                d.kind.value,
                d.due_on,
                d.days_left,
                d.status.value,
                d.action.note if d.action else "",
            ]
        )
    return table


def deadline_report(user: User, today: date) -> Table:
    """The contract's deadlines, then open actions and obligations' missed and next due dates
    (the note column says what they are about)."""
    dossiers = _dossiers(user)
    table = deadline_table(deadlines.for_dossiers(dossiers, today))
    for task in deadlines.tasks_for([d.id for d in dossiers], today):
        table.rows.append(
            [
                task.dossier.reference,
                task.dossier.title,
                _supplier(task.dossier),
                task.kind,
                task.due_on,
                task.days_left,
                task.status.value,
                task.title,
            ]
        )
    table.rows.sort(key=lambda row: (row[4], row[0]))
    return table


# Obligations and actions


def obligation_report(user: User, today: date) -> Table:
    """Every obligation in the dossiers `user` may see: who owes it, how often, its next due
    date, how many due dates were missed, and the clause it comes from (only when `user` may
    open that clause's document)."""
    from dossier import obligations

    table = Table(
        "obligations",
        _l("Obligations"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("obligation", _l("Obligation")),
            ("party", _l("Party")),
            ("recurrence", _l("Recurrence")),
            ("owner", _l("Owner")),
            ("next_due_on", _l("Next due date")),
            ("missed", _l("Missed")),
            ("last_fulfilled_on", _l("Last fulfilled")),
            ("clause", _l("Clause")),
        ],
    )
    ids = [d.id for d in _dossiers(user)]
    for item in obligations.in_dossiers(ids):
        found = obligations.occurrences(item, today)
        running = obligations.is_running(item)
        coming = next((o for o in found if o.status == obligations.OPEN), None)
        fulfilled = [o.record.fulfilled_on for o in found if o.record and o.record.fulfilled_on]
        version = obligations.readable_clause(user, item)
        table.rows.append(
            [
                item.dossier.reference,
                item.dossier.title,
                _supplier(item.dossier),
                item.title,
                item.party.value,
                item.recurrence.value,
                item.owner.name if item.owner else "",
                coming.due_on if coming and running else None,
                sum(o.status == obligations.MISSED for o in found) if running else 0,
                max(fulfilled) if fulfilled else None,
                f"{item.clause_number} ({version.document.title})".strip() if version else "",
            ]
        )
    return table


def action_report(user: User, today: date) -> Table:
    """The open actions in the dossiers `user` may see, overdue ones first."""
    from dossier import actions

    table = Table(
        "actions",
        _l("Open actions"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("agreement", _l("Agreement")),
            ("assignee", _l("Who acts")),
            ("due_on", _l("Date")),
            ("days_left", _l("Days left")),
            ("action_status", _l("Status")),
        ],
    )
    ids = list(db.session.scalars(access.visible_dossier_ids(user)))
    found = [
        a
        for start in range(0, len(ids), 500)
        for a in actions.of_dossiers(ids[start : start + 500], only_open=True)
    ]
    for item in sorted(found, key=lambda a: (a.due_on or date.max, a.dossier.reference, a.id)):
        who = item.assignee.name if item.assignee else item.assignee_text
        table.rows.append(
            [
                item.dossier.reference,
                item.dossier.title,
                item.agreement,
                who,
                item.due_on,
                (item.due_on - today).days if item.due_on else None,
                item.status.value,
            ]
        )
    return table


def past_end_report(user: User, today: date) -> Table:
    """Active contracts whose term has ended: the status or the end date needs updating."""
    table = Table(
        "past_end",
        _l("Active contracts past their end date"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("end_on", _l("End date")),
            ("days_past", _l("Days past the end")),
        ],
    )
    for dossier in _dossiers(user):
        if deadlines.past_end(dossier, today):
            assert dossier.end_on is not None
            table.rows.append(
                [
                    dossier.reference,
                    dossier.title,
                    _supplier(dossier),
                    dossier.end_on,
                    (today - dossier.end_on).days,
                ]
            )
    return table


# Tenders


def tender_report(user: User, today: date, config: Mapping[str, Any] | None = None) -> Table:
    """Every contract with a known value whose maximum end date falls within the horizon, with
    the procedure its re-tender needs (European above the threshold of its category, below it
    the organisation's own policy) and when that procurement must start."""
    config = config if config is not None else current_app.config
    horizon = today + relativedelta(months=config["TENDER_HORIZON_MONTHS"])
    table = Table(
        "tenders",
        _l("New tenders needed"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("category", _l("Category")),
            ("estimated_value", _l("Estimated value")),
            ("threshold", _l("European threshold")),
            ("max_end_on", _l("Maximum end date")),
            ("procurement_start", _l("Procurement must start")),
            ("late", _l("Late")),
            ("procedure_needed", _l("Procedure needed")),
        ],
    )
    for dossier in _open(_dossiers(user)):
        end = deadlines.final_end(dossier, today, config)
        start = deadlines.tender_start(dossier, today, config)
        if end is None or start is None or end > horizon:
            continue
        table.rows.append(
            [
                dossier.reference,
                dossier.title,
                _supplier(dossier),
                dossier.category.value if dossier.category else "",
                deadlines.estimated_value(dossier),
                deadlines.threshold(dossier, config),
                end,
                start,
                start < today,
                deadlines.procedure_needed(dossier, config),
            ]
        )
    table.rows.sort(key=lambda row: (row[7], row[0]))
    return table


# Procurement-law checks


def checks_report(user: User, today: date, config: Mapping[str, Any] | None = None) -> Table:
    """Every flag of the procurement-law checks over the dossiers `user` may see: the rule,
    when, the amount that crossed the limit, the limit, and the other figures (a dict, which
    the page and the exports write as a sentence, and JSON keeps as it is)."""
    from dossier import checks  # it imports deadlines, which this module imports too

    table = Table(
        "checks",
        _l("Procurement-law checks"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("rule", _l("Check")),
            ("on", _l("Date")),
            ("amount", _l("Amount")),
            ("limit", _l("Limit")),
            ("percent", _l("Percentage of the initial value")),
            ("figures", _l("Figures")),
            ("amendment_id", _l("Amendment")),
        ],
    )
    for flag in checks.visible(user, today, config):
        table.rows.append(
            [
                flag.dossier.reference,
                flag.dossier.title,
                _supplier(flag.dossier),
                flag.rule,
                flag.on,
                flag.amount,
                flag.limit,
                flag.percent,
                flag.figures,
                flag.amendment.id if flag.amendment else None,
            ]
        )
    return table


# Money
# Money

_MONEY_COLUMNS = [
    ("count", _l("Dossiers")),
    ("value", _l("Initial value")),
    ("current_value", _l("Current value")),
    ("annual_value", _l("Annual value")),
]


def total(amounts: Iterable[Decimal | None]) -> Decimal | None:
    """The sum of the known amounts; None (unknown, shown as "—") when there are amounts and
    none of them is known, so a group whose value nobody recorded does not read € 0,00.
    Nothing at all sums to a known zero."""
    amounts = list(amounts)
    known = [a for a in amounts if a is not None]
    if amounts and not known:
        return None
    return sum(known, ZERO)


def _money(dossiers: list[Dossier], current: Mapping[int, Decimal | None]) -> list[Any]:
    """Count, initial value, current value (with approved amendments, `current` by dossier
    id) and annual value of a group of dossiers."""
    return [
        len(dossiers),
        total(d.value for d in dossiers),
        total(current.get(d.id, d.value) for d in dossiers),
        total(d.annual_value for d in dossiers),
    ]


def _grouped(
    name: str,
    title: Any,
    heading: Any,
    dossiers: Iterable[Dossier],
    key: Callable[[Dossier], str],
    current: Mapping[int, Decimal | None],
) -> Table:
    groups: dict[str, list[Dossier]] = defaultdict(list)
    for dossier in dossiers:
        groups[key(dossier)].append(dossier)
    rows = [[k, *_money(group, current)] for k, group in groups.items()]
    rows.sort(key=lambda row: (-(row[2] or ZERO), row[0]))
    return Table(name, title, [("key", heading), *_MONEY_COLUMNS], rows)


def value_report(user: User, today: date) -> list[Table]:
    """Value by supplier, category, procedure and year; top suppliers; value ending per quarter.
    Each money table gives the initial value and the current value (with the approved
    amendments, `amendments.current_value`) side by side."""
    dossiers = _dossiers(user)
    current = amendments.current_values(dossiers)
    by_supplier = _grouped(
        "value_supplier", _l("Value by supplier"), _l("Supplier"), dossiers, _supplier, current
    )
    top = Table(
        "top_suppliers",
        _l("Top suppliers"),
        by_supplier.columns,
        [row for row in by_supplier.rows if row[0]][:TOP_SUPPLIERS],
    )
    return [
        by_supplier,
        top,
        _grouped(
            "value_category",
            _l("Value by category"),
            _l("Category"),
            dossiers,
            lambda d: d.category.value if d.category else "",
            current,
        ),
        _grouped(
            "value_procedure",
            _l("Value by procedure"),
            _l("Procurement procedure"),
            dossiers,
            lambda d: d.procedure.value if d.procedure else "",
            current,
        ),
        value_by_year(dossiers, today, current),
        value_ending_by_quarter(dossiers, today, current),
        value_by_family(dossiers, current),
    ]


def value_by_family(
    dossiers: list[Dossier], current: Mapping[int, Decimal | None] | None = None
) -> Table:
    """Value per family of related dossiers (a framework with its call-offs, a contract with
    its annexes and successors), named by the reference of its root among `dossiers`."""
    from dossier import relations

    keys = relations.family_keys(dossiers)
    current = current if current is not None else amendments.current_values(dossiers)
    return _grouped(
        "value_family",
        _l("Value by family of related contracts"),
        _l("Family"),
        dossiers,
        lambda d: keys[d.id],
        current,
    )


def decisions_needed(dossiers: Iterable[Dossier], today: date) -> list[tuple[Dossier, date]]:
    """Of `dossiers`, those that need an end-of-contract decision ("besluit nodig"), with the
    date it is due, earliest first."""
    from dossier import decisions

    found = [(d, deadlines.decision_due(d, today)) for d in dossiers]
    due = [(d, day) for d, day in found if day is not None]
    settled = decisions.approved_ids([d.id for d, _day in due])
    return sorted(
        ((d, day) for d, day in due if d.id not in settled), key=lambda p: (p[1], p[0].reference)
    )


def terms_report(user: User, today: date) -> Table:
    """Every visible dossier with a term: its history in short, the derived dates and the
    end-of-contract decision."""
    from dossier import decisions, relations, terms

    table = Table(
        "terms",
        _l("Terms, options and end-of-contract decisions"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("family", _l("Family")),
            ("start_on", _l("Start date")),
            ("end_on", _l("End date")),
            ("term", _l("Term (periods)")),
            ("options_exercised", _l("Options exercised")),
            ("options_left", _l("Options left")),
            ("option_decision_on", _l("Option decision")),
            ("max_end_on", _l("Maximum end date")),
            ("tender_start", _l("Procurement must start")),
            ("decision_due", _l("Decision due")),
            ("decision", _l("End-of-contract decision")),
            ("decision_needed", _l("Decision needed")),
        ],
    )
    dossiers = [d for d in _open(_dossiers(user)) if d.end_on is not None]
    keys = relations.family_keys(dossiers)
    settled = decisions.approved_ids([d.id for d in dossiers])
    for dossier in dossiers:
        timeline = terms.timeline(dossier)
        option = [due for kind, due in deadlines.due_dates(dossier, today)
                  if kind == DeadlineKind.OPTION]  # fmt: skip
        latest = decisions.of_dossier(dossier)
        table.rows.append(
            [
                dossier.reference,
                dossier.title,
                keys[dossier.id],
                dossier.start_on,
                dossier.end_on,
                timeline.formula,
                len(timeline.exercised),
                dossier.option_count,
                option[0] if option else None,
                deadlines.final_end(dossier, today),
                deadlines.tender_start(dossier, today),
                deadlines.decision_due(dossier, today),
                f"{latest[0].kind.value}:{latest[0].status.value}" if latest else "",
                decisions.needs_decision(dossier, today, dossier.id in settled),
            ]
        )
    return table


def value_by_year(
    dossiers: Iterable[Dossier], today: date, current: Mapping[int, Decimal | None] | None = None
) -> Table:
    """Per calendar year: contracts that started (count, initial and current value) and the
    annual value in force."""
    dossiers = [d for d in dossiers if d.start_on is not None]
    current = current if current is not None else amendments.current_values(dossiers)
    table = Table(
        "value_year",
        _l("Value by year"),
        [
            ("year", _l("Year")),
            ("started", _l("Contracts started")),
            ("value", _l("Value of contracts started")),
            ("current_value", _l("Current value of contracts started")),
            ("annual_value", _l("Annual value in force")),
        ],
    )
    if not dossiers:
        return table
    first = max(min(d.start_on.year for d in dossiers), today.year - MAX_YEARS)  # type: ignore[union-attr]
    last = max(max(d.start_on.year for d in dossiers), today.year)  # type: ignore[union-attr]
    for year in range(first, last + 1):
        started = [d for d in dossiers if d.start_on.year == year]  # type: ignore[union-attr]
        in_force = [d for d in dossiers if _in_force(d, year, today)]
        table.rows.append(
            [
                year,
                len(started),
                total(d.value for d in started),
                total(current.get(d.id, d.value) for d in started),
                total(d.annual_value for d in in_force),
            ]
        )
    return table


def _in_force(dossier: Dossier, year: int, today: date) -> bool:
    assert dossier.start_on is not None
    if dossier.start_on > date(year, 12, 31):
        return False
    if dossier.end_on is None:
        return dossier.status not in deadlines.CLOSED
    return deadlines.current_end(dossier, today) >= date(year, 1, 1)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def value_ending_by_quarter(
    dossiers: Iterable[Dossier], today: date, current: Mapping[int, Decimal | None] | None = None
) -> Table:
    """Value of open contracts whose running term ends in each of the coming quarters."""
    dossiers = list(dossiers)
    current = current if current is not None else amendments.current_values(dossiers)
    start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarters = [_quarter(start + relativedelta(months=3 * n)) for n in range(QUARTERS_AHEAD)]
    ending: dict[str, list[Dossier]] = {q: [] for q in quarters}
    for dossier in _open(dossiers):
        if dossier.end_on is None:
            continue
        group = ending.get(_quarter(deadlines.current_end(dossier, today)))
        if group is not None:
            group.append(dossier)
    # Eight rows of zeros report nothing: then the table is empty, like the others.
    rows = [[q, *_money(ending[q], current)] for q in quarters] if any(ending.values()) else []
    return Table(
        "value_quarter",
        _l("Value of contracts ending per quarter"),
        [("quarter", _l("Quarter")), *_MONEY_COLUMNS],
        rows,
    )


def value_totals(user: User, today: date) -> Table:
    """Every money table in one long table (dimension, key, ...), for scripts."""
    table = Table(
        "value",
        _l("Value"),
        [("dimension", _l("Dimension")), ("key", _l("Group")), *_MONEY_COLUMNS],
    )
    for part in value_report(user, today):
        if part.name in ("value_year", "top_suppliers"):
            continue
        dimension = part.name.removeprefix("value_")
        table.rows.extend([dimension, *row] for row in part.rows)
    for year, started, value, current, annual in value_by_year(_dossiers(user), today).rows:
        table.rows.append(["year", str(year), started, value, current, annual])
    return table


# Completeness


def requirements(config: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    config = config if config is not None else current_app.config
    return list(config["REQUIRED_DOCUMENTS"])


def applies(requirement: Mapping[str, Any], dossier: Dossier) -> bool:
    categories = requirement.get("categories")
    if categories is not None and (dossier.category is None or dossier.category not in categories):
        return False
    return not requirement.get("personal_data") or dossier.personal_data


PLAN_RECORD = "execution_plan"


def needs_plan(dossier: Dossier, rules: Iterable[Mapping[str, Any]]) -> bool:
    """A dossier that must have an execution plan: a plan rule of the configuration applies."""
    return any(rule.get("record") == PLAN_RECORD and applies(rule, dossier) for rule in rules)


def plan_attention(
    dossiers: Iterable[Dossier], today: date, config: Mapping[str, Any] | None = None
) -> list[plans.Attention]:
    """Running contracts that need a plan and have none, or whose review is overdue."""
    rules = requirements(config)
    return plans.attention(dossiers, today, lambda d: needs_plan(d, rules))


def plan_report(user: User, today: date) -> Table:
    """The plan attention list over the dossiers `user` may see."""
    table = Table(
        "plans",
        _l("Execution plans needing attention"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("supplier", _l("Supplier")),
            ("attention", _l("What is needed")),
            ("review_due_on", _l("Review due")),
            ("days_overdue", _l("Days overdue")),
        ],
    )
    for item in plan_attention(_dossiers(user), today):
        days = item.days_overdue(today)
        table.rows.append(
            [
                item.dossier.reference,
                item.dossier.title,
                _supplier(item.dossier),
                item.reason,
                item.review_due_on,
                days if days is not None and days > 0 else None,
            ]
        )
    return table


def met_by(requirement: Mapping[str, Any], kind: DocumentKind, title: str) -> bool:
    """Whether a document of `kind` titled `title` meets `requirement`: by its kind; where the
    rule has `legacy_kinds`, also a document of one of those whose title has a title word (filed
    before the kind existed); in a rule without them the title words narrow `kinds`."""
    if "record" in requirement:
        return False
    words = requirement.get("title_words") or []
    # Whole words only: "sla" must not match "verslag".
    titled = not words or any(
        re.search(rf"(?<!\w){re.escape(word)}(?!\w)", title, re.IGNORECASE) for word in words
    )
    if "legacy_kinds" in requirement:
        if kind.value in requirement.get("kinds", ()):
            return True
        return bool(words) and titled and kind.value in requirement["legacy_kinds"]
    return kind.value in requirement.get("kinds", ()) and titled


def completeness_report(
    user: User, config: Mapping[str, Any] | None = None, today: date | None = None
) -> tuple[Table, int]:
    """Running (active) dossiers that miss a required document or their execution plan (or its
    overdue review), with what they miss; and how many are whole. Drafts are not contracts yet
    and ended ones are closed: neither counts."""
    rules = requirements(config)
    dossiers = [d for d in _dossiers(user) if d.status == DossierStatus.ACTIVE]
    today = today or deadlines.local_today()
    plan_missing: dict[int, str] = {
        item.dossier.id: item.reason for item in plan_attention(dossiers, today, config)
    }
    documents: dict[int, list[tuple[DocumentKind, str]]] = defaultdict(list)
    query = access.visible_documents(user).with_only_columns(
        Document.dossier_id, Document.kind, Document.title
    )
    for dossier_id, kind, title in db.session.execute(query):
        documents[dossier_id].append((kind, title))
    table = Table(
        "completeness",
        _l("Incomplete dossiers"),
        [
            ("reference", _l("Reference")),
            ("title", _l("Title")),
            ("category", _l("Category")),
            ("missing", _l("Missing")),
        ],
    )
    complete = 0
    for dossier in dossiers:
        reason = plan_missing.get(dossier.id)
        missing = [
            rule["key"]
            for rule in rules
            if applies(rule, dossier)
            and (
                reason == plans.NO_PLAN
                if "record" in rule
                else not any(met_by(rule, k, t) for k, t in documents[dossier.id])
            )
        ]
        if reason == plans.REVIEW_OVERDUE:
            missing.append("execution_plan_review")
        if missing:
            category = dossier.category.value if dossier.category else ""
            table.rows.append([dossier.reference, dossier.title, category, missing])
        else:
            complete += 1
    return table, complete


# Activity


def _month(moment: Any, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


def activity_report(user: User) -> list[Table]:
    """Documents filed per month and per person who filed them; documents without text."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    query = (
        access.visible_documents(user)
        .outerjoin(User, Document.created_by_id == User.id)
        .with_only_columns(Document.created_at, User.name, User.email)
    )
    months: Counter[str] = Counter()
    filers: Counter[str] = Counter()
    for created_at, name, email in db.session.execute(query):
        months[_month(created_at, zone)] += 1
        filers[f"{name} <{email}>" if email else ""] += 1
    per_month = Table(
        "activity_month",
        _l("Documents filed per month"),
        [("month", _l("Month")), ("count", _l("Documents"))],
        [[m, months[m]] for m in sorted(months, reverse=True)],
    )
    per_filer = Table(
        "activity_filer",
        _l("Documents filed per person"),
        [("filer", _l("Filed by")), ("count", _l("Documents"))],
        sorted(([f, c] for f, c in filers.items()), key=lambda r: (-r[1], r[0])),
    )
    return [per_month, per_filer, extraction_report(user)]


def extraction_report(user: User) -> Table:
    """Documents whose current version's text could not (fully) be extracted."""
    query = (
        access.visible_documents(user)
        .join(
            DocumentVersion,
            sa.and_(
                DocumentVersion.document_id == Document.id,
                DocumentVersion.number == Document.current_version_number,
            ),
        )
        .join(Dossier, Document.dossier_id == Dossier.id)
        .where(
            DocumentVersion.extraction_status.not_in(
                [ExtractionStatus.OK, ExtractionStatus.PENDING]
            )
        )
        .with_only_columns(
            Dossier.reference,
            Document.id,
            Document.title,
            DocumentVersion.original_filename,
            DocumentVersion.extraction_status,
            DocumentVersion.extraction_detail,
        )
        .order_by(Dossier.reference, Document.id)
    )
    table = Table(
        "extraction",
        _l("Documents without extracted text"),
        [
            ("reference", _l("Reference")),
            ("document_id", _l("Document")),
            ("title", _l("Title")),
            ("filename", _l("File")),
            ("extraction_status", _l("Text")),
            ("detail", _l("Detail")),
        ],
    )
    for row in db.session.execute(query):
        table.rows.append([row[0], row[1], row[2], row[3], row[4].value, row[5]])
    return table


# Dashboard


def member_dossiers(user: User) -> list[Dossier]:
    """The visible dossiers in which `user` holds a role (their own dossiers)."""
    query = (
        access.visible_dossiers(user)
        .where(Dossier.id.in_(access.member_dossier_ids(user)))
        .order_by(Dossier.reference)
    )
    return list(db.session.scalars(query).unique())


def recent_documents(user: User, limit: int = 10) -> list[Document]:
    """The latest documents filed in dossiers `user` holds a role in, that they may read."""
    query = (
        access.visible_documents(user)
        .where(Document.dossier_id.in_(access.member_dossier_ids(user)))
        .order_by(Document.created_at.desc(), Document.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def table(user: User, name: str, today: date) -> Table | None:
    """One report table by name, computed for `user`; None for an unknown name."""
    builders: dict[str, Callable[[], Table | None]] = {
        "deadlines": lambda: deadline_report(user, today),
        "past_end": lambda: past_end_report(user, today),
        "tenders": lambda: tender_report(user, today),
        "completeness": lambda: completeness_report(user, today=today)[0],
        "value": lambda: value_totals(user, today),
        "extraction": lambda: extraction_report(user),
        "plans": lambda: plan_report(user, today),
        "obligations": lambda: obligation_report(user, today),
        "actions": lambda: action_report(user, today),
        "terms": lambda: terms_report(user, today),
        "checks": lambda: checks_report(user, today),
    }
    if name in builders:
        return builders[name]()
    if name == "kpis":
        from dossier import performance_tables  # it imports this module

        return performance_tables.kpi_table(user)
    if name == "scorecard":
        from dossier import performance_tables

        return performance_tables.scorecard_table(user)
    if name in ("spend", "spend_without_contract"):
        from dossier import spend_tables  # it imports this module

        if name == "spend":
            return spend_tables.spend_table(user, today)
        return spend_tables.without_contract_table(user)
    if name in ("disposal", "holds"):
        from dossier import records  # it imports deadlines, which this module does too

        return (
            records.disposal_table(user, today) if name == "disposal" else records.holds_table(user)
        )
    if name == "woo":
        from dossier import woo_deadlines  # it imports this module on use

        return woo_deadlines.woo_table(user, today)
    if name.startswith("value_") or name == "top_suppliers":
        return next((t for t in value_report(user, today) if t.name == name), None)
    if name.startswith("activity_"):
        return next((t for t in activity_report(user) if t.name == name), None)
    return None


TABLE_NAMES = (
    "deadlines",
    "past_end",
    "tenders",
    "value",
    "value_supplier",
    "top_suppliers",
    "value_category",
    "value_procedure",
    "value_year",
    "value_quarter",
    "value_family",
    "completeness",
    "plans",
    "activity_month",
    "activity_filer",
    "extraction",
    "obligations",
    "actions",
    "kpis",
    "scorecard",
    "spend",
    "spend_without_contract",
    "disposal",
    "holds",
    "terms",
    "checks",
    "woo",
)
