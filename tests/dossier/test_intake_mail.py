"""Mail intake against a real IMAP server (Dovecot, started by the tests): a mail forwarded to a
plus-address or naming its dossier in the subject is filed there with its attachment; one that
names no dossier waits in the queue; nothing is filed twice, and nothing is deleted."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from imapclient import IMAPClient

from dossier import indexing, intake, mail_intake
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Document,
    DocumentKind,
    Dossier,
    GlobalRole,
    IntakeItem,
    IntakeStatus,
    MemberRole,
    User,
)
from tests.dossier.imap_helpers import PASSWORD, USER, DovecotServer, mailbox

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _mail(
    to: str = "contracten+2023-014@gemeente.example",
    subject: str = "Offerte verlenging",
    message_id: str | None = None,
    attachment: tuple[bytes, str] | None = (PDF, "Offerte 2026.pdf"),
) -> bytes:
    message = EmailMessage()
    message["From"] = "Jan Jansen <jan@leverancier.example>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Tue, 04 Mar 2025 10:15:00 +0100"
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@leverancier.example>"
    message.set_content("Beste beheerder,\n\nHierbij de offerte.\n")
    if attachment is not None:
        data, name = attachment
        message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return bytes(message)


@pytest.fixture
def box(app: Flask, dovecot: DovecotServer) -> dict[str, Any]:
    """A fresh mailbox on the test server, with the app's intake pointed at it."""
    name = f"t{uuid.uuid4().hex[:10]}"
    settings = mailbox(dovecot, name)
    app.config.update(settings)
    client = _imap(settings)
    client.create_folder(f"{name}.Inbox")  # the server's separator is "."
    client.logout()
    return settings | {"name": name}


def _imap(box: dict[str, Any]) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=box["IMAP_PORT"], ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    return client


def _deliver(box: dict[str, Any], *raws: bytes) -> None:
    client = _imap(box)
    for raw in raws:
        client.append(f"{box['name']}.Inbox", raw)
    client.logout()


def _folder_counts(box: dict[str, Any]) -> dict[str, int]:
    """Messages per folder of this test's mailbox, by the folder's last name."""
    client = _imap(box)
    counts = {
        name.rsplit(".", 1)[1]: client.folder_status(name, [b"MESSAGES"])[b"MESSAGES"]
        for flags, _sep, name in client.list_folders(f"{box['name']}.", "*")
        if b"\\Noselect" not in flags
    }
    client.logout()
    return counts


@pytest.fixture
def robot(make_user: Callable[..., User]) -> User:
    return make_user("intake@gemeente.example", GlobalRole.BEHEERDER, "Intake")


@pytest.fixture
def contract(make_dossier: Callable[..., Dossier], robot: User) -> Dossier:
    return make_dossier("2023-014", members={robot: MemberRole.MANAGER})


def _poll(app: Flask, robot: User) -> mail_intake.PassResult:
    result = mail_intake.poll(robot, app.config)
    indexing.drain()
    return result


def _documents(dossier: Dossier) -> list[Document]:
    return list(
        db.session.scalars(
            sa.select(Document).where(Document.dossier_id == dossier.id).order_by(Document.id)
        )
    )


def test_plus_address_files_the_mail_with_its_attachment_and_moves_it(
    app: Flask, box: dict[str, Any], robot: User, contract: Dossier
) -> None:
    _deliver(box, _mail())
    result = _poll(app, robot)
    assert len(result.filed) == 1 and not result.queued and not result.refused
    message, attachment = _documents(contract)
    assert message.kind == DocumentKind.CORRESPONDENCE
    assert message.title == "Offerte verlenging"
    assert message.document_date == date(2025, 3, 4)
    assert message.correspondent == "Jan Jansen <jan@leverancier.example>"
    assert message.current_version.uploaded_by_id == robot.id
    assert message.current_version.original_filename == "Offerte verlenging.eml"
    assert attachment.parent_id == message.id
    assert attachment.current_version.original_filename == "Offerte 2026.pdf"
    counts = _folder_counts(box)
    assert counts["Inbox"] == 0
    assert counts["Verwerkt"] == 1, "moved, never deleted"
    assert counts["Wachtrij"] == 0 and counts["Geweigerd"] == 0
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.INTAKE_FILE)
    )
    assert event is not None and event.dossier_id == contract.id


def test_repolling_files_nothing_twice(
    app: Flask, box: dict[str, Any], robot: User, contract: Dossier
) -> None:
    raw = _mail(to="contracten@gemeente.example", subject="Re: [2023-014] planning")
    _deliver(box, raw)
    _poll(app, robot)
    assert len(_documents(contract)) == 2
    # The same mail again (a second copy delivered, or a move that failed after the commit).
    _deliver(box, raw)
    again = _poll(app, robot)
    assert again.filed == [] and len(again.skipped) == 1
    assert len(_documents(contract)) == 2, "nothing filed twice"
    assert db.session.scalar(sa.select(sa.func.count(IntakeItem.id))) == 1
    assert _folder_counts(box)["Verwerkt"] == 2, "both copies kept"
    # A third pass finds an empty inbox.
    assert _poll(app, robot) == mail_intake.PassResult()


