"""The `dossier` command line: set-up, serving, filing, register import/export and checks."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import smtplib
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from flask_babel import force_locale

from dossier import (
    access,
    accounts,
    audit,
    backup,
    crash,
    database,
    deadlines,
    digest,
    documents,
    dossiers,
    groups,
    importer,
    indexing,
    labels,
    memberships,
    recovery,
    register_io,
    reports,
    searching,
    services,
    timings,
    verify,
)
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.i18n import COMMAND_LINE_LOCALE
from dossier.models import (
    AuditEvent,
    Document,
    DocumentKind,
    Dossier,
    GlobalRole,
    MemberRole,
    User,
)
from dossier.spreadsheets import table_bytes
from search.index import QueryRefused
from storage import make_private_dir

LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["en", "nl"]),
    default=COMMAND_LINE_LOCALE,
    show_default=True,
    help="Language of labels; nl also writes CSV with ; and decimal commas for Dutch Excel.",
)
FIRST_ADMIN_EMAIL = accounts.FIRST_ADMIN_EMAIL
FIRST_ADMIN_FILE = accounts.FIRST_ADMIN_FILE


def _create_app() -> Any:
    from dossier import create_app

    return create_app()


@click.group(cls=AppGroup)
def cli() -> None:
    """Dossier: versioned contract dossiers."""


def main() -> None:
    """Entry point of the `dossier` console script."""
    # Whatever the command writes (index segments, exports, backups) is the owner's alone;
    # the code also sets explicit modes where it creates the instance's files (R16).
    os.umask(0o077)
    cli(obj=ScriptInfo(create_app=_create_app, set_debug_flag=False))


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _require_database() -> None:
    """Stop with advice instead of a traceback when `dossier init` has not made the tables."""
    if not sa.inspect(db.engine).has_table(User.__tablename__):
        _fail("the database has no tables yet; run `dossier init` first")


def _actor(email: str | None) -> User:
    """The user a command acts as: --as EMAIL, or the first administrator."""
    _require_database()
    query = sa.select(User).where(User.is_enabled.is_(True))
    if email:
        query = query.where(User.email == email.strip().lower())
    else:
        query = query.where(User.global_role == GlobalRole.ADMIN).order_by(User.id)
    user = db.session.scalars(query.limit(1)).first()
    if user is None:
        _fail(f"no enabled user {email}" if email else "no administrator; run `dossier init`")
    return user  # type: ignore[return-value]


@cli.command("init")
@with_appcontext
def init_command() -> None:
    """Create or migrate the instance and make a first administrator if there is none."""
    for key in ("STAGING_DIR", "BLOB_ROOT"):
        make_private_dir(current_app.config[key])
    database.create_or_upgrade()
    _anchor_audit_head()
    if repaired := documents.repair_confidential_attachments():
        db.session.commit()
        click.echo(f"{repaired} attachments of confidential e-mails made confidential")
    password_file = Path(current_app.instance_path) / FIRST_ADMIN_FILE
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
        password = accounts.generate_password()
        _write_private(password_file, password + "\n")  # first, so the password is never lost
        accounts.create_user(
            None,
            FIRST_ADMIN_EMAIL,
            "Beheerder",
            password,
            GlobalRole.ADMIN,
            must_change_password=True,
        )
        db.session.commit()
    click.echo(f"Instance ready in {current_app.instance_path}")
    if password_file.exists():
        click.echo(
            f"Log in as {FIRST_ADMIN_EMAIL} with password {password_file.read_text().strip()}"
            f"  (kept in {password_file} until you change it)"
        )


def _anchor_audit_head() -> None:
    """Anchor the chain head of an instance made before heads were anchored (once)."""
    path = current_app.config["AUDIT_ANCHOR_PATH"]
    if audit.read_anchor(path) is None:
        head = db.session.execute(
            sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        ).first()
        if head is not None:
            audit.advance_anchor(path, head.id, head.hash)
        db.session.rollback()


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by the owner only, from its creation on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


@cli.command("run")
@click.option(
    "--host", default=None, help="Address to listen on (default: DOSSIER_HOST, else 127.0.0.1)."
)
@click.option("--port", default=None, type=int, help="Port (default: DOSSIER_PORT, else 5000).")
@with_appcontext
def run_command(host: str | None, port: int | None) -> None:
    """Serve the web UI with waitress, a production WSGI server."""
    from waitress import create_server

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file-size limit becomes an error
    _require_database()
    _recover()
    config = current_app.config
    host, port = host or config["HOST"], port or config["PORT"]
    try:
        server = create_server(
            current_app._get_current_object(),
            host=host,
            port=port,
            threads=config["THREADS"],
            max_request_body_size=config["MAX_CONTENT_LENGTH"],
            connection_limit=_connection_limit(config["CONNECTION_LIMIT"]),
            channel_timeout=config["CHANNEL_TIMEOUT"],
            cleanup_interval=config["CLEANUP_INTERVAL"],
            backlog=config["BACKLOG"],
            asyncore_use_poll=True,  # select() cannot watch descriptors numbered above 1023
            ident="dossier",
        )
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror} (is Dossier already running?)")
    # Links in mails sent by this process point at where it really listens (unless BASE_URL).
    config["HOST"], config["PORT"] = host, getattr(server, "effective_port", port)
    if config["INDEXING"] == "thread":
        indexing.kick(current_app._get_current_object())  # work left by a crash or by commands
    click.echo(f"Dossier is running at http://{host}:{config['PORT']}/  (stop with Ctrl+C)")
    server.run()


# Descriptors kept free beside the connections: database, blobs, index segments, extraction.
RESERVED_FILES = 256


def _connection_limit(wanted: int) -> int:
    """The connection limit the open-files limit allows, raising the soft limit when it can.

    A waitress that runs out of descriptors cannot accept or open anything, so rather than
    failing under a flood the limit is lowered to what the process may open.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft != resource.RLIM_INFINITY and soft < needed:
        allowed = max(soft - RESERVED_FILES, 16)
        click.echo(
            f"The open-files limit ({soft}) allows {allowed} connections instead of {wanted}; "
            "raise it (ulimit -n, LimitNOFILE=) to serve more.",
            err=True,
        )
        return allowed
    return wanted


