"""The pages of agreements, actions and obligations: who sees them, who changes them, and that a
confidential contract's clause does not leak through them."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import actions, documents, indexing, obligations
from dossier.extensions import db
from dossier.models import (
    Action,
    ActionStatus,
    AuditEvent,
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    DossierStatus,
    MemberRole,
    Obligation,
    User,
)
from tests.dossier.helpers import _english, _section

TODAY = date(2026, 1, 15)
CANARY = "purperreiger"
CONTRACT = """Artikel 1 Definities
In deze overeenkomst wordt verstaan onder Opdrachtnemer: de leverancier.

Artikel 2 Rapportage
Opdrachtnemer levert maandelijks een voortgangsrapportage aan Opdrachtgever.
"""
SECRET = f"""Artikel 1 Definities
In deze bijlage wordt verstaan onder Opdrachtnemer: de leverancier.

Artikel 2 Verzekering
Opdrachtnemer overlegt jaarlijks een verzekeringspolis van {CANARY}.
"""


@pytest.fixture
def world(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, object]:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    people = {
        name: make_user(f"{name}@example.org", name=name.title())
        for name in ("bea", "manager", "reader", "outsider")
    }
    mine = make_dossier(
        "2026-001",
        {
            people["bea"]: MemberRole.BEHEERDER,
            people["manager"]: MemberRole.MANAGER,
            people["reader"]: MemberRole.READER,
        },
        status=DossierStatus.ACTIVE,
        end_on=date(2027, 12, 31),
    )
    other = make_dossier(
        "2026-002", {people["outsider"]: MemberRole.READER}, status=DossierStatus.ACTIVE
    )
    action = actions.create_action(
        people["bea"],
        mine,
        {
            "agreement": "Leverancier levert <script>alert(1)</script> het plan",
            "assignee_id": people["reader"].id,
            "due_on": date(2026, 1, 10),
        },
    )
    obligation = obligations.create_obligation(
        people["bea"],
        mine,
        {
            "party": "supplier",
            "title": "Maandrapportage",
            "recurrence": "monthly",
            "first_due_on": date(2025, 12, 31),
            "until_on": None,
            "owner_id": None,
        },
    )
    db.session.commit()
    return {**people, "mine": mine, "other": other, "action": action, "obligation": obligation}


def _client(app: Flask, user: User):
    return app.test_client(user=user)


def test_the_dossier_page_shows_open_actions_and_missed_obligations(
    app: Flask, world: dict
) -> None:
    page = _client(app, world["reader"]).get("/dossiers/2026-001").text
    section = _section(page, "h-open-actions")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "<script>alert" not in section
    assert "Te laat" in section
    obligations_section = _section(page, "h-obligations")
    assert "Maandrapportage" in obligations_section
    assert "1 vervaldatum van een verplichting is gemist." in obligations_section


@pytest.mark.parametrize(
    "url",
    [
        "/dossiers/2026-001/actions",
        "/dossiers/2026-001/actions/{action}",
        "/dossiers/2026-001/obligations",
        "/dossiers/2026-001/obligations/{obligation}",
    ],
)
def test_another_dossiers_reader_gets_404_and_a_reader_sees(
    app: Flask, world: dict, url: str
) -> None:
    url = url.format(action=world["action"].id, obligation=world["obligation"].id)
    assert _client(app, world["outsider"]).get(url).status_code == 404
    assert _client(app, world["reader"]).get(url).status_code == 200


def test_a_reader_cannot_change_but_may_set_the_status_of_their_own_action(
    app: Flask, world: dict
) -> None:
    reader = _client(app, world["reader"])
    action_id, obligation_id = world["action"].id, world["obligation"].id
    assert reader.post("/dossiers/2026-001/actions", data={"agreement": "x"}).status_code == 403
    assert (
        reader.post(
            "/dossiers/2026-001/obligations",
            data={
                "title": "x",
                "party": "client",
                "recurrence": "once",
                "first_due_on": "2026-02-01",
            },
        ).status_code
        == 403
    )
    assert reader.get("/dossiers/2026-001/obligations/proposals").status_code == 403
    fulfil = f"/dossiers/2026-001/obligations/{obligation_id}/2025-12-31"
    assert reader.post(fulfil, data={"o2025-12-31-fulfilled_on": "2026-01-02"}).status_code == 403
    # The action is assigned to the reader: status and note, nothing else.
    response = reader.post(
        f"/dossiers/2026-001/actions/{action_id}",
        data={"status": "done", "status_note": "gedaan", "agreement": "iets anders"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    action = db.session.get(Action, action_id)
    assert action.status == ActionStatus.DONE and action.agreement.startswith("Leverancier")
    outsider = _client(app, world["outsider"])
    assert outsider.post(f"/dossiers/2026-001/actions/{action_id}", data={}).status_code == 404
    # Another dossier's id under this dossier's reference is no object of it.
    other_action = actions.create_action(world["bea"], world["mine"], {"agreement": "y"})
    db.session.commit()
    assert outsider.get(f"/dossiers/2026-002/actions/{other_action.id}").status_code == 404


def test_a_manager_records_an_action_with_minutes_and_a_bad_form_keeps_its_input(
    app: Flask, world: dict
) -> None:
    manager = _client(app, world["manager"])
    with documents.receive(io.BytesIO(b"Verslag overleg\n"), "verslag.txt") as upload:
        minutes = documents.file_document(
            world["bea"], world["mine"], upload, kind=DocumentKind.MINUTES
        )
    db.session.commit()
    bad = manager.post(
        "/dossiers/2026-001/actions",
        data={"agreement": "", "assignee_text": "Jan (Conduction)", "due_on": "31-02-2026"},
    )
    assert bad.status_code == 400 and "Jan (Conduction)" in bad.text
    response = manager.post(
        "/dossiers/2026-001/actions",
        data={
            "agreement": "Planning bijwerken",
            "meeting_on": "2026-01-12",
            "minutes_id": str(minutes.id),
            "assignee_text": "Jan (Conduction)",
            "due_on": "2026-02-01",
            "status": "open",
        },
    )
    # From a meeting: back to the list, the meeting's date and minutes filled in for the next
    # agreement.
    assert response.status_code == 302
    assert "/dossiers/2026-001/actions?" in response.headers["Location"]
    page = manager.get(response.headers["Location"]).text
    assert "Afspraak vastgelegd; voeg hieronder de volgende uit hetzelfde overleg toe." in page
    assert 'name="meeting_on" type="date" value="2026-01-12"' in page
    assert re.search(
        rf'<option selected value="{minutes.id}"|<option value="{minutes.id}" selected', page
    )
    assert "Planning bijwerken" in page
    made = db.session.scalar(sa.select(Action).where(Action.agreement == "Planning bijwerken"))
    action_page = manager.get(f"/dossiers/2026-001/actions/{made.id}").text
    assert f"/documents/{minutes.id}" in action_page
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "action.create")
        .order_by(AuditEvent.id.desc())
    )
    assert event.after["minutes_id"] == minutes.id


def test_fulfilling_an_occurrence_on_the_page(app: Flask, world: dict) -> None:
    manager = _client(app, world["manager"])
    obligation_id = world["obligation"].id
    url = f"/dossiers/2026-001/obligations/{obligation_id}/2025-12-31"
    response = manager.post(
        url, data={"o2025-12-31-fulfilled_on": "2026-01-03", "o2025-12-31-note": "ontvangen"}
    )
    assert response.status_code == 302
    assert obligations.missed(db.session.get(Obligation, obligation_id), TODAY) == []
    # A due date the obligation does not have: 404; a date in the future: a clear 400.
    assert manager.post(url.replace("2025-12-31", "2025-12-30"), data={}).status_code == 404
    assert manager.post(url.replace("2025-12-31", "morgen"), data={}).status_code == 404
    late = manager.post(url, data={"o2025-12-31-fulfilled_on": "2026-03-01"})
    assert late.status_code == 400 and "toekomst" in late.text


def test_a_proposal_is_dismissed_with_its_reason_and_proposed_again(
    app: Flask, world: dict
) -> None:
    bea = world["bea"]
    with documents.receive(io.BytesIO(CONTRACT.encode()), "overeenkomst.txt") as upload:
        contract = documents.file_document(bea, world["mine"], upload, kind=DocumentKind.CONTRACT)
    with documents.receive(io.BytesIO(SECRET.encode()), "geheim.txt") as upload:
        secret = documents.file_document(
            bea,
            world["mine"],
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    indexing.drain()
    client = _client(app, bea)
    url = "/dossiers/2026-001/obligations/proposals"
    open_clause = next(c for c in contract.current_version.clauses if c.number == "2")
    secret_clause = next(c for c in secret.current_version.clauses if c.number == "2")
    card = f'name="clause_id" type="hidden" value="{secret_clause.id}"'
    assert card in client.get(url).text
    # A reader may not dismiss; a clause the reader may not read, or of another dossier, is as
    # if missing.
    reader = _client(app, world["reader"])
    assert reader.post(f"{url}/{open_clause.id}/dismiss").status_code == 403
    assert reader.post(f"{url}/{secret_clause.id}/dismiss").status_code == 404
    assert client.post(f"{url}/999999/dismiss").status_code == 404
    too_long = client.post(f"{url}/{secret_clause.id}/dismiss", data={"reason": "x" * 501})
    assert too_long.status_code == 302 and card in client.get(url).text
    response = client.post(
        f"{url}/{secret_clause.id}/dismiss", data={"reason": "Staat al in de polisvoorwaarden"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).text
    # Gone from the proposals, listed as dismissed with who and why; the confidential clause's
    # title says only its article number, never its text.
    assert card not in page
    dismissed = _section(page, "h-dismissed")
    assert "Staat al in de polisvoorwaarden" in dismissed and "Bea" in dismissed
    assert "Verplichting uit artikel 2" in dismissed and CANARY not in page
    assert "Rapportage" in page  # the other proposal stays
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "proposal.dismiss"))
    assert event.after["reason"] == "Staat al in de polisvoorwaarden"
    assert event.after["version_id"] == secret.current_version.id
    # A second click changes nothing.
    client.post(f"{url}/{secret_clause.id}/dismiss", data={"reason": "nog eens"})
    page = client.get(url).text
    assert page.count("Staat al in de polisvoorwaarden") == 1 and "nog eens" not in page
    # Proposed again: back on the list, audited, the dismissal gone.
    dismissal_id = event.object_id
    assert reader.post(f"{url}/dismissed/{dismissal_id}/restore").status_code == 403
    restored = client.post(f"{url}/dismissed/{dismissal_id}/restore")
    assert restored.status_code == 302
    page = client.get(url).text
    assert card in page and 'id="h-dismissed"' not in page
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "proposal.restore")
        )
        == 1
    )
    assert client.post(f"{url}/dismissed/{dismissal_id}/restore").status_code == 404


def test_proposals_and_confirming_one(app: Flask, world: dict) -> None:
    bea = world["bea"]
    with documents.receive(io.BytesIO(CONTRACT.encode()), "overeenkomst.txt") as upload:
        documents.file_document(bea, world["mine"], upload, kind=DocumentKind.CONTRACT)
    with documents.receive(io.BytesIO(SECRET.encode()), "geheim.txt") as upload:
        secret = documents.file_document(
            bea,
            world["mine"],
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    indexing.drain()
    client = _client(app, bea)
    page = client.get("/dossiers/2026-001/obligations/proposals").text
    assert "Rapportage" in page and "Maandelijks" in page
    # The sentence that states the duty is the proposed description, kept when confirmed.
    assert re.search(
        r'<textarea[^>]*name="description"[^>]*>\s*Opdrachtnemer levert maandelijks een '
        r"voortgangsrapportage aan Opdrachtgever.</textarea>",
        page,
    )
    assert f"/documents/{secret.id}" in page and CANARY not in page  # withheld, as in search
    assert "Vertrouwelijk: de tekst is te zien" in page
    version = db.session.scalar(sa.select(Document).where(Document.id == secret.id)).current_version
    secret_clause = next(c for c in version.clauses if c.number == "2")
    proposed = f'name="clause_id" type="hidden" value="{secret_clause.id}"'
    assert proposed in page
    # Every card's fields have ids of their own, and each label points at its own card's field.
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "proposal forms share ids"
    assert f'for="p{secret_clause.id}-first_due_on"' in page
    response = client.post(
        "/dossiers/2026-001/obligations",
        data={
            "clause_id": str(secret_clause.id),
            "title": "Verzekeringsbewijs",
            "party": "supplier",
            "recurrence": "yearly",
            "first_due_on": "2026-03-01",
        },
    )
    # Back to the remaining proposals, saying what was registered; this one is proposed no more.
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dossiers/2026-001/obligations/proposals")
    page = client.get(response.headers["Location"]).text
    assert "Verplichting geregistreerd: Verzekeringsbewijs." in page
    assert proposed not in page
    made = db.session.scalar(sa.select(Obligation).where(Obligation.title == "Verzekeringsbewijs"))
    assert made.clause_number == "2"
    # The beheerder sees the link to the clause; the reader may not open the document.
    made_url = f"/dossiers/2026-001/obligations/{made.id}"
    assert "artikel 2" in client.get(made_url).text
    reader_page = _client(app, world["reader"]).get(made_url).text
    assert "artikel 2" not in reader_page and f"/documents/{secret.id}" not in reader_page
    assert "een bepaling uit een document dat u niet mag openen" in reader_page
    # A clause id from another dossier (or none at all) is as if missing.
    bogus = client.post(
        "/dossiers/2026-001/obligations",
        data={"clause_id": "999999", "title": "x", "party": "supplier", "recurrence": "once"},
    )
    assert bogus.status_code == 404
    # Without a first due date the proposal comes back with its message, nothing registered.
    missing_date = client.post(
        "/dossiers/2026-001/obligations",
        data={
            "clause_id": str(secret_clause.id),
            "title": "Nog een",
            "party": "supplier",
            "recurrence": "yearly",
        },
    )
    assert missing_date.status_code == 400
    assert db.session.scalar(sa.select(Obligation).where(Obligation.title == "Nog een")) is None


def test_my_actions_and_the_portfolio_report_in_english(app: Flask, world: dict) -> None:
    reader = _client(app, world["reader"])
    _english(reader)
    page = reader.get("/actions/mine").text
    assert "My actions" in page and "Leverancier levert" in page and "Overdue" in page
    assert "Leverancier levert" not in _client(app, world["outsider"]).get("/actions/mine").text
    obligations.update_obligation(
        world["bea"], world["obligation"], {"owner_id": world["reader"].id}
    )
    db.session.commit()
    page = reader.get("/actions/mine").text
    assert "Obligations you own" in page and "Maandrapportage" in page
    report = reader.get("/reports/obligations").text
    assert "Maandrapportage" in report and "Monthly" in report
    assert "Maandrapportage" not in _client(app, world["outsider"]).get("/reports/obligations").text


def test_forms_carry_a_csrf_token_and_a_post_without_one_is_refused(
    app: Flask, world: dict
) -> None:
    import re

    app.config["WTF_CSRF_ENABLED"] = True
    manager = _client(app, world["manager"])
    url = f"/dossiers/2026-001/obligations/{world['obligation'].id}"
    page = manager.get(url).text
    token = re.search(r'name="o2025-12-31-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    fulfil = f"{url}/2025-12-31"
    refused = manager.post(fulfil, data={"o2025-12-31-fulfilled_on": "2026-01-02"})
    assert refused.status_code == 400
    accepted = manager.post(
        fulfil,
        data={"o2025-12-31-csrf_token": token.group(1), "o2025-12-31-fulfilled_on": "2026-01-02"},
    )
    assert accepted.status_code == 302
    actions_page = manager.get("/dossiers/2026-001/actions").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', actions_page)
    assert token is not None
    assert manager.post("/dossiers/2026-001/actions", data={"agreement": "x"}).status_code == 400
    made = manager.post(
        "/dossiers/2026-001/actions",
        data={"csrf_token": token.group(1), "agreement": "Met token", "status": "open"},
    )
    assert made.status_code == 302


def test_the_audit_trail_names_actions_and_obligations(app: Flask, world: dict) -> None:
    manager = _client(app, world["manager"])
    manager.post(
        f"/dossiers/2026-001/actions/{world['action'].id}",
        data={
            "agreement": "Leverancier levert het plan",
            "assignee_id": str(world["reader"].id),
            "due_on": "2026-01-10",
            "status": "dropped",
            "status_note": "niet meer nodig",
        },
    )
    manager.post(
        f"/dossiers/2026-001/obligations/{world['obligation'].id}/2025-12-31",
        data={"o2025-12-31-fulfilled_on": "2026-01-02", "o2025-12-31-note": "binnen"},
    )
    page = _client(app, world["bea"]).get("/dossiers/2026-001/audit").text
    assert "Actie gewijzigd" in page and "Vervallen" in page and "niet meer nodig" in page
    assert f"/dossiers/2026-001/actions/{world['action'].id}" in page
    assert "Nakoming van verplichting vastgelegd" in page and "Maandrapportage" in page
    assert "2 januari 2026" in page and "Verplichting geregistreerd" in page
    assert "&lt;script&gt;" in page and "<script>alert" not in page


def test_the_obligation_page_has_its_edit_form_once_and_a_plain_title(
    app: Flask, world: dict
) -> None:
    # The form was once pasted into the title and breadcrumb blocks too: three forms with the
    # same ids, the first one above the page's heading.
    page = _client(app, world["bea"]).get(
        f"/dossiers/2026-001/obligations/{world['obligation'].id}"
    )
    assert page.status_code == 200
    html = page.text
    title = html[html.index("<title>") : html.index("</title>")]
    assert "<form" not in title and "<section" not in title
    assert html.count('id="h-edit-obligation"') == 1
    assert html.index("<h1>") < html.index('id="h-edit-obligation"')
