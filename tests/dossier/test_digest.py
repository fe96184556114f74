"""Links in the digest point at where Dossier really runs: BASE_URL, else the serving address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask

from dossier import digest
from dossier.cli import cli
from dossier.models import Dossier, DossierStatus, MemberRole, User

pytestmark = pytest.mark.any_database

TODAY = date(2026, 1, 15)


def _manager_with_a_deadline(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> User:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    manager = make_user("manager@example.org")
    make_dossier(
        "2026-001",
        {manager: MemberRole.MANAGER},
        status=DossierStatus.ACTIVE,
        start_on=date(2024, 2, 1),
        end_on=date(2026, 1, 31),
    )
    return manager


def test_without_base_url_digest_links_use_the_configured_port(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    manager = _manager_with_a_deadline(app, make_user, make_dossier)
    app.config.update(BASE_URL=None, HOST="127.0.0.1", PORT=5109)
    text = digest.render_text(digest.compose(manager, TODAY))
    assert "http://127.0.0.1:5109/dossiers/2026-001" in text
    assert ":5000" not in text
    result = app.test_cli_runner().invoke(cli, ["digest", "--date", TODAY.isoformat()])
    assert "http://127.0.0.1:5109/overview" in result.output, result.output


def test_a_configured_base_url_wins(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    manager = _manager_with_a_deadline(app, make_user, make_dossier)
    app.config.update(BASE_URL="https://dossier.example.org/", PORT=5109)
    text = digest.render_text(digest.compose(manager, TODAY))
    assert "https://dossier.example.org/dossiers/2026-001" in text and "5109" not in text
