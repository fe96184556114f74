"""Webhooks: `webhook-deadlines` produces the deadline-approaching events (daily, like the
digest, which runs it too) and `deliver-webhooks` sends the deliveries that are due."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import with_appcontext

from dossier import deadlines, webhook_delivery, webhooks
from dossier.cli.common import fail, require_database
from dossier.extensions import db


@click.command("webhook-deadlines")
@click.option("--date", "day", default=None, help="Look ahead from this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the count as JSON.")
@with_appcontext
def webhook_deadlines_command(day: str | None, as_json: bool) -> None:
    """Queue `deadline.approaching` for deadlines within WEBHOOK_DEADLINE_DAYS, each once per
    threshold; the worker (or the web process) delivers them."""
    require_database()
    try:
        today = date.fromisoformat(day) if day else deadlines.local_today()
    except ValueError:
        fail(f"{day!r} is not a date; write it as 2026-01-31")
    produced = webhooks.signal_deadlines(today)
    db.session.commit()
    if as_json:
        click.echo(json.dumps({"deadline_events": produced}))
    else:
        click.echo(f"{produced} deadline events queued for webhooks")


@click.command("deliver-webhooks")
@click.option("--json", "as_json", is_flag=True, help="Print the count as JSON.")
@with_appcontext
def deliver_webhooks_command(as_json: bool) -> None:
    """Send every webhook delivery that is due now, once (a worker does this continuously)."""
    require_database()
    handled = 0
    while step := webhook_delivery.deliver_due():
        handled += step
    if as_json:
        click.echo(json.dumps({"handled": handled}))
    else:
        click.echo(f"{handled} webhook deliveries attempted")


COMMANDS = [webhook_deadlines_command, deliver_webhooks_command]
