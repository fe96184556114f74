"""The obligations register: what each party must do under the contract, linked to the clause
that says so, with the due dates its recurrence gives and what was done on each.

Due dates are computed, never typed twice: from the first due date, every month, quarter or year
(counted from the first date, so 31 January stays the 31st where a month has one), up to the
obligation's own last day, else the end of the contract with all options, else a year ahead.
What someone recorded on a due date (fulfilled, with a date and a note) is an
`ObligationOccurrence`; a due date that passed without one is missed.

Candidates are proposed from clauses by dossier/obligation_proposals.py; a person confirms one
before it is registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import orm

from dossier import access, audit
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Clause,
    DocumentVersion,
    Dossier,
    DossierStatus,
    Obligation,
    ObligationOccurrence,
    ObligationParty,
    Recurrence,
    User,
    utcnow,
)

STEP_MONTHS = {Recurrence.MONTHLY: 1, Recurrence.QUARTERLY: 3, Recurrence.YEARLY: 12}
MAX_OCCURRENCES = 600  # fifty years of monthly reports: a bound, not a plan
OPEN_ENDED_MONTHS = 12  # how far ahead an obligation without an end shows its dates
CLOSED = frozenset({DossierStatus.ENDED, DossierStatus.TERMINATED, DossierStatus.ARCHIVED})
FIELDS = ("party", "title", "description", "recurrence", "first_due_on", "until_on", "owner_id")

OPEN, FULFILLED, MISSED = "open", "fulfilled", "missed"


def schedule(first: date, recurrence: Recurrence, last: date) -> list[date]:
    """The due dates from `first` up to and including `last`.

    Each date is counted from `first` (not from the previous date), so a monthly obligation due
    on the 31st falls on the last day of a shorter month and returns to the 31st after it, and a
    yearly one from 29 February falls on 28 February, and on the 29th again in a leap year.
    """
    if recurrence == Recurrence.ONCE:
        return [first] if first <= last else []
    step = STEP_MONTHS[recurrence]
    dates = []
    for number in range(MAX_OCCURRENCES):
        day = first + relativedelta(months=number * step)
        if day > last:
            break
        dates.append(day)
    return dates


def last_due(obligation: Obligation, today: date) -> date:
    """The last day the obligation's dates run to (see the module's docstring)."""
    from dossier import deadlines  # deadlines lists obligations: imported when needed

    if obligation.until_on is not None:
        return obligation.until_on
    if obligation.recurrence == Recurrence.ONCE:
        return obligation.first_due_on
    end = deadlines.final_end(obligation.dossier, today)
    return (
        end
        if end is not None
        else max(today, obligation.first_due_on) + relativedelta(months=OPEN_ENDED_MONTHS)
    )


@dataclass(frozen=True)
class Occurrence:
    """One due date of an obligation with its status as of `today`."""

    obligation: Obligation
    due_on: date
    status: str  # OPEN, FULFILLED or MISSED
    days_left: int
    record: ObligationOccurrence | None = None


def occurrences(obligation: Obligation, today: date) -> list[Occurrence]:
    """Every due date of `obligation`, and any recorded on a date its schedule no longer has."""
    records = {r.due_on: r for r in obligation.occurrences}
    dates = set(
        schedule(obligation.first_due_on, obligation.recurrence, last_due(obligation, today))
    )
    found = []
    for day in sorted(dates | set(records)):
        record = records.get(day)
        if record is not None and record.fulfilled_on is not None:
            status = FULFILLED
        elif day < today:
            status = MISSED
        else:
            status = OPEN
        found.append(Occurrence(obligation, day, status, (day - today).days, record))
    return found


def missed(obligation: Obligation, today: date) -> list[Occurrence]:
    return [o for o in occurrences(obligation, today) if o.status == MISSED]


def next_open(obligation: Obligation, today: date) -> Occurrence | None:
    return next((o for o in occurrences(obligation, today) if o.status == OPEN), None)


def find_occurrence(obligation: Obligation, due_on: date, today: date) -> Occurrence | None:
    return next((o for o in occurrences(obligation, today) if o.due_on == due_on), None)


def snapshot(obligation: Obligation) -> dict[str, Any]:
    values = {name: getattr(obligation, name) for name in FIELDS}
    values["clause_number"] = obligation.clause_number
    values["clause_version_id"] = obligation.clause_version_id
    return values


def _check(values: Mapping[str, Any], dossier: Dossier) -> dict[str, Any]:
    from dossier import actions

    errors: dict[str, str] = {}
    clean = dict(values)
    clean["title"] = (clean.get("title") or "").strip()
    clean["description"] = (clean.get("description") or "").strip()
    if not clean["title"]:
        errors["title"] = _("Name the obligation.")
    for name, kind in (("party", ObligationParty), ("recurrence", Recurrence)):
        try:
            clean[name] = kind(clean.get(name))
        except ValueError:
            errors[name] = _("Choose one of the options.")
    if not isinstance(clean.get("first_due_on"), date):
        errors["first_due_on"] = _("Give the first due date.")
    elif clean.get("until_on") is not None and clean["until_on"] < clean["first_due_on"]:
        errors["until_on"] = _("The last date cannot be before the first due date.")
    if clean.get("owner_id") is not None:
        owner = db.session.get(User, clean["owner_id"])
        if owner is None or owner not in actions.people(dossier):
            errors["owner_id"] = _("Choose someone who holds a role in this dossier.")
    if errors:
        raise ValidationError(errors)
    return clean


def create_obligation(
    actor: User, dossier: Dossier, values: Mapping[str, Any], clause: Clause | None = None
) -> Obligation:
    """Register an obligation (confirming a proposal when `clause` is given); audited."""
    clean = _check(values, dossier)
    if clause is not None and not _clause_of(actor, dossier, clause):
        raise ValidationError({"clause": _("This clause is not one of this dossier's.")})
    obligation = Obligation(dossier_id=dossier.id, created_by_id=actor.id)
    for name in FIELDS:
        setattr(obligation, name, clean.get(name))
    if clause is not None:
        obligation.clause_id = clause.id
        obligation.clause_version_id = clause.version_id
        obligation.clause_number = clause.number
    db.session.add(obligation)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.OBLIGATION_CREATE,
        "obligation",
        obligation.id,
        dossier_id=dossier.id,
        after=snapshot(obligation),
    )
    return obligation


def update_obligation(actor: User, obligation: Obligation, values: Mapping[str, Any]) -> Obligation:
    """Change what an obligation is, who owns it and its dates; audited with the fields that
    changed. What was recorded on a due date the new schedule no longer has stays, as history."""
    clean = _check({**snapshot(obligation), **values}, obligation.dossier)
    before = snapshot(obligation)
    for name in FIELDS:
        setattr(obligation, name, clean.get(name))
    after = snapshot(obligation)
    changed = [name for name in FIELDS if before[name] != after[name]]
    if not changed:
        return obligation
    db.session.flush()
    audit.record(
        actor,
        AuditAction.OBLIGATION_UPDATE,
        "obligation",
        obligation.id,
        dossier_id=obligation.dossier_id,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return obligation


def _clause_of(actor: User, dossier: Dossier, clause: Clause) -> bool:
    document = clause.version.document
    return document.dossier_id == dossier.id and access.can_view_clause(actor, clause)


def record_fulfilment(
    actor: User,
    obligation: Obligation,
    due_on: date,
    fulfilled_on: date | None,
    note: str,
    today: date,
) -> ObligationOccurrence:
    """Record on one due date that it was fulfilled (on `fulfilled_on`) or, without a date,
    not (yet), with a note; audited with what it replaced."""
    if find_occurrence(obligation, due_on, today) is None:
        raise ValidationError({"due_on": _("This obligation has no such due date.")})
    if fulfilled_on is not None and fulfilled_on > today:
        raise ValidationError({"fulfilled_on": _("A fulfilment date cannot be in the future.")})
    record = next((r for r in obligation.occurrences if r.due_on == due_on), None)
    before = {"fulfilled_on": record.fulfilled_on, "note": record.note} if record else None
    if record is None:
        record = ObligationOccurrence(obligation=obligation, due_on=due_on)
        db.session.add(record)
    record.fulfilled_on, record.note = fulfilled_on, note.strip()
    record.recorded_by_id, record.recorded_at = actor.id, utcnow()
    db.session.flush()
    audit.record(
        actor,
        AuditAction.OBLIGATION_FULFIL,
        "obligation_occurrence",
        record.id,
        dossier_id=obligation.dossier_id,
        before=before,
        after={
            "obligation_id": obligation.id,
            "due_on": due_on,
            "fulfilled_on": fulfilled_on,
            "note": record.note,
        },
    )
    return record


def of_dossier(dossier: Dossier) -> list[Obligation]:
    query = sa.select(Obligation).where(Obligation.dossier_id == dossier.id)
    return list(db.session.scalars(query.order_by(Obligation.first_due_on, Obligation.id)))


def in_dossiers(dossier_ids: Iterable[int]) -> list[Obligation]:
    """The obligations of these dossiers (already filtered by visibility)."""
    ids = list(dossier_ids)
    found: list[Obligation] = []
    for start in range(0, len(ids), 500):
        query = (
            sa.select(Obligation)
            .where(Obligation.dossier_id.in_(ids[start : start + 500]))
            .options(orm.selectinload(Obligation.occurrences))
        )
        found.extend(db.session.scalars(query))
    return sorted(found, key=lambda o: (o.dossier.reference, o.first_due_on, o.id))


def owned_by(user: User) -> list[Obligation]:
    """The obligations `user` owns in the dossiers they may still see."""
    query = sa.select(Obligation).where(
        Obligation.owner_id == user.id,
        Obligation.dossier_id.in_(access.visible_dossier_ids(user)),
    )
    found = db.session.scalars(query)
    return sorted(found, key=lambda o: (o.dossier.reference, o.first_due_on, o.id))


def is_running(obligation: Obligation) -> bool:
    """Obligations of a closed contract ask for nothing any more."""
    return obligation.dossier.status not in CLOSED


def readable_clause(user: User, obligation: Obligation) -> DocumentVersion | None:
    """The version holding the obligation's clause, if `user` may open its document; else None
    (a confidential contract's clause does not leak through the register)."""
    version = obligation.clause_version
    if version is None or not access.can_view_document(user, version.document):
        return None
    return version


def clause_position(obligation: Obligation) -> int | None:
    """Where the clause stands in its version now (clauses are rebuilt on resegmentation)."""
    if obligation.clause is not None:
        return obligation.clause.position
    if obligation.clause_version is None:
        return None
    return next(
        (
            c.position
            for c in obligation.clause_version.clauses
            if c.number == obligation.clause_number
        ),
        None,
    )
