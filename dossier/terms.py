"""A dossier's term as a history of events: the original term, every option exercised, every
tacit renewal, extension, early termination and correction. Nothing is overwritten: each change
of the end date or the options appends a `TermEvent` and then updates the register fields, which
stay the current state that every derived date (dossier/deadlines.py) is computed from.

A dossier registered before the history began gets its "original term" event from its register
fields as they stand when the first change is recorded (`ensure_original`); until then the
timeline shows that event unsaved, so nothing is lost either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import gettext as _

from dossier import audit
from dossier.dossiers import EARLIEST_DATE, LATEST_DATE, MAX_LEAD_MONTHS
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    DeadlineKind,
    DeadlineStatus,
    Document,
    Dossier,
    DossierStatus,
    TermEvent,
    TermEventKind,
    User,
)

# The register fields whose change is a change of the term.
TERM_FIELDS = ("start_on", "end_on", "option_count", "option_months")


def _settings(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return config if config is not None else current_app.config


def option_lead(dossier: Dossier, config: Mapping[str, Any] | None = None) -> int:
    """Months before the end by which an option must be decided: the dossier's own, else the
    configured OPTION_LEAD_MONTHS."""
    if dossier.option_lead_months is not None:
        return dossier.option_lead_months
    return int(_settings(config)["OPTION_LEAD_MONTHS"])


def tender_lead(dossier: Dossier, config: Mapping[str, Any] | None = None) -> int:
    """Months a new procurement takes: the dossier's own, else TENDER_LEAD_MONTHS."""
    if dossier.tender_lead_months is not None:
        return dossier.tender_lead_months
    return int(_settings(config)["TENDER_LEAD_MONTHS"])


def stored_events(dossier: Dossier) -> list[TermEvent]:
    if dossier.id is None:
        return []
    query = sa.select(TermEvent).where(TermEvent.dossier_id == dossier.id)
    return list(db.session.scalars(query.order_by(TermEvent.recorded_at, TermEvent.id)))


def _original(dossier: Dossier) -> TermEvent:
    return TermEvent(
        dossier_id=dossier.id,
        kind=TermEventKind.ORIGINAL,
        decided_on=dossier.signed_on,
        decided_by="",
        start_on=dossier.start_on,
        end_before=None,
        end_after=dossier.end_on,
        options_before=None,
        options_after=dossier.option_count,
        option_months=dossier.option_months,
        note="",
    )


def ensure_original(actor: User | None, dossier: Dossier) -> None:
    """Store the "original term" event from the register fields, if the dossier has a term
    and no history yet (call before changing the term)."""
    if dossier.end_on is None or stored_events(dossier):
        return
    event = _original(dossier)
    event.recorded_by_id = actor.id if actor else None
    db.session.add(event)
    db.session.flush()


def events(dossier: Dossier) -> list[TermEvent]:
    """The history, oldest first; the original term unsaved when none was stored yet."""
    found = stored_events(dossier)
    if not found and dossier.end_on is not None:
        return [_original(dossier)]
    return found


def _months_between(start: date, end: date) -> int | None:
    """Whole months from `start` to the day after `end` (1-1-2022 to 31-12-2025 is 48);
    None when the term is not a whole number of months."""
    delta = relativedelta(end + relativedelta(days=1), start)
    if delta.days:
        return None
    return delta.years * 12 + delta.months


