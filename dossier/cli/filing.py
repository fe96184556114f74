"""Filing from the command line: `import` of folders and `register import`/`register export`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale

from dossier import (
    access,
    dossiers,
    importer,
    indexing,
    register_io,
    spend_import,
    spend_matching,
    timings,
)
from dossier.cli.common import LANG_OPTION, acting_user, fail
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.i18n import COMMAND_LINE_LOCALE
from dossier.models import DocumentKind, SpendImportStatus, User


@click.command("import")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--dossier",
    "reference",
    default=None,
    help="Reference of the dossier to file into (default: made from the folder name).",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in DocumentKind]),
    default=None,
    help="Kind for every file (default: guessed from the file name).",
)
@click.option("--as", "as_email", default=None, help="Act as this user (default: first admin).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def import_command(
    path: Path, reference: str | None, kind: str | None, as_email: str | None, as_json: bool
) -> None:
    """Import a folder of files as one dossier, or a folder of folders as one dossier each.

    Every file is committed on its own, so refused files are listed and the rest kept.
    """
    actor = acting_user(as_email)
    try:
        plan = importer.scan(path)
    except (DomainError, OSError) as exc:
        fail(str(exc) if isinstance(exc, DomainError) else f"cannot read {path}: {exc.strerror}")
    targets = [(folder, file) for folder, files in plan.groups for file in files]
    if not targets and not plan.refused:
        fail(f"{path} holds no files to import (hidden files and empty folders are skipped)")
    if reference is None:
        for folder in dict.fromkeys(folder for folder, _path in targets):
            if importer.reference_shortened(folder):
                click.echo(
                    f"Folder name {importer.readable_name(folder.name)!r} is longer than "
                    f"{dossiers.REFERENCE_MAX} characters: dossier reference "
                    f"{importer.reference_for(folder)}",
                    err=True,
                )
    outcomes: dict[str, importer.Outcome] = {}
    for entry, reason in plan.refused:
        ref = reference or importer.reference_for(entry.parent)
        outcome = outcomes.setdefault(ref, importer.Outcome())
        outcome.refused.append((importer.readable_name(entry.name), reason))
    # The extraction workers start on the first filed files while the next ones are filed.
    with indexing.Extractions() as extractions:
        with click.progressbar(
            targets,
            label="Importing",
            file=sys.stderr,
            item_show_func=lambda t: importer.readable_name(t[1].name)[:40] if t else "",
        ) as bar:
            for folder, file_path in bar:
                with timings.timed("filing"):
                    _import_one(actor, path, folder, file_path, reference, kind, outcomes)
                    indexing.begin_extractions(extractions)
        if not as_json:
            click.echo(f"Extracting text and indexing {indexing.pending()} queued items ...")
        indexing.drain(extractions=extractions)
    timings.report()
    _print_import(outcomes, as_json)
    if any(o.refused for o in outcomes.values()):
        sys.exit(2)


def _import_one(
    actor: User,
    root: Path,
    folder: Path,
    file_path: Path,
    reference: str | None,
    kind: str | None,
    outcomes: dict[str, importer.Outcome],
) -> None:
    name = importer.readable_name(file_path.name)
    try:
        dossier = importer.find_or_create_dossier(actor, folder, reference)
        outcome = outcomes.setdefault(dossier.reference, importer.Outcome())
        result = importer.import_file(
            actor, dossier, file_path, DocumentKind(kind) if kind else None, root=root
        )
        db.session.commit()
    except importer.DuplicateFile as exc:
        db.session.rollback()
        outcome.duplicates.append((name, str(exc)))
        return
    except (DomainError, OSError) as exc:  # OSError: the file cannot be read
        db.session.rollback()
        reason = f"cannot read the file: {exc.strerror}" if isinstance(exc, OSError) else str(exc)
        ref = reference or importer.reference_for(folder)
        outcomes.setdefault(ref, importer.Outcome()).refused.append((name, reason))
        return
    target = {
        "filed": outcome.filed,
        "version": outcome.new_versions,
        "unchanged": outcome.unchanged,
    }[result]
    target.append(name)


def _print_import(outcomes: dict[str, importer.Outcome], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({ref: vars(o) for ref, o in outcomes.items()}, indent=2))
        return
    for ref, outcome in outcomes.items():
        click.echo(
            f"{ref}: {len(outcome.filed)} filed, {len(outcome.new_versions)} new versions, "
            f"{len(outcome.unchanged)} unchanged, {len(outcome.refused)} refused, "
            f"{len(outcome.duplicates)} duplicates"
        )
        for name, reason in outcome.refused:
            click.echo(f"  refused {name}: {reason}")
        for name, where in outcome.duplicates:
            click.echo(f"  duplicate {name}: {where}")


@click.group("register", cls=AppGroup)
def register_group() -> None:
    """The contract register as a spreadsheet (CSV or XLSX)."""


@register_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", default=None, help="Act as this user (default: first admin).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def register_import(file: Path, as_email: str | None, as_json: bool) -> None:
    """Create or update one dossier per row; rows with errors are reported and skipped whole."""
    actor = acting_user(as_email)
    try:
        report = register_io.import_register(actor, file)
    except DomainError as exc:
        db.session.rollback()
        fail(str(exc))
    db.session.commit()
    if as_json:
        click.echo(json.dumps(vars(report), indent=2))
    else:
        click.echo(
            f"{len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.errors)} rows with errors"
        )
        for number, message in report.errors:
            click.echo(f"  row {number}: {message}")
    if report.errors:
        sys.exit(2)


@register_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "as_email", default=None, help="Export what this user may see.")
@LANG_OPTION
@with_appcontext
def register_export(file: Path, as_email: str | None, lang: str) -> None:
    """Write the register to FILE (.csv or .xlsx).

    The header holds the field names (reference, cpv_code, ...) whatever --lang, which only
    chooses the CSV dialect; `dossier register import` reads them, and the labels too.
    """
    if file.suffix.lower() not in (".csv", ".xlsx"):
        fail("the file name must end in .csv or .xlsx")
    try:
        count = register_io.export_register(acting_user(as_email), file, locale=lang)
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    click.echo(f"{count} dossiers written to {file}")


@click.command("import-spend")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default=None, help="The financial system the file comes from.")
@click.option("--as", "as_email", default=None, help="Act as this user (default: first admin).")
@click.option("--dry-run", is_flag=True, help="Only show what would be booked.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def import_spend_command(
    file: Path, source: str | None, as_email: str | None, dry_run: bool, as_json: bool
) -> None:
    """Import spend from the financial system (.csv or .xlsx): every row or nothing.

    Lines an earlier import booked are recognised and not booked again; a file with a bad row
    books nothing (exit status 2) and lists every bad row.
    """
    actor = acting_user(as_email)
    if not access.can_import_spend(actor):
        fail(f"{actor.email} may not import spend (admin or global beheerder only)")
    with force_locale(COMMAND_LINE_LOCALE):
        try:
            preview = spend_import.preview(
                actor, file, source or current_app.config["SPEND_DEFAULT_SOURCE"], file.name
            )
            item = preview.spend_import
            booked = 0
            if preview.can_commit and not dry_run:
                booked = spend_import.commit(actor, item)
            else:
                spend_import.discard(item)
        except DomainError as exc:
            db.session.rollback()
            fail(str(exc))
    db.session.commit()
    committed = item.status == SpendImportStatus.COMMITTED
    outcome = {
        "import_id": item.id,
        "rows": item.row_count,
        "new": booked if committed else item.new_count,
        "already_imported": item.known_count,
        "committed": committed,
        "errors": [{"row": n, "message": m} for n, m in preview.errors],
        "unknown_suppliers": len(spend_matching.unknown_suppliers()),
    }
    if as_json:
        click.echo(json.dumps(outcome, indent=2, ensure_ascii=False))
    else:
        verb = "booked" if committed else "would be booked"
        click.echo(
            f"{item.row_count} rows: {outcome['new']} new lines {verb}, "
            f"{item.known_count} already imported, {len(preview.errors)} rows with errors"
        )
        if not preview.errors and not outcome["new"]:
            click.echo("Nothing changed: every line was already imported.")
        for number, message in preview.errors:
            click.echo(f"  row {number}: {message}")
    if preview.errors:
        sys.exit(2)


COMMANDS = [import_command, register_group, import_spend_command]