def _recover() -> None:
    """Start-up recovery: clean what a crash left behind before serving or indexing."""
    found = recovery.recover()
    if found.staging_files or found.scratch_folders or found.blob_temp_files:
        click.echo(
            f"Recovered from an earlier crash: removed {found.staging_files} staging files, "
            f"{found.scratch_folders} scratch folders, {found.blob_temp_files} blob temp files",
            err=True,
        )
    if found.queued_work:
        click.echo(f"{found.queued_work} outbox items queued for indexing", err=True)


@cli.command("create-user")
@click.argument("email")
@click.option("--name", default="", help="Full name (default: the e-mail address).")
@click.option(
    "--role",
    type=click.Choice([r.value for r in GlobalRole] + ["none"]),
    default="none",
    help="Global role.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Add a user who can log in."""
    _require_database()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            None, email, name, password, None if role == "none" else GlobalRole(role)
        )
    except ValidationError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Created user {user.email}")


@cli.command("import")
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
    actor = _actor(as_email)
    try:
        plan = importer.scan(path)
    except (DomainError, OSError) as exc:
        _fail(str(exc) if isinstance(exc, DomainError) else f"cannot read {path}: {exc.strerror}")
    targets = [(folder, file) for folder, files in plan.groups for file in files]
    if not targets and not plan.refused:
        _fail(f"{path} holds no files to import (hidden files and empty folders are skipped)")
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


@cli.group("register")
def register_group() -> None:
    """The contract register as a spreadsheet (CSV or XLSX)."""


@register_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_email", default=None, help="Act as this user (default: first admin).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def register_import(file: Path, as_email: str | None, as_json: bool) -> None:
    """Create or update one dossier per row; rows with errors are reported and skipped whole."""
    actor = _actor(as_email)
    try:
        report = register_io.import_register(actor, file)
    except DomainError as exc:
        db.session.rollback()
        _fail(str(exc))
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
        _fail("the file name must end in .csv or .xlsx")
    try:
        count = register_io.export_register(_actor(as_email), file, locale=lang)
    except OSError as exc:
        _fail(f"cannot write {file}: {exc.strerror or exc}")
    click.echo(f"{count} dossiers written to {file}")