@dataclass
class Timeline:
    """The term history as the dossier page shows it."""

    events: list[TermEvent]
    parts: list[int] = field(default_factory=list)  # months of each period, in order
    in_years: bool = False
    exercised: list[tuple[int, TermEvent]] = field(default_factory=list)  # (option no., event)
    remaining: int = 0
    option_months: int | None = None

    @property
    def numbers(self) -> dict[int, int]:
        """The option number of each option event, by its id."""
        return {event.id: number for number, event in self.exercised}

    @property
    def formula(self) -> str:
        """ "4 + 1 + 1" (years when every part is whole years, else months); "" if unknown."""
        if not self.parts:
            return ""
        numbers = [p // 12 if self.in_years else p for p in self.parts]
        return " + ".join(str(n) for n in numbers)


def timeline(dossier: Dossier) -> Timeline:
    history = events(dossier)
    result = Timeline(history, remaining=dossier.option_count or 0)
    result.option_months = dossier.option_months
    parts: list[int | None] = []
    number = 0
    for event in history:
        if event.kind == TermEventKind.ORIGINAL:
            if event.start_on and event.end_after:
                parts.append(_months_between(event.start_on, event.end_after))
            else:
                parts.append(None)
        elif event.kind == TermEventKind.OPTION:
            number += 1
            result.exercised.append((number, event))
            parts.append(event.option_months)
        elif event.kind == TermEventKind.CORRECTION:
            # The register data restate the term: one period from the start to the new end
            # (a dossier registered without dates gets its term this way).
            if event.start_on and event.end_after:
                parts = [_months_between(event.start_on, event.end_after)]
            else:
                parts = [None]
        elif event.kind in (TermEventKind.RENEWAL, TermEventKind.EXTENSION):
            if event.end_before and event.end_after:
                parts.append(
                    _months_between(event.end_before + relativedelta(days=1), event.end_after)
                )
            else:
                parts.append(None)
    if parts and all(p is not None and p > 0 for p in parts):
        whole = [p for p in parts if p is not None]
        result.parts = whole
        result.in_years = all(p % 12 == 0 for p in whole)
    return result


def _check_date(name: str, day: date | None, errors: dict[str, str]) -> None:
    if day is None:
        errors[name] = _("give a date")
    elif not EARLIEST_DATE <= day <= LATEST_DATE:
        errors[name] = _(
            "give a date between %(first)s and %(last)s",
            first=EARLIEST_DATE.year,
            last=LATEST_DATE.year,
        )


def _not_future(day: date | None, today: date, errors: dict[str, str]) -> None:
    if "decided_on" not in errors and day is not None and day > today:
        errors["decided_on"] = _("a decision is recorded once it was taken: not after today")


def _check_document(actor: User, dossier: Dossier, document: Document | None) -> None:
    from dossier import access

    if document is not None and (
        document.dossier_id != dossier.id or not access.can_view_document(actor, document)
    ):
        raise ValidationError({"document_id": _("choose a document of this dossier")})


def _record(actor: User | None, dossier: Dossier, event: TermEvent) -> TermEvent:
    event.dossier_id = dossier.id
    event.recorded_by_id = actor.id if actor else None
    db.session.add(event)
    db.session.flush()
    audit.record(
        actor,
        AuditAction.TERM_EVENT,
        "term_event",
        event.id,
        dossier_id=dossier.id,
        after={
            "kind": event.kind,
            "decided_on": event.decided_on,
            "decided_by": event.decided_by,
            "end_before": event.end_before,
            "end_after": event.end_after,
            "options_before": event.options_before,
            "options_after": event.options_after,
            "document_id": event.document_id,
            "note": event.note,
        },
    )
    return event


def exercise_option(
    actor: User,
    dossier: Dossier,
    decided_on: date | None,
    decided_by: str = "",
    note: str = "",
    document: Document | None = None,
    today: date | None = None,
) -> TermEvent:
    """One action: record option N as exercised, move the end date by one option, take one
    option off, and close the option deadline as acted on with the decision in its note."""
    from dossier import deadlines

    today = today or deadlines.local_today()
    errors: dict[str, str] = {}
    if dossier.end_on is None or not dossier.option_count or not dossier.option_months:
        raise ValidationError({"option": _("this dossier has no renewal option left")})
    _check_date("decided_on", decided_on, errors)
    _not_future(decided_on, today, errors)
    if not errors and decided_on and decided_on > dossier.end_on:
        errors["decided_on"] = _(
            "an option is exercised before the term ends (%(date)s)",
            date=dossier.end_on.strftime("%d-%m-%Y"),
        )
    if errors:
        raise ValidationError(errors)
    assert decided_on is not None
    _check_document(actor, dossier, document)
    decided_by = decided_by.strip() or actor.name or actor.email
    number = 1 + sum(1 for e in stored_events(dossier) if e.kind == TermEventKind.OPTION)
    ensure_original(actor, dossier)
    # Close the option deadline the data gives now, before the new end date moves it.
    due = [d for k, d in deadlines.due_dates(dossier, today) if k == DeadlineKind.OPTION]
    end_before, options_before = dossier.end_on, dossier.option_count
    end_after = end_before + relativedelta(months=dossier.option_months)
    if due:
        deadlines.set_status(
            actor,
            dossier,
            DeadlineKind.OPTION,
            due[0],
            DeadlineStatus.ACTED_ON,
            _(
                "Option %(number)d exercised on %(date)s by %(who)s; new end %(end)s.",
                number=number,
                date=decided_on.strftime("%d-%m-%Y"),
                who=decided_by,
                end=end_after.strftime("%d-%m-%Y"),
            )
            + (f" {note.strip()}" if note.strip() else ""),
            today,
        )
    event = TermEvent(
        kind=TermEventKind.OPTION,
        decided_on=decided_on,
        decided_by=decided_by[:255],
        end_before=end_before,
        end_after=end_after,
        options_before=options_before,
        options_after=options_before - 1,
        option_months=dossier.option_months,
        note=note.strip(),
        document_id=document.id if document else None,
    )
    dossier.end_on = end_after
    dossier.option_count = options_before - 1
    return _record(actor, dossier, event)


def record_event(
    actor: User,
    dossier: Dossier,
    kind: TermEventKind,
    decided_on: date | None,
    new_end: date | None = None,
    decided_by: str = "",
    note: str = "",
    document: Document | None = None,
    today: date | None = None,
) -> TermEvent:
    """A tacit renewal (by one renewal period), an extension outside the options (to
    `new_end`, later) or an early termination (to `new_end`, earlier; no options left)."""
    from dossier import deadlines

    today = today or deadlines.local_today()
    if kind not in (TermEventKind.RENEWAL, TermEventKind.EXTENSION, TermEventKind.TERMINATION):
        raise ValidationError({"kind": _("choose what happened to the term")})
    if dossier.end_on is None:
        raise ValidationError({"kind": _("record the end date of the contract first")})
    errors: dict[str, str] = {}
    _check_date("decided_on", decided_on, errors)
    _not_future(decided_on, today, errors)
    if kind == TermEventKind.RENEWAL:
        months = dossier.option_months or int(current_app.config["AUTO_RENEWAL_MONTHS"])
        new_end = dossier.end_on + relativedelta(months=months)
    else:
        _check_date("new_end", new_end, errors)
        if "new_end" not in errors and new_end is not None:
            if kind == TermEventKind.EXTENSION and new_end <= dossier.end_on:
                errors["new_end"] = _("an extension ends after the current end date")
            if kind == TermEventKind.TERMINATION and new_end >= dossier.end_on:
                errors["new_end"] = _("an early termination ends before the current end date")
            if dossier.start_on and new_end < dossier.start_on:
                errors["new_end"] = _("the end date lies before the start date")
    if errors:
        raise ValidationError(errors)
    assert new_end is not None and decided_on is not None
    _check_document(actor, dossier, document)
    ensure_original(actor, dossier)
    options_after = 0 if kind == TermEventKind.TERMINATION else dossier.option_count
    event = TermEvent(
        kind=kind,
        decided_on=decided_on,
        decided_by=(decided_by.strip() or actor.name or actor.email)[:255],
        end_before=dossier.end_on,
        end_after=new_end,
        options_before=dossier.option_count,
        options_after=options_after,
        option_months=dossier.option_months,
        note=note.strip(),
        document_id=document.id if document else None,
    )
    dossier.end_on = new_end
    dossier.option_count = options_after
    if kind == TermEventKind.TERMINATION and new_end < today:
        dossier.status = DossierStatus.TERMINATED
    return _record(actor, dossier, event)


def note_correction(
    actor: User | None, dossier: Dossier, before: Mapping[str, Any], note: str = ""
) -> TermEvent | None:
    """After the register form (or an import) changed the term fields: a correction event
    with the old and new values, so the history shows it. `before`: the fields before."""
    if all(before.get(name) == getattr(dossier, name) for name in TERM_FIELDS):
        return None
    event = TermEvent(
        kind=TermEventKind.CORRECTION,
        decided_on=None,
        decided_by="",
        start_on=dossier.start_on,
        end_before=before.get("end_on"),
        end_after=dossier.end_on,
        options_before=before.get("option_count"),
        options_after=dossier.option_count,
        option_months=dossier.option_months,
        note=note or _("corrected in the contract data"),
    )
    return _record(actor, dossier, event)


def set_leads(
    actor: User, dossier: Dossier, option_months: int | None, tender_months: int | None
) -> bool:
    """Set the dossier's own option-decision and tender lead times (None: the default)."""
    errors = {}
    for name, value in (
        ("option_lead_months", option_months),
        ("tender_lead_months", tender_months),
    ):
        if value is not None and not 0 <= value <= MAX_LEAD_MONTHS:
            errors[name] = _(
                "give 0 to %(most)d months, or leave it empty for the default", most=MAX_LEAD_MONTHS
            )
    if errors:
        raise ValidationError(errors)
    before = {
        "option_lead_months": dossier.option_lead_months,
        "tender_lead_months": dossier.tender_lead_months,
    }
    after = {"option_lead_months": option_months, "tender_lead_months": tender_months}
    if before == after:
        return False
    dossier.option_lead_months, dossier.tender_lead_months = option_months, tender_months
    db.session.flush()
    audit.record(
        actor,
        AuditAction.TERM_LEADS,
        "dossier",
        dossier.id,
        dossier_id=dossier.id,
        before=before,
        after=after,
    )
    return True
