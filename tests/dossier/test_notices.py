"""`dossier/notices.py`: notices reach the members (or one role) in-app and by mail over a real
SMTP server, never someone who lost access; followers get a dossier's events in the digest;
every notice and event is filtered for its reader (a confidential title stays unseen)."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import digest, documents, dossiers, following, groups, memberships, notices
from dossier.cli import cli
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    Group,
    MemberRole,
    NoticeKind,
    User,
    utcnow,
)
from tests.dossier.helpers import _events

SECRET_TITLE = "Geheime boeteclausule Kraanvogel"


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def bodies(self) -> dict[str, str]:
        return {m["To"]: m.get_payload(decode=True).decode() for m in self.messages}


@pytest.fixture
def smtp_sink(app: Flask) -> Iterator[_Sink]:
    """A real SMTP server (aiosmtpd) on a free loopback port, as the digest tests use."""
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="dossier@example.org")
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def team(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> dict[str, User]:
    """The beheerder's dossier with a reader, a manager, an owner and a group of readers."""
    people = {
        "beheerder": beheerder,
        "reader": make_user("reader@example.org", name="Rita Lezer"),
        "manager": make_user("manager@example.org", name="Max Manager"),
        "owner": make_user("owner@example.org", name="Olga Eigenaar"),
        "grouped": make_user("grouped@example.org", name="Gijs Groep"),
        "outsider": make_user("outsider@example.org"),
    }
    for role in ("reader", "manager", "owner"):
        memberships.set_role(beheerder, dossier, people[role], MemberRole(role))
    group = groups.create_group(beheerder, "Inkoop", [people["grouped"]])
    memberships.set_role(beheerder, dossier, group, MemberRole.READER)
    db.session.commit()
    return people


def _file(actor: User, dossier: Dossier, title: str, confidential: bool = False) -> Document:
    with documents.receive(io.BytesIO(f"{title}\nartikel 1\n".encode()), "stuk.txt") as upload:
        document = documents.file_document(
            actor,
            dossier,
            upload,
            kind=DocumentKind.CONTRACT,
            title=title,
            confidentiality=Confidentiality.CONFIDENTIAL
            if confidential
            else Confidentiality.NORMAL,
        )
    db.session.commit()
    return document


def test_a_notice_reaches_every_member_in_app_and_by_mail_not_the_sender(
    app: Flask, dossier: Dossier, team: dict[str, User], smtp_sink: _Sink
) -> None:
    team["manager"].locale = "en"
    notice = notices.send_notice(
        team["beheerder"],
        dossier,
        "Nieuwe versie van de overeenkomst",
        "Versie 2 is getekend.\nZie het dossier.",
        kind=NoticeKind.NEW_VERSION,
    )
    db.session.commit()
    assert notices.deliver(notice) == 4
    db.session.commit()
    expected = {"reader", "manager", "owner", "grouped"}
    assert set(smtp_sink.bodies()) == {team[k].email for k in expected}
    by_to = {m["To"]: m for m in smtp_sink.messages}
    assert by_to["reader@example.org"]["Subject"] == "[2025-010] Nieuwe versie van de overeenkomst"
    assert "Beste Rita Lezer" in smtp_sink.bodies()["reader@example.org"]
    assert "Dear Max Manager" in smtp_sink.bodies()["manager@example.org"]  # their language
    for key in expected:
        assert notices.unread_count(team[key]) == 1
        assert [n.subject for n, _r in notices.received(team[key])] == [notice.subject]
    assert notices.unread_count(team["beheerder"]) == 0
    assert notices.unread_count(team["outsider"]) == 0
    # Mailed once: delivering again sends nothing to who already had it.
    assert notices.deliver(notice) == 0
    (event,) = _events(AuditAction.NOTICE_SEND)
    assert event.dossier_id == dossier.id and event.after["kind"] == "new_version"
    assert sorted(event.after["recipients"]) == sorted(team[k].email for k in expected)
    assert notices.mark_read(team["reader"]) == 1
    assert notices.unread_count(team["reader"]) == 0


