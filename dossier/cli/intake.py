"""`dossier intake`: the mail and folder intake as a service (a loop), or one pass (--once)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from dossier import folder_intake, indexing, mail_intake
from dossier.cli.common import acting_user, fail
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import User


@click.command("intake")
@click.option("--once", is_flag=True, help="Run one pass and stop.")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds between passes (default: INTAKE_INTERVAL_SECONDS).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what each pass did as JSON.")
@with_appcontext
def intake_command(once: bool, interval: float | None, as_json: bool) -> None:
    """Poll the IMAP mailbox (IMAP_HOST) and the watched folder (INTAKE_FOLDER), filing what
    names its dossier and queueing the rest, as the user INTAKE_AS."""
    config = current_app.config
    if not config.get("INTAKE_AS"):
        fail("set INTAKE_AS (DOSSIER_INTAKE_AS) to the e-mail address of the intake user")
    if not config.get("IMAP_HOST") and not config.get("INTAKE_FOLDER"):
        fail("nothing to do: set IMAP_HOST for mail intake and/or INTAKE_FOLDER for folder intake")
    actor = acting_user(config["INTAKE_AS"])
    pause = interval or float(config["INTAKE_INTERVAL_SECONDS"])
    while True:
        failed = _pass(actor, config, as_json)
        if once:
            raise SystemExit(1 if failed else 0)
        time.sleep(pause)


def _pass(actor: User, config: Any, as_json: bool) -> bool:
    """One pass of both intakes; True when one of them could not run (it is reported)."""
    report: dict[str, Any] = {}
    failed = False
    if config.get("IMAP_HOST"):
        try:
            report["mail"] = asdict(mail_intake.poll(actor, config))
        except DomainError as exc:
            report["mail"] = {"error": str(exc)}
            failed = True
        except Exception as exc:  # noqa: BLE001 - a service reports and goes on, no traceback
            db.session.rollback()
            report["mail"] = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
    if config.get("INTAKE_FOLDER"):
        root = Path(config["INTAKE_FOLDER"])
        try:
            found = folder_intake.scan(actor, root, float(config["INTAKE_MIN_AGE_SECONDS"]))
            report["folder"] = asdict(found)
        except OSError as exc:
            report["folder"] = {"error": f"cannot read {root}: {exc.strerror or exc}"}
            failed = True
        except Exception as exc:  # noqa: BLE001 - a service reports and goes on, no traceback
            db.session.rollback()
            report["folder"] = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
    indexing.drain()
    _print(report, as_json)
    return failed


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report))
        return
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for source, outcome in report.items():
        if "error" in outcome:
            click.echo(f"{stamp} {source}: {outcome['error']}", err=True)
            continue
        counts = ", ".join(f"{len(names)} {what}" for what, names in outcome.items())
        click.echo(f"{stamp} {source}: {counts}")
        for what, names in outcome.items():
            for name in names:
                click.echo(f"  {what}: {name}")


COMMANDS = [intake_command]
