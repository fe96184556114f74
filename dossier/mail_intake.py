"""Mail intake: poll an IMAP mailbox, hand each message to `dossier.intake`, and move it to the
folder that says what happened (filed, queued, refused). Nothing is ever deleted.

Each message is committed before it is moved: a crash between the two leaves the message in
the inbox, and the next pass recognises it (same Message-ID or bytes) and only moves it.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from dossier import intake
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import IntakeStatus, User

log = logging.getLogger(__name__)
FETCH_BATCH = 20


class MailIntakeError(DomainError):
    """The mailbox cannot be reached or read; `str(exc)` says why."""


@dataclass
class PassResult:
    """What one pass did, by status; `skipped` are messages handled before (only moved)."""

    filed: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # Queued mail a beheerder has since assigned or discarded: moved on to the done folder.
    resolved: list[str] = field(default_factory=list)


@contextmanager
def connect(config: dict[str, Any]) -> Iterator[IMAPClient]:
    """A logged-in IMAP session with the configured security (IMAP_SECURITY)."""
    security = str(config["IMAP_SECURITY"]).lower()
    if security not in ("none", "starttls", "ssl"):
        raise MailIntakeError(f"IMAP_SECURITY must be none, starttls or ssl, not {security!r}")
    context = ssl.create_default_context()
    try:
        client = IMAPClient(
            config["IMAP_HOST"],
            port=int(config["IMAP_PORT"]),
            ssl=security == "ssl",
            ssl_context=context,
            timeout=float(config["IMAP_TIMEOUT"]),
        )
    except (OSError, IMAPClientError) as exc:
        raise MailIntakeError(f"cannot connect to {config['IMAP_HOST']}: {exc}") from exc
    try:
        if security == "starttls":
            client.starttls(context)
        client.login(config["IMAP_USER"] or "", config["IMAP_PASSWORD"] or "")
        yield client
    except (OSError, IMAPClientError) as exc:
        raise MailIntakeError(f"IMAP session with {config['IMAP_HOST']} failed: {exc}") from exc
    finally:
        with suppress(OSError, IMAPClientError):
            client.logout()


def _folder_name(client: IMAPClient, name: str) -> str:
    """A configured folder path ("Dossier/Verwerkt") in the server's own hierarchy separator."""
    folders = client.list_folders(pattern="INBOX")
    separator = folders[0][1] if folders and folders[0][1] else b"/"
    sep = separator.decode() if isinstance(separator, bytes) else str(separator)
    return name.replace("/", sep)


def _ensure_folder(client: IMAPClient, name: str) -> None:
    if not client.folder_exists(name):
        client.create_folder(name)


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    """Move a message; without the MOVE extension: copy, then flag and expunge the original."""
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.add_flags([uid], [b"\\Deleted"])
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])
    else:
        client.expunge()


def poll(actor: User, config: dict[str, Any]) -> PassResult:
    """One pass over the mailbox's IMAP_FOLDER; commits per message."""
    result = PassResult()
    with connect(config) as client:
        targets = {
            IntakeStatus.FILED: _folder_name(client, config["IMAP_DONE_FOLDER"]),
            IntakeStatus.QUEUED: _folder_name(client, config["IMAP_QUEUE_FOLDER"]),
            IntakeStatus.REFUSED: _folder_name(client, config["IMAP_REFUSED_FOLDER"]),
        }
        for name in targets.values():
            _ensure_folder(client, name)
        client.select_folder(_folder_name(client, config["IMAP_FOLDER"]))
        uids = client.search(["UNDELETED"])
        limit = int(config["MAX_UPLOAD_BYTES"])
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            for uid in batch:
                size = sizes.get(uid, {}).get(b"RFC822.SIZE", 0)
                _one(client, actor, uid, size > limit, targets, result)
        _tidy_queue(client, targets, result)
    return result


_MESSAGE_ID = b"BODY[HEADER.FIELDS (MESSAGE-ID)]"


def _tidy_queue(client: IMAPClient, targets: dict[IntakeStatus, str], result: PassResult) -> None:
    """Move queued mail that was assigned or discarded in the UI on to the done folder, found
    by its Message-ID (a mail without one stays where it is)."""
    client.select_folder(targets[IntakeStatus.QUEUED])
    uids = client.search(["UNDELETED"])
    for start in range(0, len(uids), FETCH_BATCH):
        batch = uids[start : start + FETCH_BATCH]
        headers = client.fetch(batch, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        for uid in batch:
            raw = headers.get(uid, {}).get(_MESSAGE_ID, b"") + b"\r\n\r\n"
            message_id = intake.read_headers(raw).get("message-id", "")[:255]
            item = intake.seen_mail(message_id, "") if message_id else None
            if item is not None and item.status in (IntakeStatus.FILED, IntakeStatus.DISCARDED):
                _move(client, uid, targets[IntakeStatus.FILED])
                result.resolved.append(item.subject or item.filename)


def _one(
    client: IMAPClient,
    actor: User,
    uid: int,
    too_large: bool,
    targets: dict[IntakeStatus, str],
    result: PassResult,
) -> None:
    if too_large:
        # Never downloaded: it stays readable in the refused folder for whoever handles it.
        log.warning("mail %s is larger than MAX_UPLOAD_BYTES: refused unread", uid)
        _move(client, uid, targets[IntakeStatus.REFUSED])
        result.refused.append(f"uid {uid}")
        return
    data = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
    raw = data.get(b"BODY[]")
    if raw is None:
        return  # gone meanwhile (another client moved it)
    try:
        item, new = intake.take_mail(actor, raw)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    label = f"{item.subject or item.filename} ({item.message_id or 'no Message-ID'})"
    status = item.status if item.status in targets else IntakeStatus.FILED
    _move(client, uid, targets[status])
    if not new:
        result.skipped.append(label)
    else:
        {
            IntakeStatus.FILED: result.filed,
            IntakeStatus.QUEUED: result.queued,
            IntakeStatus.REFUSED: result.refused,
        }[item.status].append(label)
    log.info("mail %s: %s -> %s", uid, label, targets[status])