def test_unknown_reference_waits_in_the_queue(
    app: Flask, box: dict[str, Any], robot: User, contract: Dossier
) -> None:
    _deliver(box, _mail(to="contracten+2099-999@gemeente.example"))
    result = _poll(app, robot)
    assert len(result.queued) == 1
    assert _documents(contract) == []
    (item,) = intake.queued()
    assert item.reason == "geen dossier met kenmerk 2099-999"
    assert item.subject == "Offerte verlenging" and item.content
    assert _folder_counts(box)["Wachtrij"] == 1
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.INTAKE_QUEUE)
    )
    assert event is not None and event.object_id == item.id and event.actor_id == robot.id


def test_queued_mail_moves_on_once_assigned_in_the_queue(
    app: Flask, box: dict[str, Any], robot: User, contract: Dossier
) -> None:
    _deliver(box, _mail(to="contracten@gemeente.example", subject="Zonder kenmerk"))
    _poll(app, robot)
    (item,) = intake.queued()
    intake.assign(robot, item, contract)  # the intake user is the contract's manager
    db.session.commit()
    result = _poll(app, robot)
    assert result.resolved == ["Zonder kenmerk"]
    counts = _folder_counts(box)
    assert counts["Wachtrij"] == 0 and counts["Verwerkt"] == 1


def test_a_dossier_the_intake_may_not_file_into_queues_the_mail(
    app: Flask,
    box: dict[str, Any],
    robot: User,
    make_dossier: Callable[..., Dossier],
) -> None:
    make_dossier("2023-015")  # the intake user is no member
    _deliver(box, _mail(subject="Vraag over dossier 2023-015"))
    _deliver(box, _mail(to="x@gemeente.example", subject="Vraag over dossier 2023-015 (2)"))
    result = _poll(app, robot)
    assert len(result.queued) == 2
    reasons = {item.reason for item in intake.queued()}
    assert reasons == {
        "geen dossier met kenmerk 2023-014",  # the plus-address names no dossier here
        "intake@gemeente.example mag geen documenten toevoegen aan dossier 2023-015",
    }


def test_a_mail_the_type_checks_refuse_is_moved_to_the_refused_folder(
    app: Flask, box: dict[str, Any], robot: User, contract: Dossier
) -> None:
    broken = b"Subject: [2023-014]\r\n" + b"X-Filler: " + b"a" * 70_000 + b"\r\n\r\nbody\r\n"
    _deliver(box, broken)
    result = _poll(app, robot)
    assert len(result.refused) == 1 and _documents(contract) == []
    item = db.session.scalar(sa.select(IntakeItem))
    assert item is not None and item.status == IntakeStatus.REFUSED and item.reason
    assert _folder_counts(box)["Geweigerd"] == 1
    refusal = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.INTAKE_REFUSE)
    )
    assert refusal is not None and refusal.after["reason"] == item.reason


def test_no_connection_is_a_clear_error(app: Flask, robot: User) -> None:
    app.config.update(IMAP_HOST="127.0.0.1", IMAP_PORT=1, IMAP_SECURITY="none")
    with pytest.raises(mail_intake.MailIntakeError, match="cannot connect to 127.0.0.1"):
        mail_intake.poll(robot, app.config)


def test_one_pass_of_the_intake_command_runs_both_intakes(
    app: Flask, box: dict[str, Any], robot: User, contract: Dossier, tmp_path: Any
) -> None:
    folder = tmp_path / "scans"
    (folder / "2023-014").mkdir(parents=True)
    (folder / "2023-014" / "Notulen overleg.txt").write_bytes(b"Notulen van het overleg\n")
    app.config.update(INTAKE_AS=robot.email, INTAKE_FOLDER=str(folder), INTAKE_MIN_AGE_SECONDS=0)
    _deliver(box, _mail())
    result = app.test_cli_runner().invoke(cli, ["intake", "--once", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["mail"]["filed"]) == 1
    assert report["folder"]["filed"] == ["2023-014/Notulen overleg.txt"]
    kinds = sorted(d.kind.value for d in _documents(contract))
    # The mail, its attachment (part of the correspondence) and the file (minutes by its name).
    assert kinds == ["correspondence", "correspondence", "minutes"]
    assert (folder / "done" / "2023-014" / "Notulen overleg.txt").exists()


def test_the_intake_command_says_what_is_missing(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli, ["intake", "--once"])
    assert result.exit_code != 0 and "set INTAKE_AS" in result.output