def test_a_notice_to_a_role_reaches_only_its_holders(
    app: Flask, dossier: Dossier, team: dict[str, User], smtp_sink: _Sink
) -> None:
    notice = notices.send_notice(
        team["beheerder"],
        dossier,
        "Besluit verlenging",
        kind=NoticeKind.DECISION,
        role=MemberRole.READER,
    )
    db.session.commit()
    notices.deliver(notice)
    assert set(smtp_sink.bodies()) == {"reader@example.org", "grouped@example.org"}
    assert notices.unread_count(team["manager"]) == 0
    with pytest.raises(DomainError):  # the beheerder is the only beheerder: nobody to tell
        notices.send_notice(team["beheerder"], dossier, "x", role=MemberRole.BEHEERDER)


@pytest.mark.any_database
def test_bad_notices_are_refused(app: Flask, dossier: Dossier, team: dict[str, User]) -> None:
    for subject, body in (("", ""), ("x" * 256, ""), ("ok", "y" * 5001), ("a\x00b", "")):
        with pytest.raises(ValidationError):
            notices.send_notice(team["beheerder"], dossier, subject, body)
    other = dossiers.create_dossier(team["beheerder"], {"reference": "2025-099", "title": "Ander"})
    foreign = _file(team["beheerder"], other, "Elders")
    with pytest.raises(ValidationError):
        notices.send_notice(team["beheerder"], dossier, "ok", document=foreign)


def test_who_lost_access_no_longer_sees_or_gets_the_notice(
    app: Flask, dossier: Dossier, team: dict[str, User], smtp_sink: _Sink
) -> None:
    notice = notices.send_notice(team["beheerder"], dossier, "Contactpersoon gewijzigd")
    db.session.commit()
    memberships.revoke(team["beheerder"], dossier, team["reader"])
    groups.remove_member(
        team["beheerder"],
        db.session.scalar(sa.select(Group).where(Group.name == "Inkoop")),
        team["grouped"],
    )
    db.session.commit()
    for key in ("reader", "grouped"):
        assert notices.received(team[key]) == []
        assert notices.unread_count(team[key]) == 0
        assert notices.received_one(team[key], notice.id) is None
        assert notices.mark_read(team[key]) == 0
    notices.deliver(notice)
    assert set(smtp_sink.bodies()) == {"manager@example.org", "owner@example.org"}


def test_a_confidential_document_title_reaches_only_who_may_open_it(
    app: Flask, dossier: Dossier, team: dict[str, User], smtp_sink: _Sink
) -> None:
    secret = _file(team["beheerder"], dossier, SECRET_TITLE, confidential=True)
    notice = notices.send_notice(
        team["beheerder"],
        dossier,
        "Wijziging getekend",
        kind=NoticeKind.NEW_VERSION,
        document=secret,
    )
    db.session.commit()
    notices.deliver(notice)
    bodies = smtp_sink.bodies()
    assert SECRET_TITLE in bodies["manager@example.org"]
    assert SECRET_TITLE in bodies["owner@example.org"]
    assert SECRET_TITLE not in bodies["reader@example.org"]
    assert SECRET_TITLE not in bodies["grouped@example.org"]
    assert "Wijziging getekend" in bodies["reader@example.org"]
    reader_page = app.test_client(user=team["reader"]).get("/notices").text
    assert "Wijziging getekend" in reader_page and SECRET_TITLE not in reader_page
    manager_page = app.test_client(user=team["manager"]).get("/notices").text
    assert SECRET_TITLE in manager_page


def _tomorrow() -> Any:
    return utcnow().date() + timedelta(days=1)


