"""The execution plan pages: who reads and edits them, the history they keep, reviews, and the
dashboard's reminder. Computed as of 15 January 2026."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, plans
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Category,
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    DossierStatus,
    MemberRole,
    PlanReview,
    User,
)

URL = "/dossiers/2025-001/plan"


def _file(
    actor: User, dossier: Dossier, title: str, kind: DocumentKind, **extra: object
) -> Document:
    with documents.receive(io.BytesIO(f"{title}\n".encode()), "file.txt") as upload:
        return documents.file_document(actor, dossier, upload, kind=kind, title=title, **extra)  # type: ignore[arg-type]


@pytest.fixture
def people(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, User]:
    app.config["REPORT_DATE"] = "2026-01-15"
    found = {
        "beheerder": make_user("bea@example.org", name="Bea Beheer"),
        "manager": make_user("max@example.org"),
        "reader": make_user("rita@example.org"),
        "outsider": make_user("otto@example.org"),
    }
    make_dossier(
        "2025-001",
        {
            found["beheerder"]: MemberRole.BEHEERDER,
            found["manager"]: MemberRole.MANAGER,
            found["reader"]: MemberRole.READER,
        },
        title="Schoonmaak",
        status=DossierStatus.ACTIVE,
        category=Category.SERVICES,
        start_on=date(2025, 1, 1),
        end_on=date(2027, 12, 31),
        review_months=6,
    )
    make_dossier("2025-002", {found["outsider"]: MemberRole.BEHEERDER})
    return found


def _dossier(reference: str = "2025-001") -> Dossier:
    return db.session.scalars(sa.select(Dossier).where(Dossier.reference == reference)).one()


def test_readers_read_the_plan_and_only_its_beheerder_edits_it(
    app: Flask, people: dict[str, User]
) -> None:
    reader = app.test_client(user=people["reader"])
    page = reader.get(URL)
    assert page.status_code == 200
    assert "nooit te laat" in page.text  # no plan yet: it is never too late to make one
    assert reader.get(f"{URL}/edit").status_code == 403
    assert reader.post(f"{URL}/edit", data={"why": "x"}).status_code == 403
    assert reader.get(f"{URL}/reviews/new").status_code == 403
    assert plans.plan_of(_dossier()) is None  # nothing was made by the refused requests
    # A member of another dossier does not learn this one exists, nor its plan.
    outsider = app.test_client(user=people["outsider"])
    for url in (URL, f"{URL}/edit", f"{URL}/history", f"{URL}/reviews/new"):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"{URL}/edit", data={"why": "x"}).status_code == 404
    # The manager records reviews but does not edit the answers.
    manager = app.test_client(user=people["manager"])
    assert manager.get(f"{URL}/edit").status_code == 403


def test_answers_are_saved_with_their_history(app: Flask, people: dict[str, User]) -> None:
    client = app.test_client(user=people["beheerder"])
    response = client.post(f"{URL}/edit", data={"why": "Schone kantoren", "cost": "€ 100.000"})
    assert response.status_code == 302
    client.post(
        f"{URL}/edit",
        data={"why": "Schone én veilige kantoren", "cost": "€ 100.000", "risks": "<script>x"},
    )
    page = client.get(URL).text
    assert "Schone én veilige kantoren" in page and "&lt;script&gt;x" in page
    history = client.get(f"{URL}/history").text
    assert "Schone kantoren" in history and "Schone én veilige kantoren" in history
    assert "Bea Beheer" in history
    # The edit form starts from the current answers, so saving it again changes nothing.
    assert "Schone én veilige kantoren</textarea>" in client.get(f"{URL}/edit").text
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "plan.answer").order_by(AuditEvent.id)
    ).all()
    assert [e.after["question"] for e in events] == ["why", "cost", "why", "risks"]
    assert events[2].before["text"] == "Schone kantoren"
    # Too long an answer: a clear 400, and what was typed stays in the form.
    long = "x" * 20_001
    response = client.post(f"{URL}/edit", data={"why": long})
    assert response.status_code == 400 and long in response.text
    assert b"Traceback" not in response.data


def test_linked_documents_show_only_to_who_may_read_them(
    app: Flask, admin: User, people: dict[str, User]
) -> None:
    dossier = _dossier()
    annex = _file(admin, dossier, "Plan van aanpak", DocumentKind.ANNEX)
    secret = _file(
        admin,
        dossier,
        "Begroting vertrouwelijk",
        DocumentKind.REPORT,
        confidentiality=Confidentiality.CONFIDENTIAL,
    )
    other = _file(admin, _dossier("2025-002"), "Elders", DocumentKind.ANNEX)
    db.session.commit()
    client = app.test_client(user=people["beheerder"])
    for document in (annex, secret):
        response = client.post(f"{URL}/documents", data={"document_id": str(document.id)})
        assert response.status_code == 302
    # A document of another dossier is not offered, and cannot be linked by its id.
    response = client.post(f"{URL}/documents", data={"document_id": str(other.id)})
    assert response.status_code == 302
    plan = plans.plan_of(dossier)
    assert plan is not None
    assert plans.linked_documents(plan, [annex, secret, other]) == [annex, secret]
    assert "Begroting vertrouwelijk" in client.get(URL).text
    reader_page = app.test_client(user=people["reader"]).get(URL).text
    assert "Plan van aanpak" in reader_page and "Begroting vertrouwelijk" not in reader_page
    reader = app.test_client(user=people["reader"])
    assert reader.post(f"{URL}/documents/{annex.id}/unlink").status_code == 403
    assert client.post(f"{URL}/documents/{annex.id}/unlink").status_code == 302
    assert plans.linked_documents(plan, [annex, secret]) == [secret]


def test_a_review_with_deviations_and_minutes(
    app: Flask, admin: User, people: dict[str, User]
) -> None:
    dossier = _dossier()
    minutes = _file(admin, dossier, "Verslag evaluatie december", DocumentKind.MINUTES)
    db.session.commit()
    beheerder = app.test_client(user=people["beheerder"])
    beheerder.post(f"{URL}/edit", data={"why": "Schone kantoren"})
    manager = app.test_client(user=people["manager"])
    form = manager.get(f"{URL}/reviews/new").text
    assert "Verslag evaluatie december" in form
    # A date ahead, or deviations without saying which: refused with a message, nothing stored.
    for data in (
        {"held_on": "2026-02-01", "outcome": "on_track"},
        {"held_on": "2026-01-10", "outcome": "deviations"},
        {"held_on": "10-01-2026", "outcome": "on_track"},
        {"held_on": "2026-01-10", "outcome": "bogus"},
    ):
        response = manager.post(f"{URL}/reviews/new", data=data)
        assert response.status_code == 400, data
        assert b"Traceback" not in response.data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlanReview)) == 0
    response = manager.post(
        f"{URL}/reviews/new",
        data={
            "held_on": "2026-01-10",
            "participants": "Max, leverancier",
            "outcome": "change_plan",
            "deviation_budget": "10% boven begroting",
            "deviation_approach": "andere ploegendienst",
            "minutes": str(minutes.id),
            "new_version": "y",
        },
    )
    assert response.status_code == 302
    page = beheerder.get(URL).text
    assert "10% boven begroting" in page and "andere ploegendienst" in page
    assert "Verslag evaluatie december" in page
    plan = plans.plan_of(dossier)
    assert plan is not None and plan.version == 2
    (review,) = plans.reviews(plan)
    assert review.new_plan_version == 2 and review.minutes_document_id == minutes.id
    # The history of reviews is on the dossier page too, for every reader of the dossier.
    dossier_page = app.test_client(user=people["reader"]).get("/dossiers/2025-001").text
    assert "Plan wordt aangepast" in dossier_page and "Aanpak, Budget" in dossier_page
    assert "1 van de zeven vragen beantwoord" in dossier_page
    # The audit trail names the review and its values as the pages do.
    trail = beheerder.get("/dossiers/2025-001/audit").text
    assert "Evaluatie uitvoeringsplan: 10 januari 2026" in trail
    assert "Budget: 10% boven begroting" in trail and "Aanpak: andere ploegendienst" in trail
    assert "held_on" not in trail and "minutes_document_id" not in trail
    assert "plan_review" not in trail and "Plan wordt aangepast" in trail


def test_the_plan_pages_in_english(app: Flask, people: dict[str, User]) -> None:
    client = app.test_client(user=people["beheerder"])
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    page = client.get(URL).text
    assert "Execution plan of 2025-001" in page and "never too late" in page
    assert "Why are we doing this?" in client.get(f"{URL}/edit").text


def test_the_dashboard_shows_a_missing_plan_then_an_overdue_review(
    app: Flask, people: dict[str, User]
) -> None:
    client = app.test_client(user=people["beheerder"])
    page = client.get("/overview").text
    assert 'id="h-plans"' in page and f'href="{URL}"' in page
    client.post(f"{URL}/edit", data={"why": "Schone kantoren"})
    page = client.get("/overview").text
    assert 'id="h-plans"' in page  # answered now, but the review of 1 July 2025 is overdue
    assert "1 juli 2025" in page
    completeness = client.get("/reports/completeness").text
    assert "2025-001" in completeness
    client = app.test_client(user=people["manager"])
    client.post(f"{URL}/reviews/new", data={"held_on": "2025-12-01", "outcome": "on_track"})
    assert 'id="h-plans"' not in app.test_client(user=people["beheerder"]).get("/overview").text
    # The other dossier's beheerder never sees this dossier in the reminder.
    assert "2025-001" not in app.test_client(user=people["outsider"]).get("/overview").text


def test_an_invoice_is_filed_with_its_amount_and_period(
    app: Flask, people: dict[str, User]
) -> None:
    client = app.test_client(user=people["beheerder"])
    url = "/dossiers/2025-001/documents/new"

    def upload(**fields: str) -> object:
        data = {"kind": "invoice", "confidentiality": "normal", **fields}
        data["file"] = (io.BytesIO(b"Factuur januari\n"), "factuur.txt")  # type: ignore[assignment]
        return client.post(url, data=data, content_type="multipart/form-data")

    bad = upload(invoice_amount="1.250,00", invoice_from="2026-01-31", invoice_to="2026-01-01")
    assert bad.status_code == 400 and "de periode eindigt voordat ze begint" in bad.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
    good = upload(invoice_amount="1.250,00", invoice_from="2026-01-01", invoice_to="2026-01-31")
    assert good.status_code == 302
    invoice = db.session.scalars(sa.select(Document)).one()
    assert invoice.invoice_amount == Decimal("1250.00")
    assert (invoice.invoice_from, invoice.invoice_to) == (date(2026, 1, 1), date(2026, 1, 31))
    page = client.get(f"/dossiers/2025-001/documents/{invoice.id}").text
    assert "1.250,00" in page and "31 januari 2026" in page
