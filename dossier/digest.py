"""The daily digest: each manager and beheerder hears of their coming and missed deadlines, and
each follower of a dossier of what happened in it the day before (`following.followed_events`).

The same digest is shown on the dashboard; `dossier digest --send` mails it through the SMTP
server in the configuration (MAIL_SERVER, MAIL_PORT, MAIL_SECURITY, MAIL_USERNAME, ...).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from dossier import access, checks, deadlines, following, portfolio, spend
from dossier.config import public_url
from dossier.extensions import db
from dossier.models import Action, ActionStatus, Dossier, Obligation, User


@dataclass(frozen=True)
class Digest:
    user: User
    today: date
    days: int
    upcoming: list[deadlines.Deadline]
    missed: list[deadlines.Deadline]
    # Agreed actions and obligations' due dates, coming within `days` and missed.
    tasks_upcoming: list[deadlines.Task] = field(default_factory=list)
    tasks_missed: list[deadlines.Task] = field(default_factory=list)
    # Yesterday's news of the dossiers the user follows.
    followed: list[following.FollowedEvent] = field(default_factory=list)
    # Contracts the user acts on whose spend reached a warning percentage (dossier/spend.py).
    spend_warnings: list[spend.Warning] = field(default_factory=list)
    # For the portfolio role: what needs attention across every dossier.
    across: portfolio.Portfolio | None = None
    # Flags of the procurement-law checks raised since the previous digest (dated from
    # yesterday on: an amendment made or a renewal period starting) in the dossiers they act on.
    flags: list[checks.Flag] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        due = self.upcoming or self.missed or self.tasks_upcoming or self.tasks_missed
        across = self.across is not None and self.across.needs_attention
        return not (due or self.followed or self.spend_warnings or self.flags or across)


def compose(user: User, today: date, days: int | None = None) -> Digest:
    """Deadlines due within `days` and those missed, in the visible dossiers `user` acts on."""
    days = days if days is not None else current_app.config["DIGEST_DAYS"]
    query = access.visible_dossiers(user).where(
        Dossier.id.in_(access.member_dossier_ids(user, access.DEADLINE_ROLES))
    )
    items = deadlines.visible(user, today, query)
    tasks = _tasks(user, today, days, query)
    return Digest(
        user,
        today,
        days,
        deadlines.upcoming(items, days),
        deadlines.missed(items),
        deadlines.upcoming(tasks, days),  # type: ignore[arg-type]
        deadlines.missed(tasks),  # type: ignore[arg-type]
        following.followed_events(user, today),
        spend_warnings=spend.warnings(db.session.scalars(query).unique(), today),
        across=portfolio.overview(user, today) if user.is_portfolio else None,
        flags=new_flags(query, today),
    )


def new_flags(acting: sa.Select[Any], today: date) -> list[checks.Flag]:
    """The flags of the dossiers in `acting` (visible ones the user acts on) dated yesterday
    or today, so each reaches the digest once; undated ones (no end date) are on the
    dashboard and the checks report instead of in every day's mail."""
    dossiers = db.session.scalars(acting.order_by(Dossier.reference)).unique()
    since = today - timedelta(days=1)
    return [
        f for f in checks.evaluate(dossiers, today) if f.on is not None and since <= f.on <= today
    ]


def _tasks(user: User, today: date, days: int, acting: sa.Select[Any]) -> list[deadlines.Task]:
    """Every action and obligation of the dossiers `user` acts on, and in any dossier they
    see, the actions assigned to them and the obligations they own."""
    acting_ids = list(db.session.scalars(acting.with_only_columns(Dossier.id)))
    visible_ids = list(db.session.scalars(access.visible_dossier_ids(user)))
    found = {t.uid: t for t in deadlines.tasks_for(acting_ids, today, ahead=days)}
    for task in deadlines.tasks_for(visible_ids, today, ahead=days, user=user):
        found.setdefault(task.uid, task)
    return sorted(found.values(), key=lambda t: (t.due_on, t.dossier.reference, t.kind))


def recipients() -> list[User]:
    """Enabled users who are manager or beheerder of at least one dossier (or via a group),
    who have an open action assigned or own an obligation, who follow a dossier, or who hold
    the portfolio role."""
    users = db.session.scalars(
        sa.select(User).where(User.is_enabled.is_(True)).order_by(User.email)
    ).all()
    assigned = set(
        db.session.scalars(sa.select(Action.assignee_id).where(Action.status == ActionStatus.OPEN))
    ) | set(db.session.scalars(sa.select(Obligation.owner_id)))
    followers = {u.id for u in following.followers()}
    overseers = {u.id for u in portfolio.portfolio_users()}
    return [
        u
        for u in users
        if u.id in assigned
        or u.id in followers
        or u.id in overseers
        or db.session.scalar(access.member_dossier_ids(u, access.DEADLINE_ROLES).limit(1))
        is not None
    ]


def render_text(digest: Digest) -> str:
    with force_locale(_locale(digest.user)):
        return render_template(
            "reports/digest.txt", digest=digest, base_url=public_url(current_app.config)
        )


def _locale(user: User) -> str:
    return user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def message(digest: Digest) -> EmailMessage:
    config = current_app.config
    mail = EmailMessage()
    with force_locale(_locale(digest.user)):
        mail["Subject"] = _(
            "Contract deadlines: %(upcoming)d coming, %(missed)d missed",
            upcoming=len(digest.upcoming) + len(digest.tasks_upcoming),
            missed=len(digest.missed) + len(digest.tasks_missed),
        )
        if digest.followed:
            mail.replace_header(
                "Subject",
                _(
                    "%(subject)s; %(num)d news from followed dossiers",
                    subject=mail["Subject"],
                    num=len(digest.followed),
                ),
            )
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = digest.user.email
    mail.set_content(render_text(digest))
    return mail


def send(messages: Iterable[EmailMessage], config: Mapping[str, Any] | None = None) -> int:
    """Deliver `messages` over one SMTP connection; returns how many were sent."""
    config = config if config is not None else current_app.config
    messages = list(messages)
    if not messages:
        return 0
    security = config["MAIL_SECURITY"]
    smtp_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    kwargs: dict[str, Any] = {"timeout": config["MAIL_TIMEOUT"]}
    if security == "ssl":
        kwargs["context"] = ssl.create_default_context()
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], **kwargs) as smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        for mail in messages:
            smtp.send_message(mail)
    return len(messages)