@cli.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--backup",
    "backups",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also check that the audit trail still holds this backup's chain head (repeatable).",
)
@with_appcontext
def verify_command(as_json: bool, backups: tuple[Path, ...]) -> None:
    """Re-hash every blob; check rows, blobs, numbering, the audit chain and its anchored head,
    the database and the search index.

    Exit 1 on a fault; index work still queued is listed as pending, not as a fault.
    """
    _require_database()
    grace = timedelta(hours=float(current_app.config["VERIFY_ORPHAN_GRACE_HOURS"]))
    try:
        anchors = [(backup.manifest_head(path), str(path / backup.MANIFEST)) for path in backups]
    except backup.BackupError as exc:
        _fail(str(exc))
    with database.read_only():
        report = verify.run(services.blob_store(), grace=grace, anchors=anchors)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(
            f"{report.versions} versions, {report.blobs} blobs, "
            f"{report.audit_events} audit events, {report.index_units} index units checked "
            f"({', '.join(report.checks)})"
        )
        for note in report.notes:
            click.echo(f"info {note.kind}: {note.subject}: {note.detail}")
        for problem in report.problems:
            click.echo(f"PROBLEM {problem.kind}: {problem.subject}: {problem.detail}")
        for note in report.pending:
            click.echo(f"PENDING {note.kind}: {note.subject}: {note.detail}")
        click.echo(
            "OK: nothing lost, nothing altered"
            if report.ok
            else f"FAILED: {len(report.problems)} problems"
        )
    sys.exit(0 if report.ok else 1)


@cli.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@with_appcontext
def backup_command(path: Path, as_json: bool) -> None:
    """Back up the database, the blobs and the audit chain head into PATH (never the index)."""
    _require_database()
    try:
        manifest = backup.backup(path)
    except backup.BackupError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(manifest, indent=2))
        return
    head = manifest["audit_head"]
    click.echo(
        f"Backup written to {path}: {manifest['database']['file']}, "
        f"{len(manifest['blobs'])} blobs, audit chain head event {head['id']} "
        f"({head['events']} events)"
    )


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an instance that already holds data.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def restore_command(path: Path, force: bool, as_json: bool) -> None:
    """Restore a backup made by `dossier backup` after checking every checksum in it, then
    rebuild the search index from the restored text (a backup never holds the index).

    Stop the server first. Afterwards run `dossier verify`.
    """
    try:
        outcome = backup.restore(path, force=force)
    except backup.BackupError as exc:
        _fail(str(exc))
    except OSError as exc:  # an unreadable file or folder in the backup, or a full disk
        _fail(f"the restore stopped: {exc.strerror or exc} ({exc.filename or path})")
    db.session.remove()
    with indexing.writer_lock():
        outcome["indexed_documents"] = indexing.rebuild()
    db.session.commit()
    if as_json:
        click.echo(json.dumps(outcome, indent=2))
        return
    manifest = outcome["manifest"]
    click.echo(
        f"Restored the backup of {manifest['created_at']}: {len(manifest['blobs'])} blobs, "
        f"audit chain head event {manifest['audit_head']['id']} checked"
    )
    if outcome["displaced_blobs"]:
        click.echo(
            f"{outcome['displaced_blobs']} blobs not in the backup, or damaged, were moved "
            f"aside into {current_app.instance_path}"
        )
    click.echo(f"Search index rebuilt: {outcome['indexed_documents']} documents")
    click.echo("Now run `dossier verify`.")


@cli.command("worker")
@click.option("--once", is_flag=True, help="Drain the outbox once and stop.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Extract and index filed versions from the outbox (for several web processes)."""
    _require_database()
    _recover()
    click.echo("Dossier worker started" + (" (once)" if once else "; stop with Ctrl+C"))
    while True:
        done = indexing.drain()
        if done:
            click.echo(f"{done} outbox items processed, {indexing.pending()} pending")
        # End the polling transaction: on SQLite it began as a writer, and an idle worker must
        # not hold the write lock while it sleeps (web requests would time out waiting for it).
        db.session.close()
        if once:
            return
        time.sleep(interval)


@cli.command("reindex")
@click.option(
    "--processes",
    type=click.IntRange(1, 16),
    default=lambda: min(2, os.cpu_count() or 1),
    show_default="2 on a machine with two or more cores",
    help="Indexing processes (each takes up to about 500 MB).",
)
@with_appcontext
def reindex_command(processes: int) -> None:
    """Rebuild the search index from the text stored in the database."""
    _require_database()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Document)) or 0
    with (
        indexing.writer_lock(),
        click.progressbar(length=total, label="Indexing documents", file=sys.stderr) as bar,
    ):
        seen = {"n": 0}

        def progress(documents_done: int) -> None:
            bar.update(documents_done - seen["n"])
            seen["n"] = documents_done

        count = indexing.rebuild(progress, processes=processes)
    click.echo(f"Index rebuilt: {count} documents")


@cli.command("search")
@click.argument("query")
@click.option("--as", "as_email", required=True, help="Search with this user's rights.")
@click.option("--clauses", is_flag=True, help="Clause hits instead of documents.")
@click.option("--dossier", "reference", default=None, help="Only in this dossier.")
@click.option("--old", is_flag=True, help="Include earlier versions.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@with_appcontext
def search_command(
    query: str,
    as_email: str,
    clauses: bool,
    reference: str | None,
    old: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Search with a user's permissions, as the web search does."""
    actor = _actor(as_email)
    options: dict[str, Any] = {
        "mode": "clauses" if clauses else "documents",
        "per_page": limit,
        "include_old_versions": old,
    }
    if reference:
        options["dossier_id"] = searching.dossier_id_for(actor, reference)
        if options["dossier_id"] is None:
            _fail(f"no dossier {reference} that {actor.email} may see")
    try:
        outcome = searching.search(actor, query, **options)
    except QueryRefused as exc:
        _fail(str(exc))
    _print_hits(outcome, clauses, as_json)


def _print_hits(outcome: searching.Outcome, clauses: bool, as_json: bool) -> None:
    hits = outcome.result.hits
    if as_json:
        click.echo(
            json.dumps(
                [
                    searching.hit_as_dict(h, clauses, h.document_id in outcome.withheld)
                    for h in hits
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if outcome.degraded:
        click.echo("(the index is being rebuilt; these results come from a simpler search)")
    shown, total = len(outcome.result.hits), outcome.result.total
    more = f", the first {shown} shown (--limit to see more)" if shown < total else ""
    click.echo(f"{total} results{more}")
    for hit in hits:
        where = f"{hit.dossier_reference} · {hit.title} · v{hit.version_number}"
        clause = (
            f" · {hit.clause_number} {hit.heading}".rstrip()
            if hit.clause_number or hit.heading
            else ""
        )
        page = f" · p.{hit.page}" if hit.page else ""
        click.echo(f"- {where}{clause}{page}  [{hit.score:.2f}]")
        if hit.document_id in outcome.withheld:
            click.echo("    (confidential: the text shows when the document is opened)")
        else:
            click.echo(f"    {searching.plain_snippet(hit.snippet)}")


def _parse_day(value: str | None) -> date:
    if not value:
        return deadlines.local_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{value!r} is not a date; write it as 2026-01-31")
    raise AssertionError  # unreachable: _fail exits


@cli.command("digest")
@click.option("--send", is_flag=True, help="Mail each digest (default: print them).")
@click.option("--date", "day", default=None, help="Compose as of this date (YYYY-MM-DD).")
@with_appcontext
def digest_command(send: bool, day: str | None) -> None:
    """Compose the daily digest of coming and missed deadlines for every manager and beheerder."""
    _require_database()
    today = _parse_day(day)
    with database.read_only():
        composed = [digest.compose(user, today) for user in digest.recipients()]
        wanted = [d for d in composed if not d.is_empty]
        if not send:
            for item in wanted:
                click.echo(f"To: {item.user.email}\n\n{digest.render_text(item)}\n")
            click.echo(f"{len(wanted)} digests composed ({len(composed) - len(wanted)} empty)")
            return
        messages = [digest.message(item) for item in wanted]
    try:
        sent = digest.send(messages)
    except (OSError, smtplib.SMTPException) as exc:
        _fail(f"cannot send through {current_app.config['MAIL_SERVER']}: {exc}")
    click.echo(f"{sent} digests sent ({len(composed) - len(wanted)} recipients had none)")


@cli.command("report")
@click.argument("name", type=click.Choice(["deadlines", "tenders", "value", "completeness"]))
@click.option("--as", "as_email", required=True, help="Report over what this user may see.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--date", "day", default=None, help="Compute as of this date (YYYY-MM-DD).")
@LANG_OPTION
@with_appcontext
def report_command(
    name: str, as_email: str, fmt: str, output: Path | None, day: str | None, lang: str
) -> None:
    """Print or write one management report (csv, xlsx or json) for scripts.

    CSV and XLSX cells carry the labels of the screen in --lang; JSON keeps the codes and adds
    each translated label under "<column>_label".
    """
    actor = _actor(as_email)
    with database.read_only():
        table = reports.table(actor, name, _parse_day(day))
    assert table is not None
    with force_locale(lang):
        shown = labels.report_rows(table)
    if fmt == "json":
        records = []
        for record, labelled in zip(table.records(), shown, strict=True):
            extra = {
                f"{key}_label": text
                for key, text, code in zip(table.keys, labelled, record.values(), strict=True)
                if isinstance(text, str) and text != code
            }
            records.append({**record, **extra})
        body = json.dumps(audit.jsonable(records), ensure_ascii=False, indent=2).encode()
    else:
        if fmt == "xlsx" and output is None:
            _fail("an XLSX report needs --output FILE")
        body = table_bytes(fmt, table.keys, shown, sheet_title=name, locale=lang)
    if output is None:
        sys.stdout.buffer.write(body if fmt == "json" else body.removeprefix(b"\xef\xbb\xbf"))
        sys.stdout.flush()
        return
    try:
        output.write_bytes(body)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"{len(table.rows)} rows written to {output}", err=True)


# Access administration: the same domain functions as the web pages, audited alike.

ROLE_CHOICE = click.Choice([r.value for r in MemberRole])
AS_OPTION = click.option(
    "--as", "as_email", default=None, help="Act as this user (default: first admin)."
)


def _managed_dossier(actor: User, reference: str) -> Dossier:
    """The dossier `actor` may manage the members of, or a clear error."""
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == reference))
    if dossier is None or not access.can_view_dossier(actor, dossier):
        _fail(f"no dossier {reference} that {actor.email} may see")
    if not access.can_manage_members(actor, dossier):  # type: ignore[arg-type]
        _fail(f"{actor.email} may not manage the members of dossier {reference}")
    return dossier  # type: ignore[return-value]


def _administrator(as_email: str | None) -> User:
    actor = _actor(as_email)
    if not access.can_administer(actor):
        _fail(f"{actor.email} is not an administrator")
    return actor


@cli.command("grant")
@click.argument("who", metavar="EMAIL|GROUP")
@click.argument("reference", metavar="REF")
@click.argument("role", type=ROLE_CHOICE)
@AS_OPTION
@with_appcontext
def grant_command(who: str, reference: str, role: str, as_email: str | None) -> None:
    """Give a user or group exactly ROLE on dossier REF (a new grant or a role change)."""
    actor = _actor(as_email)
    dossier = _managed_dossier(actor, reference)
    try:
        principal = memberships.find_principal(who)
        changed = memberships.set_role(actor, dossier, principal, MemberRole(role))[1]
    except DomainError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    crash.point("membership.after_commit")
    label = memberships.label(principal)
    click.echo(
        f"{label} is now {role} on {reference}"
        if changed
        else f"{label} already was {role} on {reference}; nothing changed"
    )


@cli.command("revoke")
@click.argument("who", metavar="EMAIL|GROUP")
@click.argument("reference", metavar="REF")
@click.argument("role", type=ROLE_CHOICE, required=False)
@AS_OPTION
@with_appcontext
def revoke_command(who: str, reference: str, role: str | None, as_email: str | None) -> None:
    """Take away a user's or group's role on dossier REF (only if it is ROLE, when given)."""
    actor = _actor(as_email)
    dossier = _managed_dossier(actor, reference)
    try:
        principal = memberships.find_principal(who)
        memberships.revoke(actor, dossier, principal, MemberRole(role) if role else None)
    except DomainError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    crash.point("membership.revoke_after_commit")
    click.echo(f"{memberships.label(principal)} no longer has a role on {reference}")


@cli.command("create-group")
@click.argument("name")
@click.option("--member", "members", multiple=True, metavar="EMAIL", help="Repeat for each.")
@AS_OPTION
@with_appcontext
def create_group_command(name: str, members: tuple[str, ...], as_email: str | None) -> None:
    """Create a group (department) with its first members."""
    actor = _administrator(as_email)
    try:
        people = [accounts.find_user(email) for email in members]
        group = groups.create_group(actor, name, people)
    except DomainError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Created group {group.name} with {len(group.members)} members")


@cli.command("disable-user")
@click.argument("email")
@AS_OPTION
@with_appcontext
def disable_user_command(email: str, as_email: str | None) -> None:
    """Disable an account: it can no longer log in and every session of it ends."""
    actor = _administrator(as_email)
    try:
        changed = accounts.set_enabled(actor, accounts.find_user(email), False)
    except DomainError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    click.echo(f"Disabled {email}" if changed else f"{email} was already disabled")