def test_a_follower_gets_the_dossiers_events_in_the_digest_filtered_for_them(
    app: Flask, dossier: Dossier, team: dict[str, User], smtp_sink: _Sink
) -> None:
    reader, manager = team["reader"], team["manager"]
    assert following.follow(reader, dossier) and not following.follow(reader, dossier)
    following.follow(manager, dossier)
    db.session.commit()
    assert len(_events(AuditAction.DOSSIER_FOLLOW)) == 2
    _file(team["beheerder"], dossier, "Uitvoeringsplan 2027")
    _file(team["beheerder"], dossier, SECRET_TITLE, confidential=True)
    notices.send_notice(
        team["beheerder"], dossier, "Besluit: optie gelicht", role=MemberRole.READER
    )
    dossiers.update_dossier(team["beheerder"], dossier, {"title": "Schoonmaak 2027"})
    db.session.commit()

    for_reader = digest.compose(reader, _tomorrow())
    kinds = [(e.kind, e.title) for e in for_reader.followed]
    assert ("version", "Uitvoeringsplan 2027") in kinds
    assert ("notice", "Besluit: optie gelicht") in kinds
    assert [e.fields for e in for_reader.followed if e.kind == "register"] == [("Title",)]
    assert all(SECRET_TITLE not in title for _kind, title in kinds)
    for_manager = digest.compose(manager, _tomorrow())
    assert ("version", SECRET_TITLE) in [(e.kind, e.title) for e in for_manager.followed]
    # The manager was not sent the reader notice: it is not theirs to read.
    assert "Besluit: optie gelicht" not in [e.title for e in for_manager.followed]
    # Nothing happened in the window of a digest two days on.
    assert digest.compose(reader, _tomorrow() + timedelta(days=1)).followed == []

    result = app.test_cli_runner().invoke(
        cli, ["digest", "--send", "--date", _tomorrow().isoformat()]
    )
    assert result.exit_code == 0, result.output
    bodies = smtp_sink.bodies()
    assert "reader@example.org" in bodies  # a reader gets a digest because they follow
    assert "Uitvoeringsplan 2027" in bodies["reader@example.org"]
    assert "Besluit: optie gelicht" in bodies["reader@example.org"]
    assert SECRET_TITLE not in bodies["reader@example.org"]
    assert SECRET_TITLE in bodies["manager@example.org"]
    assert "contractgegevens gewijzigd: Titel" in bodies["reader@example.org"]
    subject = {m["To"]: m["Subject"] for m in smtp_sink.messages}["reader@example.org"]
    assert "nieuws uit gevolgde dossiers" in subject


def test_unfollowing_or_losing_access_ends_the_dossiers_news(
    app: Flask, dossier: Dossier, team: dict[str, User]
) -> None:
    reader, owner = team["reader"], team["owner"]
    following.follow(reader, dossier)
    following.follow(owner, dossier)
    db.session.commit()
    _file(team["beheerder"], dossier, "Rapportage oktober")
    assert following.unfollow(owner, dossier) and not following.unfollow(owner, dossier)
    memberships.revoke(team["beheerder"], dossier, reader)
    db.session.commit()
    assert digest.compose(owner, _tomorrow()).followed == []
    assert digest.compose(reader, _tomorrow()).followed == []
    assert reader not in digest.recipients() or digest.compose(reader, _tomorrow()).is_empty


def test_mail_that_failed_is_sent_later_by_deliver_notices(
    app: Flask, dossier: Dossier, team: dict[str, User], smtp_sink: _Sink
) -> None:
    notice = notices.send_notice(team["beheerder"], dossier, "Besluit", role=MemberRole.OWNER)
    db.session.commit()
    port = app.config["MAIL_PORT"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        app.config["MAIL_PORT"] = probe.getsockname()[1]  # closed again: nothing listens
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["deliver-notices"])
    assert result.exit_code == 1 and "cannot send through" in result.output
    assert "Traceback" not in result.output
    assert notices.unread_count(team["owner"]) == 1  # in-app all the same
    app.config["MAIL_PORT"] = port
    result = runner.invoke(cli, ["deliver-notices", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"notices": 1, "sent": 1}
    assert set(smtp_sink.bodies()) == {"owner@example.org"}
    assert notice.recipients[0].emailed_at is not None
    result = runner.invoke(cli, ["deliver-notices", "--json"])
    assert json.loads(result.output) == {"notices": 0, "sent": 0}
