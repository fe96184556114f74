"""`dossier/web/spend.py`, the spend section of the dossier page, the dashboard, the digest and
the commands: importing spend with a preview, mapping an unknown supplier by hand, re-importing
with no change, and who sees which figures (hand-computed, see tests/dossier/test_spend.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import digest, memberships, spend_import
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Dossier,
    GlobalRole,
    MemberRole,
    SpendImport,
    SpendLine,
    User,
)
from tests.dossier.helpers import _english, _section, _text
from tests.dossier.test_spend import LEDGER

D = Decimal


@pytest.fixture
def portfolio(app: Flask, make_dossier: Callable[..., Dossier]) -> dict[str, Dossier]:
    app.config["REPORT_DATE"] = "2026-07-01"
    common = {"status": "active", "start_on": date(2025, 1, 1), "end_on": date(2027, 12, 31)}
    return {
        "a": make_dossier(
            "2026-101",
            supplier="Schoon BV",
            supplier_kvk="12345678",
            value=D("100000.00"),
            annual_value=D("40000.00"),
            **common,
        ),
        "b": make_dossier(
            "2026-102", supplier="Groen BV", supplier_kvk="87654321", value=D("50000.00"), **common
        ),
        "c": make_dossier(
            "2026-103", supplier="Kantoor & Co Leveringen BV", value=D("15000.00"), **common
        ),
    }


@pytest.fixture
def importer(make_user: Callable[..., User]) -> User:
    return make_user("fin@example.org", GlobalRole.BEHEERDER, "Fien Financiën")


def _upload(client: FlaskClient, text: str, name: str = "grootboek.csv") -> str:
    response = client.post(
        "/spend/imports",
        data={"file": (io.BytesIO(text.encode()), name), "source": "finance"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SpendLine)) or 0


def test_import_map_an_unknown_supplier_and_import_again_with_no_change(
    app: Flask, portfolio: dict[str, Dossier], importer: User, admin: User
) -> None:
    client = app.test_client(user=importer)
    preview_url = _upload(client, LEDGER)
    page = _text(client.get(preview_url))
    assert _count() == 0, "a preview books nothing"
    assert "Nieuwe regels" in page and "onbekend" in page
    assert "2026-101" in page and "enige lopende contract van de leverancier" in page
    response = client.post(f"{preview_url}/commit")
    assert response.status_code == 302
    assert "7 uitgaveregels geïmporteerd" in _text(client.get(response.headers["Location"]))
    assert _count() == 7
    suppliers = _text(client.get("/spend/suppliers"))
    assert "Kantoor & Co" in suppliers and "9001" in suppliers
    assert "€\xa020.000,00" in suppliers
    response = client.post(
        "/spend/suppliers",
        data={
            "source": "finance",
            "creditor_number": "9001",
            "kvk_number": "",
            "supplier_name": "Kantoor & Co",
            "party_id": str(portfolio["c"].supplier_id),
        },
    )
    assert response.status_code == 302
    assert "2 regels vonden hun leverancier" in _text(client.get("/spend/suppliers"))
    # The importer sees no dossier it is not a member of; the admin (its beheerder) does.
    assert client.get("/dossiers/2026-103/spend").status_code == 404
    c = _text(app.test_client(user=admin).get("/dossiers/2026-103/spend"))
    assert "€\xa020.000,00" in c and "133,3 %" in c
    # The same file again: the preview says so, committing changes nothing.
    again = _upload(client, LEDGER)
    page = _text(client.get(again))
    assert "al geïmporteerd" in page
    response = client.post(f"{again}/commit")
    assert "Niets gewijzigd" in _text(client.get(response.headers["Location"]))
    assert _count() == 7
    assert "133,3 %" in _text(app.test_client(user=admin).get("/dossiers/2026-103/spend"))
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.action.like("spend.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        AuditAction.SPEND_IMPORT,
        AuditAction.SPEND_SUPPLIER_MAP,
        AuditAction.SPEND_IMPORT,
    ]


def test_a_file_with_bad_rows_shows_each_row_and_cannot_be_committed(
    app: Flask, portfolio: dict[str, Dossier], importer: User
) -> None:
    client = app.test_client(user=importer)
    bad = LEDGER.replace("30.000,00", "30.000,0x").replace("01-04-2026", "1 april")
    url = _upload(client, bad)
    page = _text(client.get(url))
    assert "Rij" in page and "geen bedrag" in page and "geen datum" in page
    assert "Import vastleggen" not in page
    response = client.post(f"{url}/commit")
    assert response.status_code == 302
    assert "rijen met fouten" in _text(client.get(response.headers["Location"]))
    assert _count() == 0
    status = db.session.scalar(sa.select(SpendImport.status).where(SpendImport.id == 1))
    assert status == "pending"


def test_an_unreadable_file_is_refused_with_a_message(
    app: Flask, portfolio: dict[str, Dossier], importer: User
) -> None:
    client = app.test_client(user=importer)
    response = client.post(
        "/spend/imports",
        data={"file": (io.BytesIO(b"Naam;Bedrag\nX;1\n"), "x.csv"), "source": "finance"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "mist de kolommen" in _text(response)
    response = client.post(
        "/spend/imports",
        data={"file": (io.BytesIO(b"%PDF-1.4"), "x.pdf"), "source": "finance"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "Kies een .csv- of .xlsx-bestand" in _text(response)


def _reader_of_a(admin: User, make_user: Callable[..., User], a: Dossier) -> User:
    reader = make_user("lezer@example.org", name="Lies Lezer")
    memberships.set_role(admin, a, reader, MemberRole.READER)
    db.session.commit()
    return reader


def test_a_reader_of_some_dossiers_sees_only_their_figures(
    app: Flask,
    portfolio: dict[str, Dossier],
    importer: User,
    admin: User,
    make_user: Callable[..., User],
) -> None:
    client = app.test_client(user=importer)
    client.post(f"{_upload(client, LEDGER)}/commit")
    reader = _reader_of_a(admin, make_user, portfolio["a"])
    as_reader = app.test_client(user=reader)
    report = _text(as_reader.get("/reports/spend"))
    assert "2026-101" in report and "€\xa064.000,00" in report and "85 %" in report
    assert "2026-102" not in report and "45.000" not in report
    assert "Kantoor" not in report and "Uitgaven zonder contract" not in report
    assert as_reader.get("/reports/export/spend_without_contract.csv").status_code == 404
    exported = as_reader.get("/reports/export/spend.csv").get_data(as_text=True)
    assert "2026-101" in exported and "2026-102" not in exported
    assert as_reader.get("/dossiers/2026-102/spend").status_code == 404
    own = _text(as_reader.get("/dossiers/2026-101/spend"))
    assert "€\xa064.000,00" in own and "F-2" in own
    assert as_reader.get("/spend/imports").status_code == 403
    assert as_reader.get("/spend/suppliers").status_code == 403
    assert as_reader.post("/spend/imports/1/commit").status_code == 403
    # The portfolio roles see the spend without contract.
    for role in (GlobalRole.AUDITOR, GlobalRole.PORTFOLIO):
        viewer = make_user(f"{role.value}@example.org", role)
        page = _text(app.test_client(user=viewer).get("/reports/spend"))
        assert "Uitgaven zonder contract" in page and "Kantoor & Co" in page
        assert "€\xa020.000,00" in page
        assert "2026-102" in page
        export = app.test_client(user=viewer).get("/reports/export/spend_without_contract.csv")
        assert export.status_code == 200 and "Kantoor & Co" in export.get_data(as_text=True)


def test_only_the_global_beheerder_and_admin_import(
    app: Flask, portfolio: dict[str, Dossier], make_user: Callable[..., User], admin: User
) -> None:
    for role, allowed in [
        (None, False),
        (GlobalRole.AUDITOR, False),
        (GlobalRole.PORTFOLIO, False),
        (GlobalRole.BEHEERDER, True),
    ]:
        user = make_user(f"u-{role}@example.org", role)
        status = app.test_client(user=user).get("/spend/imports").status_code
        assert status == (200 if allowed else 403), role
    assert app.test_client(user=admin).get("/spend/imports").status_code == 200


def test_the_dossier_page_dashboard_and_digest_carry_the_warnings(
    app: Flask, portfolio: dict[str, Dossier], importer: User, admin: User
) -> None:
    client = app.test_client(user=importer)
    client.post(f"{_upload(client, LEDGER)}/commit")
    show = _text(app.test_client(user=admin).get("/dossiers/2026-102"))
    section = _section(show, "h-spend")
    assert "90 %" in section and "80 %" in section and "€\xa045.000,00" in section
    # The admin registered the dossiers, so is their beheerder.
    overview = _text(app.test_client(user=admin).get("/overview"))
    warnings = _section(overview, "h-spend-warnings")
    assert "2026-102" in warnings and "90 %" in warnings
    assert "2026-101" in warnings and "85 %" in warnings and "jaarwaarde" in warnings
    text = digest.render_text(digest.compose(admin, date(2026, 7, 1)))
    assert "2026-102" in text and "/dossiers/2026-102/spend" in text and "90 %" in text


def test_the_commands_import_twice_and_report_per_reader(
    app: Flask,
    portfolio: dict[str, Dossier],
    importer: User,
    admin: User,
    make_user: Callable[..., User],
    tmp_path,
) -> None:
    path = tmp_path / "grootboek.csv"
    path.write_text(LEDGER, encoding="utf-8")
    runner = app.test_cli_runner()
    first = runner.invoke(cli, ["import-spend", str(path), "--as", importer.email, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["new"] == 7
    second = runner.invoke(cli, ["import-spend", str(path), "--as", importer.email])
    assert second.exit_code == 0 and "Nothing changed" in second.output
    assert _count() == 7
    reader = _reader_of_a(admin, make_user, portfolio["a"])
    refused = runner.invoke(cli, ["import-spend", str(path), "--as", reader.email])
    assert refused.exit_code == 1
    report = runner.invoke(cli, ["report", "spend", "--as", reader.email, "--json"])
    rows = json.loads(report.output)
    assert [(r["reference"], r["spend"], r["annual_warning"]) for r in rows] == [
        ("2026-101", "64000.00", 80)
    ]
    hidden = runner.invoke(cli, ["report", "spend_without_contract", "--as", reader.email])
    assert hidden.exit_code == 1
    shown = runner.invoke(cli, ["report", "spend_without_contract", "--as", admin.email, "--json"])
    [row] = json.loads(shown.output)
    assert (row["supplier"], row["lines"], row["spend"]) == ("Kantoor & Co", 2, "20000.00")
    bad = tmp_path / "fout.csv"
    bad.write_text(LEDGER.replace("45.000,00", "45.000"), encoding="utf-8")
    failed = runner.invoke(cli, ["import-spend", str(bad), "--as", importer.email])
    assert failed.exit_code == 2 and "row 6" in failed.output and "ambiguous" in failed.output
    assert _count() == 7


def test_the_pages_speak_english_on_request(
    app: Flask, portfolio: dict[str, Dossier], importer: User, admin: User
) -> None:
    client = app.test_client(user=importer)
    _english(client)
    url = _upload(client, LEDGER.replace("45.000,00", "45.000"))
    page = _text(client.get(url))
    assert "Rows with errors" in page and "is ambiguous" in page
    url = _upload(client, LEDGER)
    client.post(f"{url}/commit")
    viewer = app.test_client(user=admin)
    _english(viewer)
    page = _text(viewer.get("/dossiers/2026-101/spend"))
    assert "Spend to date" in page and "€64,000.00" in page.replace("\xa0", "")
    assert "the supplier's only running contract" in page
    report = _text(viewer.get("/reports/spend"))
    assert "Spend without a contract" in report and "85 %" in report


def test_two_overlapping_imports_committed_at_once_book_each_line_once(
    app: Flask, portfolio: dict[str, Dossier], importer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client(user=importer)
    first, second = _upload(client, LEDGER), _upload(client, LEDGER)
    client.post(f"{first}/commit")
    # The second commit does not see the first's lines, as when both run at the same moment.
    monkeypatch.setattr(spend_import, "known_keys", lambda keys: set())
    response = client.post(f"{second}/commit")
    assert response.status_code == 302
    assert "tegelijk" in _text(client.get(response.headers["Location"]))
    assert _count() == 7
    monkeypatch.undo()
    response = client.post(f"{second}/commit")
    assert "Niets gewijzigd" in _text(client.get(response.headers["Location"]))
