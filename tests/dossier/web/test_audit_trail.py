"""`dossier/web/audit_trail.py`, the audit-trail viewer: auditors read and filter every event, a
dossier's beheerder reads that dossier's events only; the CSV export escapes formulas."""

from __future__ import annotations

import csv
import io

from flask import Flask

from dossier import audit
from dossier.extensions import db
from dossier.models import AuditAction, Dossier
from tests.dossier.helpers import _rows


def test_auditor_sees_every_event_and_filters_them(app: Flask, trail: dict) -> None:
    client = app.test_client(user=trail["auditor"])
    page = client.get("/audit")
    assert page.status_code == 200
    assert "Kraanvogelzaak" in page.text and "2025-001" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    by_dossier = client.get("/audit", query_string={"dossier": "2025-002"}).text
    assert "Kraanvogelzaak" in by_dossier and "Schoonmaak" not in by_dossier
    grants = client.get("/audit", query_string={"action": "membership"}).text
    assert _rows(grants) == 3 and ">Dossier geregistreerd</td>" not in grants
    by_actor = client.get("/audit", query_string={"actor": "bea@"}).text
    assert "Kraanvogelzaak" not in by_actor and "Schoonmaak" in by_actor
    future = client.get("/audit", query_string={"since": "2999-01-01"}).text
    assert _rows(future) == 0
    today = client.get("/audit", query_string={"since": "2000-01-01", "until": "2999-12-31"})
    assert _rows(today.text) == _rows(page.text)
    unknown = client.get("/audit", query_string={"dossier": "2099-999"})
    assert unknown.status_code == 200 and _rows(unknown.text) == 0
    assert client.get("/audit", query_string={"since": "gisteren"}).status_code == 400


def test_audit_pages_fifty_events_at_a_time(app: Flask, trail: dict) -> None:
    for number in range(60):
        audit.record(trail["bea"], AuditAction.CALENDAR_CREATE, "test", number, after={"n": number})
    db.session.commit()
    client = app.test_client(user=trail["auditor"])
    first = client.get("/audit", query_string={"action": "calendar.create"}).text
    second = client.get("/audit", query_string={"action": "calendar.create", "page": 2}).text
    assert _rows(first) == 50 and _rows(second) == 10
    assert "n:</strong> 59<" in first and "n:</strong> 9<" in second
    assert "n:</strong> 10<" not in second


def test_beheerder_sees_only_the_events_of_their_dossier(app: Flask, trail: dict) -> None:
    client = app.test_client(user=trail["bea"])
    page = client.get("/dossiers/2025-001/audit")
    assert page.status_code == 200
    assert ">Lid toegevoegd</td>" in page.text and "reader@example.org" in page.text
    assert "Kraanvogelzaak" not in page.text and "2025-002" not in page.text
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert client.get("/dossiers/2025-002/audit").status_code == 404
    export = client.get("/dossiers/2025-001/audit/export.csv")
    assert export.status_code == 200 and "Kraanvogelzaak" not in export.text
    reader = app.test_client(user=trail["reader"])
    assert reader.get("/dossiers/2025-001/audit").status_code == 403
    assert "/audit" not in reader.get("/dossiers/2025-001").text


def test_csv_export_escapes_formulas(app: Flask, trail: dict) -> None:
    response = app.test_client(user=trail["auditor"]).get("/audit/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    actors = {row[2] for row in rows[1:]}
    assert "'=cmd|' /c calc'!a0@example.org" in actors
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_dossier_page_links_to_its_audit_trail_for_its_beheerder(app: Flask, trail: dict) -> None:
    mine: Dossier = trail["mine"]
    text = app.test_client(user=trail["bea"]).get(f"/dossiers/{mine.reference}").text
    assert f"/dossiers/{mine.reference}/audit" in text
