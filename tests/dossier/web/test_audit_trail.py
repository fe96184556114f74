"""The audit-trail viewer: auditors read and filter every event, a dossier's beheerder reads that
dossier's events only; values are shown as text; the CSV export escapes formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from flask import Flask

from dossier import audit, dossiers, memberships
from dossier.extensions import db
from dossier.models import AuditAction, Dossier, GlobalRole, MemberRole, User


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


def _rows(text: str) -> int:
    return len(re.findall(r"<td class=\"audit-values\">", text)) // 2


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
    assert _rows(grants) == 3 and "<td>Dossier geregistreerd</td>" not in grants
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
    assert "<td>Lid toegevoegd</td>" in page.text and "reader@example.org" in page.text
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


def test_events_read_as_sentences_with_named_linked_objects_and_labelled_values(
    app: Flask, trail: dict
) -> None:
    from datetime import UTC, datetime

    from dossier import documents
    from dossier.models import AuditEvent, Confidentiality, DocumentKind, Procedure

    mine = trail["mine"]
    bea = trail["bea"]
    dossiers.update_dossier(
        bea,
        mine,
        {"title": "Schoonmaak kantoren", "procedure": Procedure.EU_OPEN, "personal_data": True},
    )
    with documents.receive(io.BytesIO(b"geheim\n"), "plan.txt") as upload:
        document = documents.file_document(
            bea,
            mine,
            upload,
            kind=DocumentKind.CONTRACT,
            title="Getekende overeenkomst",
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    documents.record_read(bea, document.current_version)
    membership = memberships.membership_of(mine, trail["reader"])
    memberships.remove(bea, membership)
    db.session.commit()

    page = app.test_client(user=trail["auditor"]).get("/audit").text
    for label in (
        "Dossiergegevens gewijzigd",
        "Vertrouwelijk document gelezen",
        "Lid verwijderd",
        "Document toegevoegd",
    ):
        assert f"<td>{label}</td>" in page, label
    for code in ("dossier.update", "version.read", "membership.revoke", "membership 1"):
        assert f"<td>{code}</td>" not in page and f"<td>{code} " not in page
    # Objects are named and linked: the document with its version, the dossier.
    link = f'<a href="/dossiers/2025-001/documents/{document.id}">'
    assert link + "Getekende overeenkomst, versie 1</a>" in page
    assert '<a href="/dossiers/2025-001">2025-001</a>' in page
    assert "reader@example.org (Lezer)" in page
    # An update shows the changed fields by their labels and values by the label tables.
    update = page[page.index("<td>Dossiergegevens gewijzigd</td>") :]
    update = update[: update.index("</tr>")]
    assert "Europees openbaar" in update and "eu_open" not in update
    assert "ja" in update and "True" not in update
    assert "Titel:" in update and "Schoonmaak kantoren" in update
    assert "Status" not in update  # unchanged fields are not shown
    # Times in the interface's time zone and format.
    first = db.session.query(AuditEvent).order_by(AuditEvent.id).first()
    first.at = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)  # shown only; the chain is not checked
    db.session.commit()
    page = app.test_client(user=trail["auditor"]).get("/audit").text
    assert '<time datetime="2026-01-15T12:00:05+00:00">15 januari 2026 13:00</time>' in page
    # The action filter is a select of labels, and still filters.
    assert '<select id="action" name="action"' in page
    assert '<option value="membership.revoke">Lid verwijderd</option>' in page
    only = app.test_client(user=trail["auditor"]).get(
        "/audit", query_string={"action": "version.read"}
    )
    assert _rows(only.text) == 1
    # The bea (beheerder of 2025-001) reads the same labels in English.
    client = app.test_client(user=bea)
    client.post("/language", data={"lang": "en"})
    english = client.get("/dossiers/2025-001/audit").text
    assert "<td>Member removed</td>" in english and "<td>Confidential document read</td>" in english
    export = client.get("/dossiers/2025-001/audit/export.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(export)))
    assert rows[0][3:5] == ["action", "action_label"]
    assert ["membership.revoke", "Member removed"] in [r[3:5] for r in rows[1:]]


def test_every_audit_action_has_a_translated_label(app: Flask) -> None:
    """Walks AuditAction: a new action without a label (or a Dutch one) fails here."""
    from flask_babel import force_locale

    from dossier.web import audit_view, labels

    assert set(labels.AUDIT_ACTION) == set(AuditAction)
    with app.test_request_context():
        for action in AuditAction:
            with force_locale("en"):
                english = audit_view.action_label(action)
            with force_locale("nl"):
                dutch = audit_view.action_label(action)
            assert english != action.value, action
            assert dutch != english, f"{action}: {english!r} has no Dutch translation"
            assert "archiv" not in dutch.lower(), f"{action}: filing is not archiving ({dutch!r})"


def test_an_action_outside_the_enum_is_refused(app: Flask, trail: dict) -> None:
    with pytest.raises(ValueError):
        audit.record(trail["bea"], "made.up", "test", 1)
    db.session.rollback()


def test_every_recorded_action_comes_from_the_enum() -> None:
    """Each `audit.record(...)` call in the code names its action through AuditAction."""
    import ast
    from pathlib import Path

    import dossier

    offenders = []
    for path in Path(dossier.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
                and len(node.args) > 1
                and any(isinstance(n, ast.Constant) for n in ast.walk(node.args[1]))
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_a_document_edit_reads_as_a_sentence(app: Flask, trail: dict) -> None:
    """The audit viewer showed the raw code `document.update` (it had no label)."""
    from dossier import documents
    from dossier.models import Confidentiality, DocumentKind

    with documents.receive(io.BytesIO(b"tekst\n"), "brief.txt") as upload:
        document = documents.file_document(
            trail["bea"], trail["mine"], upload, kind=DocumentKind.CORRESPONDENCE
        )
    values = {"kind": document.kind, "title": "Brief aan leverancier"}
    documents.update_metadata(
        trail["bea"], document, values | {"confidentiality": Confidentiality.NORMAL}
    )
    db.session.commit()
    page = app.test_client(user=trail["auditor"]).get("/audit").text
    assert "<td>Documentgegevens gewijzigd</td>" in page
    assert "document.update" not in page.replace('value="document.update"', "")
