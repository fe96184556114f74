"""`dossier/web/audit_view.py`: audit events as a person reads them: translated action labels,
objects named and linked, before and after values through the label tables."""

from __future__ import annotations

import csv
import io
from datetime import date

from flask import Flask

from dossier import dossiers, memberships
from dossier.extensions import db
from dossier.models import AuditAction
from tests.dossier.helpers import _rows


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
        assert f">{label}</td>" in page, label
    for code in ("dossier.update", "version.read", "membership.revoke", "membership 1"):
        assert f">{code}</td>" not in page and f">{code} " not in page
    # Objects are named and linked: the document with its version, the dossier.
    link = f'<a href="/dossiers/2025-001/documents/{document.id}">'
    assert link + "Getekende overeenkomst, versie 1</a>" in page
    assert '<a href="/dossiers/2025-001">2025-001</a>' in page
    assert "reader@example.org (Lezer)" in page
    # An update shows the changed fields by their labels and values by the label tables.
    update = page[page.index(">Dossiergegevens gewijzigd</td>") :]
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
    assert ">Member removed</td>" in english and ">Confidential document read</td>" in english
    export = client.get("/dossiers/2025-001/audit/export.csv").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(export)))
    assert rows[0][3:5] == ["action", "action_label"]
    assert ["membership.revoke", "Member removed"] in [r[3:5] for r in rows[1:]]


def test_every_audit_action_has_a_translated_label(app: Flask) -> None:
    """Walks AuditAction: a new action without a label (or a Dutch one) fails here."""
    from flask_babel import force_locale

    from dossier import labels
    from dossier.web import audit_view

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


def test_a_document_edit_reads_as_a_sentence(app: Flask, trail: dict) -> None:
    """The audit viewer showed the raw code `document.update` (it had no label)."""
    from dossier import documents
    from dossier.models import Confidentiality, Direction, DocumentKind

    with documents.receive(io.BytesIO(b"tekst\n"), "brief.txt") as upload:
        document = documents.file_document(
            trail["bea"], trail["mine"], upload, kind=DocumentKind.CORRESPONDENCE
        )
    values = {
        "kind": document.kind,
        "title": "Brief aan leverancier",
        "document_date": date(2026, 3, 2),
        "direction": Direction.OUTGOING,
        "correspondent": "Acme B.V.",
    }
    documents.update_metadata(
        trail["bea"], document, values | {"confidentiality": Confidentiality.NORMAL}
    )
    db.session.commit()
    page = app.test_client(user=trail["auditor"]).get("/audit").text
    assert ">Documentgegevens gewijzigd</td>" in page
    assert "document.update" not in page.replace('value="document.update"', "")
    # Every changed detail by its Dutch name and value (the keys showed as they are stored).
    for shown in ("Documentdatum", "2 maart 2026", "Richting", "Uitgaand", "Correspondent"):
        assert shown in page, shown
    for code in ("document_date", "correspondent", "outgoing"):
        assert code not in page, code
