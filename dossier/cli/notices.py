"""Notices: `deliver-notices` mails what could not be mailed when a notice was sent."""

from __future__ import annotations

import json
import smtplib

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from dossier import notices
from dossier.cli.common import fail, require_database
from dossier.extensions import db
from dossier.models import Notice, NoticeRecipient


@click.command("deliver-notices")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@with_appcontext
def deliver_notices_command(as_json: bool) -> None:
    """Mail every notice recipient not mailed yet (the mail server was down when it was sent);
    who lost access to the dossier since is left out."""
    require_database()
    pending = sa.select(NoticeRecipient.notice_id).where(NoticeRecipient.emailed_at.is_(None))
    found = list(db.session.scalars(sa.select(Notice).where(Notice.id.in_(pending))))
    sent = 0
    try:
        for notice in found:
            sent += notices.deliver(notice)
            db.session.commit()  # each notice's receipts as soon as its mails are out
    except (OSError, smtplib.SMTPException) as exc:
        db.session.rollback()
        fail(f"cannot send through {current_app.config['MAIL_SERVER']}: {exc}")
    if as_json:
        click.echo(json.dumps({"notices": len(found), "sent": sent}))
    else:
        click.echo(f"{sent} notice e-mails sent ({len(found)} notices had recipients waiting)")


COMMANDS = [deliver_notices_command]
