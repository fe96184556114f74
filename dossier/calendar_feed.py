"""A secret iCalendar feed per user with the deadlines of the dossiers they may see.

The feed address carries a random token; only its SHA-256 is stored, so a database copy does
not give away anyone's feed. A new token replaces the old one; a revoked token finds nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event

from dossier import access, audit, deadlines
from dossier.extensions import db
from dossier.labels import DEADLINE_KIND, DEADLINE_STATUS, PROCEDURE_NEEDED, TASK_KIND
from dossier.models import AuditAction, CalendarToken, DeadlineKind, User, utcnow

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
# Past deadlines stay in the feed this long, so a calendar still shows what was missed.
_KEEP_PAST = timedelta(days=90)
# Obligations' due dates to come are in the feed this far ahead.
_TASKS_AHEAD = timedelta(days=366)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def active_token(user: User) -> CalendarToken | None:
    return db.session.scalar(
        sa.select(CalendarToken).where(
            CalendarToken.user_id == user.id, CalendarToken.revoked_at.is_(None)
        )
    )


def create_token(user: User) -> str:
    """Make a new feed token for `user` (revoking any older one); the token is shown once."""
    revoke_tokens(user, record=False)
    token = secrets.token_urlsafe(32)
    row = CalendarToken(user_id=user.id, token_hash=_hash(token))
    db.session.add(row)
    db.session.flush()
    audit.record(user, AuditAction.CALENDAR_CREATE, "calendar_token", row.id)
    return token


def revoke_tokens(user: User, record: bool = True) -> int:
    """Revoke every live feed token of `user`; returns how many there were."""
    rows = db.session.scalars(
        sa.select(CalendarToken).where(
            CalendarToken.user_id == user.id, CalendarToken.revoked_at.is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = utcnow()
        if record:
            audit.record(user, AuditAction.CALENDAR_REVOKE, "calendar_token", row.id)
    db.session.flush()
    return len(rows)


def user_for_token(token: str) -> User | None:
    """The enabled user a live token belongs to, or None (malformed, unknown or revoked)."""
    if not _TOKEN_RE.match(token):
        return None
    return db.session.scalar(
        sa.select(User)
        .join(CalendarToken, CalendarToken.user_id == User.id)
        .where(
            CalendarToken.token_hash == _hash(token),
            CalendarToken.revoked_at.is_(None),
            User.is_enabled.is_(True),
        )
    )


def feed(user: User, today: date, dossier_url: Callable[[str], str]) -> bytes:
    """The iCalendar document of the deadlines in every dossier `user` may see."""
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    items = [d for d in deadlines.visible(user, today) if d.due_on >= today - _KEEP_PAST]
    visible_ids = db.session.scalars(access.visible_dossier_ids(user))
    tasks = [
        t
        for t in deadlines.tasks_for(visible_ids, today, ahead=_TASKS_AHEAD.days)
        if t.due_on >= today - _KEEP_PAST
    ]
    with force_locale(locale):
        calendar = _calendar(items, dossier_url)
        _add_tasks(calendar, tasks, dossier_url)
        return calendar.to_ical()


def _add_tasks(
    calendar: Calendar, tasks: Iterable[deadlines.Task], dossier_url: Callable[[str], str]
) -> None:
    """Open actions and obligations' due dates, as all-day events like the deadlines."""
    stamp = utcnow()
    for task in tasks:
        event = Event()
        event.add("uid", f"{task.uid}@dossier")
        event.add("dtstamp", stamp)
        event.add("dtstart", task.due_on)
        event.add("dtend", task.due_on + timedelta(days=1))
        title = task.title if len(task.title) <= 120 else task.title[:119] + "…"
        event.add("summary", f"{TASK_KIND[task.kind]}: {task.dossier.reference} {title}")
        event.add("description", f"{_('Status')}: {DEADLINE_STATUS[task.status]}")
        event.add("url", dossier_url(task.dossier.reference))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)


def _calendar(items: Iterable[deadlines.Deadline], dossier_url: Callable[[str], str]) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Dossier//contract deadlines//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Contract deadlines"))
    stamp = utcnow()
    for item in items:
        event = Event()
        event.add("uid", f"{item.dossier.id}-{item.kind.value}-{item.due_on.isoformat()}@dossier")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due_on)
        event.add("dtend", item.due_on + timedelta(days=1))
        event.add(
            "summary",
            f"{DEADLINE_KIND[item.kind]}: {item.dossier.reference} {item.dossier.title}",
        )
        description = f"{_('Status')}: {DEADLINE_STATUS[item.status]}"
        if item.kind == DeadlineKind.TENDER:
            needed = deadlines.procedure_needed(item.dossier)
            if needed is not None:
                description += f"\n{_('Procedure needed')}: {PROCEDURE_NEEDED[needed]}"
        event.add("description", description)
        event.add("url", dossier_url(item.dossier.reference))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar
