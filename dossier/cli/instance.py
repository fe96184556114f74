"""Setting up and running an instance: `init`, `run` and `worker`."""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import threading
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from dossier import accounts, audit, database, documents, indexing, recovery, webhook_delivery
from dossier.cli.common import fail, require_database
from dossier.extensions import db
from dossier.models import AuditEvent, GlobalRole, User
from search.expansion import warm_up
from storage import make_private_dir

log = logging.getLogger(__name__)

FIRST_ADMIN_EMAIL = accounts.FIRST_ADMIN_EMAIL
FIRST_ADMIN_FILE = accounts.FIRST_ADMIN_FILE


@click.command("init")
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
            "Applicatiebeheerder",  # the system's administrator, not a dossier's beheerder
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


@click.command("run")
@click.option(
    "--host", default=None, help="Address to listen on (default: DOSSIER_HOST, else 127.0.0.1)."
)
@click.option("--port", default=None, type=int, help="Port (default: DOSSIER_PORT, else 5000).")
@with_appcontext
def run_command(host: str | None, port: int | None) -> None:
    """Serve the web UI with waitress, a production WSGI server."""
    from waitress import create_server

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a full file-size limit becomes an error
    require_database()
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
        fail(f"cannot listen on {host}:{port}: {exc.strerror} (is Dossier already running?)")
    # Links in mails sent by this process point at where it really listens (unless BASE_URL).
    config["HOST"], config["PORT"] = host, getattr(server, "effective_port", port)
    if config["INDEXING"] == "thread":
        indexing.kick(current_app._get_current_object())  # work left by a crash or by commands
        # Webhook retries fall due between changes: something must wake the drain for them.
        webhook_delivery.watch(current_app._get_current_object())
    # The thesaurus and the Dutch dictionary load while the server already answers.
    threading.Thread(target=warm_up, name="search-warm-up", daemon=True).start()
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


@click.command("worker")
@click.option("--once", is_flag=True, help="Drain the outbox once and stop.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Drains in this process at once (each extracts EXTRACT_WORKERS files at a time).",
)
@with_appcontext
def worker_command(once: bool, interval: float, concurrency: int) -> None:
    """Extract and index filed versions from the outbox (for several web processes).

    Any number of workers, on any number of machines, share the outbox: each claims its own
    items (see dossier.outbox).
    """
    require_database()
    _recover()
    click.echo(
        "Dossier worker started"
        + (f" with {concurrency} drains" if concurrency > 1 else "")
        + (" (once)" if once else "; stop with Ctrl+C")
    )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if concurrency == 1:
        _work(app, once, interval)
        return
    threads = [
        threading.Thread(target=_work, args=(app, once, interval), name=f"drain-{n}", daemon=True)
        for n in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(timeout=0.5)


def _work(app: Flask, once: bool, interval: float) -> None:
    """One drain loop, in an application context of its own."""
    with app.app_context():
        while True:
            try:
                done = indexing.drain()
            except Exception:  # the outbox keeps the work; a polling worker tries again
                if once:
                    raise
                log.exception("draining the outbox failed")
                db.session.rollback()
                done = 0
            if done:
                click.echo(f"{done} outbox items processed, {indexing.pending()} pending")
            # End the polling transaction: on SQLite it began as a writer, and an idle worker
            # must not hold the write lock while it sleeps (web requests would wait for it).
            db.session.close()
            if once:
                return
            time.sleep(interval)


COMMANDS = [init_command, run_command, worker_command]
