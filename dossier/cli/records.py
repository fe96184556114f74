"""Records: `import-selection-list`, `propose-disposal` and `purge-disposals`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from dossier import deadlines, records, services
from dossier.cli.common import acting_user, fail, require_database
from dossier.errors import ValidationError
from dossier.extensions import db


@click.command("import-selection-list")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", default=None, help="Record the import as this user.")
@with_appcontext
def import_selection_list_command(file: Path, as_email: str | None) -> None:
    """Add or update selection-list categories from a CSV file (code; description; valuation;
    retention_years; trigger; for_documents). All lines or none."""
    actor = acting_user(as_email)
    try:
        added, updated = records.import_selection_list(actor, file.read_text("utf-8-sig"))
    except (UnicodeDecodeError, ValidationError) as exc:
        db.session.rollback()
        fail(f"{file}: {exc}")
    db.session.commit()
    click.echo(f"{added} categories added, {updated} updated")


def _purge() -> dict[str, int]:
    destroyed = records.purge_due()
    db.session.commit()
    removed = records.remove_destroyed_blobs(services.blob_store())
    return {"lists_destroyed": len(destroyed), "blobs_removed": removed}


@click.command("propose-disposal")
@click.option("--date", "day", default=None, help="Propose as of this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def propose_disposal_command(day: str | None, as_json: bool) -> None:
    """Periodic run: destroy what approved lists hold past their grace period, then propose a
    destruction list of the dossiers now due (none when nothing is due or on hold)."""
    require_database()
    try:
        as_of = date.fromisoformat(day) if day else deadlines.local_today()
    except ValueError:
        fail(f"not a date: {day}")
    outcome: dict[str, object] = dict(_purge())
    listing = records.propose(None, as_of)
    db.session.commit()
    outcome["proposed_list"] = listing.id if listing else None
    outcome["proposed"] = [item.reference for item in listing.items] if listing else []
    if as_json:
        click.echo(json.dumps(outcome, indent=2))
    elif listing is None:
        click.echo("no dossier is due for destruction")
    else:
        click.echo(f"destruction list {listing.id}: {', '.join(outcome['proposed'])}")  # type: ignore[arg-type]


@click.command("purge-disposals")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@with_appcontext
def purge_disposals_command(as_json: bool) -> None:
    """Destroy, irreversibly, what approved destruction lists hold once their grace period has
    passed, and remove blobs left behind by an interrupted run."""
    require_database()
    outcome = _purge()
    if as_json:
        click.echo(json.dumps(outcome))
        return
    click.echo(
        f"{outcome['lists_destroyed']} lists destroyed, {outcome['blobs_removed']} blobs gone"
    )


COMMANDS = [import_selection_list_command, propose_disposal_command, purge_disposals_command]
