"""Fixtures several test modules of tests/dossier and tests/dossier/web share: a beheerder with a
dossier of their own, an audit trail over two dossiers, a Woo handler with a request."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from flask import Flask

from dossier import dossiers, memberships, woo
from dossier.extensions import db
from dossier.models import Dossier, GlobalRole, MemberRole, User, WooRequest
from tests.conftest import need
from tests.dossier.imap_helpers import DOVECOT, DovecotServer


@pytest.fixture
def beheerder(make_user: Callable[..., User]) -> User:
    return make_user("bea@example.org", GlobalRole.BEHEERDER, "Bea Beheer")


@pytest.fixture
def dossier(beheerder: User) -> Dossier:
    made = dossiers.create_dossier(beheerder, {"reference": "2025-010", "title": "Schoonmaak"})
    db.session.commit()
    return made


@pytest.fixture
def trail(app: Flask, make_user: Callable[..., User]) -> dict[str, object]:
    bea = make_user("bea@example.org", GlobalRole.BEHEERDER)
    other = make_user("=cmd|' /c calc'!a0@example.org", GlobalRole.BEHEERDER)
    reader = make_user("reader@example.org")
    auditor = make_user("auditor@example.org", GlobalRole.AUDITOR)
    mine = dossiers.create_dossier(
        bea, {"reference": "2025-001", "title": "Schoonmaak <script>alert(1)</script>"}
    )
    dossiers.create_dossier(other, {"reference": "2025-002", "title": "Kraanvogelzaak"})
    memberships.set_role(bea, mine, reader, MemberRole.READER)
    db.session.commit()
    return {"bea": bea, "other": other, "reader": reader, "auditor": auditor, "mine": mine}


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """A real IMAP server (Debian's Dovecot) for the session; each test takes a mailbox user of
    its own (`imap_helpers.mailbox`). Missing Dovecot skips, except under CI."""
    need(DOVECOT is not None, "Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(DOVECOT, tmp_path_factory.mktemp("dovecot"))  # type: ignore[arg-type]
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(f"Dovecot did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def handler(make_user: Callable[..., User]) -> User:
    """A Woo handler (the role reads no dossier of itself)."""
    return make_user("woo-behandelaar@example.org", GlobalRole.WOO, "Wim Woo")


@pytest.fixture
def request_(handler: User) -> WooRequest:
    """A Woo request received on Monday 2 March 2026, registered on 1 June 2026."""
    found = woo.create_request(
        handler, date(2026, 3, 2), "Krant BV", "Schoonmaakcontract", date(2026, 6, 1)
    )
    db.session.commit()
    return found
