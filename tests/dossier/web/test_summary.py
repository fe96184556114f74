"""The one-page dossier summary for the contract owner: key data, term, the execution plan's
last review, open actions, obligations and KPI status, for whoever may read the dossier."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from flask import Flask
from pypdf import PdfReader

from dossier import actions, contacts, deadlines, obligations, performance, plans
from dossier.extensions import db
from dossier.models import Dossier, MemberRole, PlanQuestion, ReviewOutcome, User


def test_the_summary_holds_what_the_owner_needs_on_one_page(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    owner = make_user("eigenaar@example.org", name="Olga Eigenaar")
    outsider = make_user("buiten@example.org")
    today = deadlines.local_today()
    dossier = make_dossier(
        "2026-500",
        {owner: MemberRole.OWNER},
        supplier="Leverancier ICT B.V.",
        status="active",
        start_on=today - timedelta(days=400),
        end_on=today + timedelta(days=300),
        value=Decimal("120000.00"),
        review_months=6,
    )
    plan = plans.create_plan(admin, dossier)
    plans.save_answers(admin, plan, {PlanQuestion.WHY: "Een werkende softwarecatalogus."})
    held = today - timedelta(days=30)
    plans.record_review(admin, plan, plans.ReviewInput(held, ReviewOutcome.ON_TRACK), today)
    actions.create_action(
        admin,
        dossier,
        {"agreement": "Exitplan opstellen", "assignee_text": "Leverancier", "due_on": today},
    )
    obligations.create_obligation(
        admin,
        dossier,
        {
            "party": "supplier",
            "title": "Maandrapportage beschikbaarheid",
            "recurrence": "monthly",
            "first_due_on": today - timedelta(days=70),
            "until_on": None,
            "owner_id": None,
        },
    )
    kpi = performance.create_kpi(
        admin,
        dossier,
        {
            "name": "Beschikbaarheid",
            "norm": Decimal("99.5"),
            "direction": "higher",
            "period": "month",
        },
    )
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    performance.record_measurement(admin, kpi, {"period": month, "value": Decimal("97.1")})
    jan = contacts.add_contact(
        admin,
        dossier,
        {"name": "Jan Accountmanager", "role": "account_manager", "email": "jan@lev.example"},
    )
    contacts.add_mandate(admin, jan, "sign_amendments", Decimal("25000"))
    db.session.commit()

    page = app.test_client(user=owner).get("/dossiers/2026-500/summary")
    assert page.status_code == 200
    text = page.text
    for expected in (
        "Leverancier ICT B.V.",
        "Olga Eigenaar",
        "1 van de zeven vragen beantwoord",
        f"Laatste evaluatie: {held.day}",
        "Exitplan opstellen",
        "Maandrapportage beschikbaarheid",
        "gemist",
        "Beschikbaarheid",
        "badge-rag-red",
        "Jan Accountmanager",
        "jan@lev.example",
        "Mag wijzigingen tekenen tot €\xa025.000,00",
        "Downloaden als pdf",
    ):
        assert expected in text, expected
    # The same page as a PDF file, rendered on the server: its text holds the same facts.
    pdf = app.test_client(user=owner).get("/dossiers/2026-500/summary.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", pdf.text[:3000]
    assert "2026-500-samenvatting.pdf" in pdf.headers["Content-Disposition"]
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    pdf_text = " ".join(pdf_text.split())
    for expected in ("Leverancier ICT B.V.", "Exitplan opstellen", "Jan Accountmanager"):
        assert expected in pdf_text, expected
    assert "Downloaden als pdf" not in pdf_text and "Contractregister" not in pdf_text
    outsider_pdf = app.test_client(user=outsider).get("/dossiers/2026-500/summary.pdf")
    assert outsider_pdf.status_code == 404
    # The dossier page links to it; someone who may not read the dossier gets nothing.
    assert (
        "/dossiers/2026-500/summary" in app.test_client(user=owner).get("/dossiers/2026-500").text
    )
    assert app.test_client(user=outsider).get("/dossiers/2026-500/summary").status_code == 404


def test_an_empty_dossier_has_a_summary_too(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2026-501")
    text = app.test_client(user=admin).get("/dossiers/2026-501/summary").text
    assert "Nog geen uitvoeringsplan." in text and "Nog geen evaluatie vastgelegd." in text
    assert "Geen open acties." in text


def test_an_overdue_review_names_when_it_was_due_and_the_next_date_of_the_schedule(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    today = deadlines.local_today()
    start = today - timedelta(days=400)
    dossier = make_dossier("2026-502", status="active", start_on=start, review_months=6)
    plans.create_plan(admin, dossier)
    db.session.commit()
    due = plans.next_review_on(dossier, None)
    scheduled = plans.next_scheduled(dossier, None, today)
    assert due is not None and due < today
    # The schedule's next date is what the deadlines list shows next: today or later.
    assert scheduled is not None and today <= scheduled < today + timedelta(days=190)
    coming = [d.due_on for d in deadlines.for_dossiers([dossier], today) if d.due_on >= today]
    assert scheduled in coming
    client = app.test_client(user=admin)
    for page in ("/dossiers/2026-502", "/dossiers/2026-502/summary"):
        text = client.get(page).text
        assert "Evaluatie te laat sinds" in text and "Volgende volgens het schema" in text, page


def test_the_dashboard_with_only_an_action_draws_no_empty_deadline_table(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    # A dossier without dates has no contract deadlines; an action due today is the only task.
    dossier = make_dossier("2026-503", {admin: MemberRole.BEHEERDER})
    today = deadlines.local_today()
    actions.create_action(admin, dossier, {"agreement": "Offerte opvragen", "due_on": today})
    db.session.commit()
    page = app.test_client(user=admin).get("/overview").text
    digest = page[page.index('id="h-digest"') : page.index('id="h-deadlines"')]
    assert "Offerte opvragen" in digest
    # No contract deadline needs the user, the actions and obligations do: said so, not denied.
    assert "Geen contracttermijn (opzegging, optie, einde, aanbesteding) vraagt uw actie" in digest
    assert "de acties en verplichtingen hieronder wel" in digest and "<table" in digest
    assert digest.count("<table") == 1


def test_the_portfolio_role_sees_and_is_told_the_state_of_every_dossier(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    """Without a membership anywhere, the portfolio user's dashboard and digest name the red
    KPIs, overdue actions and missed obligations of every running dossier; a reader's do not."""
    from dossier import digest
    from dossier.models import GlobalRole

    cm = make_user("cm@example.org", role=GlobalRole.PORTFOLIO)
    reader = make_user("lezer@example.org")
    today = deadlines.local_today()
    running = make_dossier("2026-504", {reader: MemberRole.READER}, status="active")
    other = make_dossier("2026-505", status="active")
    ended = make_dossier("2026-506", status="ended")
    kpi = performance.create_kpi(
        admin,
        other,
        {"name": "Reactietijd", "norm": Decimal("4"), "direction": "lower", "period": "month"},
    )
    month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    performance.record_measurement(admin, kpi, {"period": month, "value": Decimal("9")})
    late = actions.create_action(
        admin, running, {"agreement": "Exitplan opstellen", "due_on": today - timedelta(days=3)}
    )
    actions.create_action(admin, running, {"agreement": "Later", "due_on": today + timedelta(9)})
    actions.create_action(
        admin, ended, {"agreement": "Oud en afgesloten", "due_on": today - timedelta(days=90)}
    )
    obligations.create_obligation(
        admin,
        other,
        {
            "party": "supplier",
            "title": "Verzekeringsbewijs",
            "recurrence": "once",
            "first_due_on": today - timedelta(days=10),
            "until_on": None,
            "owner_id": None,
        },
    )
    db.session.commit()

    page = app.test_client(user=cm).get("/overview").text
    section = page[page.index('id="h-portfolio"') : page.index('id="h-digest"')]
    assert "er lopen er 2" in section  # the ended dossier is not running
    assert "2026-505 · Reactietijd" in section and "2026-504 · Exitplan opstellen" in section
    assert "Oud en afgesloten" not in section and "Later" not in section
    assert "<strong>1</strong> KPI rood" in section and "er lopen er 2" in section
    assert "<strong>1</strong> actie te laat" in section
    assert "<strong>1</strong> verplichting met een gemiste vervaldatum" in section
    assert 'href="/performance"' in section and 'href="/reports/obligations"' in section
    assert 'id="h-portfolio"' not in app.test_client(user=reader).get("/overview").text

    assert cm in digest.recipients()
    told = digest.compose(cm, today)
    assert not told.is_empty and told.across is not None
    text = digest.render_text(told)
    assert "In de hele portefeuille (2 lopende dossiers):" in text
    assert "KPI's: 1 rood, 0 oranje, 0 groen, 0 niet gemeten." in text
    assert "Open acties: 2, waarvan 1 te laat." in text
    assert f"/dossiers/2026-504/actions/{late.id}" in text
    assert "Verzekeringsbewijs (1 datum gemist)" in text
    assert digest.compose(reader, today).across is None
