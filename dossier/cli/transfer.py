"""Transfer packages in MDTO: `dossier transfer export` and `dossier transfer verify`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from dossier import access, deadlines, records, transfer, transfer_verify
from dossier.cli.common import acting_user, fail
from dossier.extensions import db
from dossier.models import Dossier


@click.group("transfer", cls=AppGroup)
def transfer_group() -> None:
    """Transfer (overbrenging) packages in MDTO for an archive."""


def _selection(references: tuple[str, ...], category: str | None, ended: bool) -> list[Dossier]:
    if references:
        found = list(
            db.session.scalars(sa.select(Dossier).where(Dossier.reference.in_(references)))
        )
        unknown = sorted(set(references) - {d.reference for d in found})
        if unknown:
            fail(f"no dossier {', '.join(unknown)}")
    else:
        found = list(db.session.scalars(sa.select(Dossier).order_by(Dossier.reference)))
    if category:
        if records.category_by_code(category) is None:
            fail(f"no selection-list category {category}")
        cache = records.Lookup.load()
        found = [d for d in found if (c := records.category_of(d, cache)[0]) and c.code == category]
    if ended:
        found = [d for d in found if d.status in deadlines.CLOSED]
    return sorted(found, key=lambda d: d.reference)


@transfer_group.command("export")
@click.argument("references", nargs=-1)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="A new folder, or a file ending in .zip.",
)
@click.option("--category", default=None, help="Every dossier of this selection-list category.")
@click.option("--ended", is_flag=True, help="Only dossiers that are ended, terminated or archived.")
@click.option("--as", "as_email", default=None, help="Act as this user (default: first admin).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def export_command(
    references: tuple[str, ...],
    out: Path,
    category: str | None,
    ended: bool,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Write the MDTO transfer package of the dossiers named (or selected by --category and
    --ended) to OUT; audited per dossier. Nothing is written when anything is wrong."""
    actor = acting_user(as_email)
    if not access.can_export_transfer(actor):
        fail(f"{actor.email} may not export transfer packages (archivists and administrators)")
    if not references and not category:
        fail("name the dossiers, or select them with --category")
    dossiers = _selection(references, category, ended)
    if not dossiers:
        fail("no dossier matches the selection")
    try:
        summary = transfer.export(actor, dossiers, out)
    except (transfer.TransferError, OSError) as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    outcome = {
        "package": str(summary.path),
        "dossiers": summary.dossiers,
        "archiefstukken": summary.archiefstukken,
        "files": summary.files,
        "renditions": summary.renditions,
    }
    if as_json:
        click.echo(json.dumps(outcome, indent=2))
    else:
        click.echo(
            f"{out}: {len(summary.dossiers)} dossiers, {summary.archiefstukken} archiefstukken, "
            f"{summary.files} files ({summary.renditions} PDF/A renditions)"
        )


@transfer_group.command("verify", with_appcontext=False)
@click.argument("package", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the faults as JSON.")
def verify_command(package: Path, as_json: bool) -> None:
    """Check a transfer package offline: manifests and checksums, every MDTO sidecar against
    the MDTO 1.0.1 schema, every file against its sidecar, the audit excerpt's hashes. Exits
    with 1 on any fault."""
    problems = transfer_verify.verify(package)
    if as_json:
        click.echo(json.dumps([{"path": p.path, "problem": p.message} for p in problems], indent=2))
    elif problems:
        for problem in problems:
            click.echo(f"FAULT {problem}")
        click.echo(f"{len(problems)} faults in {package}")
    else:
        click.echo(f"{package}: sound")
    if problems:
        sys.exit(1)


COMMANDS = [transfer_group]
