"""The execution plan as a record: answers with their history, linked documents, reviews, and
which running contracts need a plan or a review (dashboard, completeness, deadlines, CLI).

Computed as of Thursday 15 January 2026. The services contract 2025-001 started on 1 January
2025 and its plan is reviewed every 6 months: the first review was due on 1 July 2025.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from icalendar import Calendar

from dossier import calendar_feed, deadlines, documents, plans, reports
from dossier.cli import cli
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Category,
    Confidentiality,
    DeviationArea,
    Document,
    DocumentKind,
    Dossier,
    DossierStatus,
    MemberRole,
    PlanAnswer,
    PlanQuestion,
    ReviewOutcome,
    User,
)

TODAY = date(2026, 1, 15)


def _file(actor: User, dossier: Dossier, title: str, kind: DocumentKind) -> Document:
    with documents.receive(io.BytesIO(f"{title}\n".encode()), "file.txt") as upload:
        return documents.file_document(actor, dossier, upload, kind=kind, title=title)


@pytest.fixture
def running(app: Flask, make_dossier: Callable[..., Dossier]) -> Dossier:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    return make_dossier(
        "2025-001",
        status=DossierStatus.ACTIVE,
        category=Category.SERVICES,
        start_on=date(2025, 1, 1),
        end_on=date(2027, 12, 31),
        review_months=6,
    )


def _events(action: str) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_every_change_of_an_answer_is_kept_and_audited(admin: User, running: Dossier) -> None:
    plan = plans.create_plan(admin, running)
    assert plans.create_plan(admin, running) is plan  # one plan per dossier
    changed = plans.save_answers(
        admin, plan, {PlanQuestion.WHY: "Schone kantoren", PlanQuestion.COST: "€ 100.000"}
    )
    assert changed == [PlanQuestion.WHY, PlanQuestion.COST]
    # The same text again changes nothing; a new text adds a row, the old one stays.
    assert plans.save_answers(admin, plan, {PlanQuestion.WHY: " Schone kantoren "}) == []
    plans.save_answers(admin, plan, {PlanQuestion.WHY: "Schone en veilige kantoren"})
    db.session.commit()
    rows = [(a.question, a.text) for a in plans.history(plan)]
    assert rows == [
        (PlanQuestion.WHY, "Schone kantoren"),
        (PlanQuestion.COST, "€ 100.000"),
        (PlanQuestion.WHY, "Schone en veilige kantoren"),
    ]
    assert plans.current_answers(plan)[PlanQuestion.WHY].text == "Schone en veilige kantoren"
    assert all(a.changed_by_id == admin.id and a.changed_at for a in plans.history(plan))
    last = _events("plan.answer")[-1]
    assert last.before == {"question": "why", "text": "Schone kantoren"}
    assert last.after["text"] == "Schone en veilige kantoren"
    assert last.dossier_id == running.id and last.actor_id == admin.id
    assert len(_events("plan.create")) == 1
    with pytest.raises(ValidationError):
        plans.save_answers(admin, plan, {PlanQuestion.RISKS: "x" * (plans.MAX_ANSWER + 1)})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlanAnswer)) == 3


def test_documents_of_the_plan_are_links_of_any_title(
    admin: User, running: Dossier, make_dossier: Callable[..., Dossier]
) -> None:
    plan = plans.create_plan(admin, running)
    annex = _file(admin, running, "Plan van aanpak (inschrijving)", DocumentKind.ANNEX)
    elsewhere = _file(admin, make_dossier("2025-002"), "Uitvoeringsplan", DocumentKind.ANNEX)
    assert plans.link_document(admin, plan, annex) is True
    assert plans.link_document(admin, plan, annex) is False  # linked once
    with pytest.raises(ValidationError):
        plans.link_document(admin, plan, elsewhere)
    assert plans.linked_documents(plan, [annex, elsewhere]) == [annex]
    assert plans.unlink_document(admin, plan, annex) is True
    assert plans.linked_documents(plan, [annex]) == []
    assert [e.after for e in _events("plan.document_link")] == [
        {"document_id": annex.id, "title": "Plan van aanpak (inschrijving)"}
    ]
    assert len(_events("plan.document_unlink")) == 1


def test_a_document_filed_or_corrected_as_an_execution_plan_is_linked_to_the_plan(
    admin: User, running: Dossier, make_dossier: Callable[..., Dossier]
) -> None:
    filed = _file(admin, running, "Uitvoeringsplan 2026", DocumentKind.EXECUTION_PLAN)
    db.session.commit()
    plan = plans.plan_of(running)
    assert plan is not None and plans.linked_documents(plan, [filed]) == [filed]
    assert len(_events("plan.create")) == 1 and len(_events("plan.document_link")) == 1
    # A plan record with a document but no answers is still no plan for the dashboard.
    assert plans.answered_dossier_ids([running.id]) == set()
    # Another document corrected to the kind is linked too; other kinds are not.
    minutes = _file(admin, running, "Verslag", DocumentKind.MINUTES)
    approach = _file(admin, running, "Aanpak", DocumentKind.ANNEX)
    values = documents.metadata_snapshot(approach) | {
        "kind": DocumentKind.EXECUTION_PLAN,
        "confidentiality": Confidentiality.NORMAL,
        "document_date": None,
    }
    documents.update_metadata(admin, approach, values)
    db.session.commit()
    assert plans.linked_documents(plan, [filed, minutes, approach]) == [filed, approach]
    assert len(_events("plan.create")) == 1


def test_a_review_records_deviations_minutes_and_the_new_plan_version(
    admin: User, running: Dossier, make_dossier: Callable[..., Dossier]
) -> None:
    plan = plans.create_plan(admin, running)
    minutes = _file(admin, running, "Verslag evaluatie", DocumentKind.MINUTES)
    other = _file(admin, make_dossier("2025-002"), "Verslag", DocumentKind.MINUTES)
    bad = {
        "held_on": plans.ReviewInput(date(2026, 2, 1), ReviewOutcome.ON_TRACK),
        "deviations": plans.ReviewInput(date(2026, 1, 10), ReviewOutcome.DEVIATIONS),
        "new_version": plans.ReviewInput(
            date(2026, 1, 10), ReviewOutcome.ON_TRACK, new_version=True
        ),
        "minutes": plans.ReviewInput(date(2026, 1, 10), ReviewOutcome.ON_TRACK, minutes=other),
    }
    for field, data in bad.items():
        with pytest.raises(ValidationError) as caught:
            plans.record_review(admin, plan, data, TODAY)
        assert field in caught.value.errors
    on_track_with_deviation = plans.ReviewInput(
        date(2026, 1, 10), ReviewOutcome.ON_TRACK, deviations=((DeviationArea.BUDGET, "x"),)
    )
    with pytest.raises(ValidationError):
        plans.record_review(admin, plan, on_track_with_deviation, TODAY)
    review = plans.record_review(
        admin,
        plan,
        plans.ReviewInput(
            date(2026, 1, 10),
            ReviewOutcome.CHANGE_PLAN,
            participants="Bea (beheerder), Sam (leverancier)",
            deviations=(
                (DeviationArea.BUDGET, "10% over budget"),
                (DeviationArea.RESULT, "oplevering 2 maanden later"),
            ),
            minutes=minutes,
            new_version=True,
        ),
        TODAY,
    )
    db.session.commit()
    assert plan.version == 2 and review.new_plan_version == 2
    assert [(d.area, d.description) for d in review.deviations] == [
        (DeviationArea.BUDGET, "10% over budget"),
        (DeviationArea.RESULT, "oplevering 2 maanden later"),
    ]
    assert review.minutes == minutes
    # Answers given after the review belong to the new version.
    plans.save_answers(admin, plan, {PlanQuestion.COST: "€ 110.000"})
    assert plans.current_answers(plan)[PlanQuestion.COST].plan_version == 2
    (event,) = _events("plan.review")
    assert event.after["outcome"] == "change_plan" and event.after["new_plan_version"] == 2
    assert event.after["deviations"] == [
        ["budget", "10% over budget"],
        ["result", "oplevering 2 maanden later"],
    ]
    assert plans.reviews(plan) == [review]


def test_a_running_contract_without_a_plan_then_with_an_overdue_review(
    app: Flask, admin: User, running: Dossier, make_dossier: Callable[..., Dossier]
) -> None:
    # A supplies contract needs no plan by the default rules; a draft is no running contract.
    make_dossier("2025-002", status=DossierStatus.ACTIVE, category=Category.SUPPLIES)
    make_dossier("2025-003", status=DossierStatus.DRAFT, category=Category.SERVICES)

    def attention() -> list[tuple[str, str, date | None]]:
        found = reports.plan_attention(db.session.scalars(sa.select(Dossier)), TODAY)
        return [(a.dossier.reference, a.reason, a.review_due_on) for a in found]

    def missing() -> list[str]:
        table, _complete = reports.completeness_report(admin, today=TODAY)
        rows = {r["reference"]: r["missing"] for r in table.records()}
        return rows.get("2025-001", [])

    # A document of the execution-plan kind, or with the word in its title, is no plan record.
    _file(admin, running, "Uitvoeringsplan 2025", DocumentKind.EXECUTION_PLAN)
    db.session.commit()
    assert attention() == [("2025-001", "no_plan", date(2025, 7, 1))]
    assert "execution_plan" in missing()
    plan = plans.create_plan(admin, running)
    assert attention()[0][1] == "no_plan"  # a plan that answers nothing is no plan yet
    plans.save_answers(admin, plan, {PlanQuestion.WHY: "Schone kantoren"})
    db.session.commit()
    # Start 1 January 2025 + 6 months = 1 July 2025 < 15 January 2026: overdue.
    assert attention() == [("2025-001", "review_overdue", date(2025, 7, 1))]
    assert "execution_plan" not in missing() and "execution_plan_review" in missing()
    review_deadlines = [
        (d.due_on, d.status.value)
        for d in deadlines.for_dossiers([running], TODAY)
        if d.kind.value == "review"
    ]
    # The deadlines keep the latest review date passed (1 January 2026) as missed.
    assert review_deadlines[0] == (date(2026, 1, 1), "missed")
    plans.record_review(
        admin, plan, plans.ReviewInput(date(2025, 12, 1), ReviewOutcome.ON_TRACK), TODAY
    )
    db.session.commit()
    assert attention() == []
    assert "execution_plan_review" not in missing()
    # The next review counts from the last one held: 1 June 2026, then every 6 months.
    review_deadlines = [
        (d.due_on, d.status.value)
        for d in deadlines.for_dossiers([running], TODAY)
        if d.kind.value == "review"
    ]
    assert review_deadlines[:2] == [(date(2026, 6, 1), "open"), (date(2026, 12, 1), "open")]
    # ... and so does the iCalendar feed of the dossier's beheerder.
    feed = Calendar.from_ical(calendar_feed.feed(admin, TODAY, lambda ref: f"/dossiers/{ref}"))
    starts = {e.get("dtstart").dt for e in feed.walk("VEVENT")}
    assert date(2026, 6, 1) in starts and date(2026, 1, 1) not in starts
    assert plans.next_review_on(running, date(2025, 12, 1)) == date(2026, 6, 1)


def test_the_plans_report_is_filtered_and_scriptable(
    app: Flask,
    admin: User,
    running: Dossier,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    reader = make_user("reader@example.org")
    hidden = make_dossier(
        "2025-009", status=DossierStatus.ACTIVE, category=Category.WORKS, title="Geheim"
    )
    make_dossier(
        "2025-008",
        {reader: MemberRole.READER},
        status=DossierStatus.ACTIVE,
        category=Category.WORKS,
        value=Decimal("1000"),
    )
    assert hidden.id
    table = reports.plan_report(reader, TODAY)
    assert [(r["reference"], r["attention"]) for r in table.records()] == [("2025-008", "no_plan")]
    runner = app.test_cli_runner()
    base = ["report", "plans", "--as", "admin@example.org", "--date", "2026-01-15"]
    result = runner.invoke(cli, [*base, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["reference"] for r in rows] == ["2025-001", "2025-008", "2025-009"]
    assert rows[0]["attention"] == "no_plan" and rows[0]["attention_label"] == "No execution plan"
    assert rows[0]["review_due_on"] == "2025-07-01" and rows[0]["days_overdue"] == 198
    result = runner.invoke(cli, [*base, "--lang", "nl"])
    assert result.exit_code == 0 and "2025-001" in result.output


def test_an_invoice_records_its_amount_and_period(admin: User, running: Dossier) -> None:
    invoice = _file(admin, running, "Factuur januari", DocumentKind.INVOICE)
    db.session.commit()
    enums = {"direction": None, "confidentiality": Confidentiality.NORMAL}
    values: dict[str, Any] = documents.metadata_snapshot(invoice) | enums
    values["kind"] = DocumentKind.INVOICE
    for wrong, field in (
        ({"invoice_amount": Decimal("-1")}, "invoice_amount"),
        ({"invoice_from": date(2026, 1, 31), "invoice_to": date(2026, 1, 1)}, "invoice_to"),
    ):
        with pytest.raises(ValidationError) as caught:
            documents.update_metadata(admin, invoice, values | wrong)
        assert field in caught.value.errors
        db.session.rollback()
    changes = documents.update_metadata(
        admin,
        invoice,
        values
        | {
            "invoice_amount": Decimal("1234.5"),
            "invoice_from": date(2026, 1, 1),
            "invoice_to": date(2026, 1, 31),
        },
    )
    db.session.commit()
    assert changes["invoice_amount"] == (None, "1234.50")
    assert (invoice.invoice_from, invoice.invoice_to) == (date(2026, 1, 1), date(2026, 1, 31))
    event = _events("document.update")[-1]
    assert event.after == {
        "invoice_amount": "1234.50",
        "invoice_from": "2026-01-01",
        "invoice_to": "2026-01-31",
    }
    # Another kind records no amount: making it an annex clears them (audited too).
    documents.update_metadata(
        admin, invoice, documents.metadata_snapshot(invoice) | enums | {"kind": DocumentKind.ANNEX}
    )
    db.session.commit()
    assert invoice.invoice_amount is None and invoice.invoice_from is None


def test_the_execution_plan_migration_keeps_every_row_both_ways(tmp_path: Any) -> None:
    """Upgrading adds the plan tables, the invoice columns and the new kind to the document
    table's CHECK constraint in place (no table rebuild, so no cascade); downgrading turns
    execution-plan documents into annexes and keeps every document."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import downgrade, upgrade

    from dossier import create_app, dossiers
    from dossier.database import MIGRATIONS_DIR
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        user = User(email="b@example.org", name="B", password_hash="x")
        db.session.add(user)
        db.session.flush()
        dossier = dossiers.create_dossier(user, {"reference": "2025-001", "title": "Schoonmaak"})
        _file(user, dossier, "Plan van aanpak", DocumentKind.EXECUTION_PLAN)
        _file(user, dossier, "Factuur", DocumentKind.INVOICE)
        plan = plans.create_plan(user, dossier)
        plans.save_answers(user, plan, {PlanQuestion.WHY: "Schone kantoren"})
        db.session.commit()
        db.session.remove()

        def sql(statement: str) -> Any:
            with db.engine.begin() as connection:
                result = connection.exec_driver_sql(statement)
                return result.fetchall() if result.returns_rows else result.rowcount

        downgrade(directory=MIGRATIONS_DIR, revision="clause_types")
        assert sql("SELECT kind FROM document ORDER BY id") == [("annex",), ("invoice",)]
        assert sql("SELECT count(*) FROM dossier") == [(1,)]
        tables = {r[0] for r in sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "execution_plan" not in tables and "plan_answer" not in tables
        with pytest.raises(sa.exc.IntegrityError):
            sql("UPDATE document SET kind = 'execution_plan'")
        upgrade(directory=MIGRATIONS_DIR)
        assert sql("SELECT count(*) FROM document") == [(2,)]
        assert sql("UPDATE document SET kind = 'execution_plan' WHERE kind = 'annex'") == 1
        with pytest.raises(sa.exc.IntegrityError):
            sql("UPDATE document SET kind = 'nonsense'")
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        db.session.remove()
        db.engine.dispose()


def test_an_archived_dossier_keeps_its_plan_as_it_was(admin: User, running: Dossier) -> None:
    plan = plans.create_plan(admin, running)
    plans.save_answers(admin, plan, {PlanQuestion.WHY: "Schone kantoren"})
    annex = _file(admin, running, "Plan van aanpak", DocumentKind.ANNEX)
    running.status = DossierStatus.ARCHIVED
    db.session.commit()
    review = plans.ReviewInput(date(2026, 1, 10), ReviewOutcome.ON_TRACK)
    for attempt in (
        lambda: plans.save_answers(admin, plan, {PlanQuestion.WHY: "Anders"}),
        lambda: plans.link_document(admin, plan, annex),
        lambda: plans.record_review(admin, plan, review, TODAY),
    ):
        with pytest.raises(ValidationError) as caught:
            attempt()
        assert "dossier" in caught.value.errors
    assert plans.current_answers(plan)[PlanQuestion.WHY].text == "Schone kantoren"
