"""Agreements and actions, and the obligations register: the services, the due dates a
recurrence gives (month ends, leap years), what is overdue or missed, proposals from a filed
contract's clauses (confidential ones withheld), and where they show up: the deadlines report,
the digest (mailed over real SMTP), the iCalendar feed, the portfolio report and its CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from icalendar import Calendar

from dossier import (
    actions,
    calendar_feed,
    deadlines,
    digest,
    documents,
    indexing,
    obligation_proposals,
    obligations,
    reports,
)
from dossier.cli import cli
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    ActionStatus,
    AuditEvent,
    Clause,
    Confidentiality,
    DeadlineStatus,
    Document,
    DocumentKind,
    Dossier,
    DossierStatus,
    MemberRole,
    ObligationParty,
    Recurrence,
    User,
)
from tests.dossier.test_reports import _Sink, smtp_sink  # noqa: F401 (a fixture)

TODAY = date(2026, 1, 15)
CANARY = "zilverreiger"

CONTRACT = """Artikel 1 Definities
In deze overeenkomst wordt verstaan onder Opdrachtnemer: de leverancier.

Artikel 2 Rapportage
Opdrachtnemer levert maandelijks een voortgangsrapportage aan Opdrachtgever.

Artikel 3 Verzekering
Opdrachtnemer overlegt jaarlijks een bewijs van verzekering van zijn aansprakelijkheid.

Artikel 4 Prijsindexering
De prijzen worden eenmaal per jaar aangepast aan de CBS-prijsindex.

Artikel 5 Toepasselijk recht
Op deze overeenkomst is Nederlands recht van toepassing.
"""
SECRET = f"""Artikel 8 Definities
In deze bijlage wordt verstaan onder Opdrachtnemer: de leverancier.

Artikel 9 Rapportage
Opdrachtnemer rapporteert per kwartaal over {CANARY}.
"""


# Recurrence


@pytest.mark.parametrize(
    ("first", "recurrence", "last", "expected"),
    [
        (
            date(2026, 1, 31),
            Recurrence.MONTHLY,
            date(2026, 5, 31),
            ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"],
        ),
        (
            date(2024, 1, 31),
            Recurrence.MONTHLY,
            date(2024, 3, 1),
            ["2024-01-31", "2024-02-29"],  # a leap year's February
        ),
        (
            date(2024, 2, 29),
            Recurrence.YEARLY,
            date(2028, 12, 31),
            ["2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"],
        ),
        (
            date(2025, 11, 30),
            Recurrence.QUARTERLY,
            date(2026, 12, 1),
            ["2025-11-30", "2026-02-28", "2026-05-30", "2026-08-30", "2026-11-30"],
        ),
        (date(2026, 3, 1), Recurrence.ONCE, date(2030, 1, 1), ["2026-03-01"]),
        (date(2026, 3, 1), Recurrence.MONTHLY, date(2026, 2, 1), []),
    ],
)
def test_schedule_counts_from_the_first_date(
    first: date, recurrence: Recurrence, last: date, expected: list[str]
) -> None:
    assert [d.isoformat() for d in obligations.schedule(first, recurrence, last)] == expected


def test_schedule_is_bounded() -> None:
    dates = obligations.schedule(date(2000, 1, 1), Recurrence.MONTHLY, date(9999, 1, 1))
    assert len(dates) == obligations.MAX_OCCURRENCES


# A world: a beheerder, a manager, a reader of 2026-001, an outsider with 2026-002


@pytest.fixture
def world(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> dict[str, object]:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    bea = make_user("bea@example.org", name="Bea Beheer")
    manager = make_user("manager@example.org", name="Max Manager")
    reader = make_user("reader@example.org", name="Rita Reader")
    outsider = make_user("outsider@example.org", name="Otto Outsider")
    mine = make_dossier(
        "2026-001",
        {bea: MemberRole.BEHEERDER, manager: MemberRole.MANAGER, reader: MemberRole.READER},
        supplier="Conduction",
        status=DossierStatus.ACTIVE,
        start_on=date(2025, 1, 1),
        end_on=date(2027, 12, 31),
    )
    other = make_dossier(
        "2026-002",
        {outsider: MemberRole.BEHEERDER},
        status=DossierStatus.ACTIVE,
        end_on=date(2028, 6, 30),
    )
    return {
        "admin": admin,
        "bea": bea,
        "manager": manager,
        "reader": reader,
        "outsider": outsider,
        "mine": mine,
        "other": other,
    }


def _file(actor: User, dossier: Dossier, text: str, name: str, **options: object) -> Document:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(actor, dossier, upload, **options)
    db.session.commit()
    return document


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# Actions


def test_an_action_from_a_meeting_is_recorded_changed_and_audited(app: Flask, world: dict) -> None:
    bea, manager, mine = world["bea"], world["manager"], world["mine"]
    minutes = _file(
        bea, mine, "Verslag overleg 12 januari\n", "verslag.txt", kind=DocumentKind.MINUTES
    )
    action = actions.create_action(
        bea,
        mine,
        {
            "agreement": "Leverancier stuurt een plan van aanpak voor de migratie.",
            "meeting_on": date(2026, 1, 12),
            "minutes_id": minutes.id,
            "assignee_id": None,
            "assignee_text": "Jan Jansen (accountmanager Conduction)",
            "due_on": date(2026, 1, 10),
        },
    )
    db.session.commit()
    assert action.status == ActionStatus.OPEN and action.minutes_id == minutes.id
    assert actions.is_overdue(action, TODAY)
    (created,) = _events("action.create")
    assert created.after["assignee_text"] == "Jan Jansen (accountmanager Conduction)"
    actions.update_action(manager, action, {"status": "done", "status_note": "ontvangen"})
    db.session.commit()
    (changed,) = _events("action.update")
    assert changed.before == {"status": "open", "status_note": ""}
    assert changed.after == {"status": "done", "status_note": "ontvangen"}
    assert not actions.is_overdue(action, TODAY)
    actions.update_action(manager, action, {"status": "done", "status_note": "ontvangen"})
    assert len(_events("action.update")) == 1  # nothing changed: nothing recorded


def test_an_action_refuses_what_does_not_belong_to_the_dossier(app: Flask, world: dict) -> None:
    bea, mine, other = world["bea"], world["mine"], world["other"]
    elsewhere = _file(world["outsider"], other, "Verslag\n", "v.txt", kind=DocumentKind.MINUTES)
    with pytest.raises(ValidationError) as caught:
        actions.create_action(
            bea,
            mine,
            {
                "agreement": "  ",
                "minutes_id": elsewhere.id,
                "assignee_id": world["outsider"].id,
            },
        )
    assert set(caught.value.errors) == {"agreement", "minutes_id", "assignee_id"}


def test_a_user_sees_the_actions_assigned_to_them(app: Flask, world: dict) -> None:
    bea, reader, mine = world["bea"], world["reader"], world["mine"]
    action = actions.create_action(
        bea, mine, {"agreement": "Reader leest de SLA", "assignee_id": reader.id}
    )
    db.session.commit()
    assert actions.assigned_to(reader) == [action]
    assert actions.assigned_to(world["outsider"]) == []


# Obligations


def _obligation(actor: User, dossier: Dossier, **values: object):
    base = {
        "party": ObligationParty.SUPPLIER,
        "title": "Maandrapportage",
        "recurrence": Recurrence.MONTHLY,
        "first_due_on": date(2025, 10, 31),
        "until_on": None,
        "owner_id": None,
    }
    made = obligations.create_obligation(actor, dossier, {**base, **values})
    db.session.commit()
    return made


def test_missed_occurrences_until_fulfilled(app: Flask, world: dict) -> None:
    bea, mine = world["bea"], world["mine"]
    monthly = _obligation(bea, mine, owner_id=world["manager"].id)
    found = obligations.occurrences(monthly, TODAY)
    # 31 Oct, 30 Nov, 31 Dec 2025 passed; then every month up to the contract's end.
    assert [o.due_on for o in found[:5]] == [
        date(2025, 10, 31),
        date(2025, 11, 30),
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
    ]
    assert found[-1].due_on == date(2027, 12, 31)
    assert [o.due_on for o in obligations.missed(monthly, TODAY)] == [
        date(2025, 10, 31),
        date(2025, 11, 30),
        date(2025, 12, 31),
    ]
    obligations.record_fulfilment(
        world["manager"], monthly, date(2025, 11, 30), date(2025, 12, 2), "ontvangen", TODAY
    )
    db.session.commit()
    assert [o.due_on for o in obligations.missed(monthly, TODAY)] == [
        date(2025, 10, 31),
        date(2025, 12, 31),
    ]
    (event,) = _events("obligation.fulfil")
    assert event.after["fulfilled_on"] == "2025-12-02" and event.before is None
    with pytest.raises(ValidationError):
        obligations.record_fulfilment(bea, monthly, date(2025, 11, 29), TODAY, "", TODAY)
    with pytest.raises(ValidationError):
        obligations.record_fulfilment(bea, monthly, date(2025, 12, 31), date(2026, 2, 1), "", TODAY)
    assert obligations.next_open(monthly, TODAY).due_on == date(2026, 1, 31)


def test_obligation_validation(app: Flask, world: dict) -> None:
    with pytest.raises(ValidationError) as caught:
        obligations.create_obligation(
            world["bea"],
            world["mine"],
            {
                "party": "both",
                "title": "",
                "recurrence": "weekly",
                "first_due_on": date(2026, 5, 1),
                "until_on": date(2026, 4, 1),
                "owner_id": world["outsider"].id,
            },
        )
    assert set(caught.value.errors) == {"party", "title", "recurrence", "until_on", "owner_id"}


# Proposals from the clauses of a filed contract


@pytest.fixture
def filed(world: dict) -> dict[str, Document]:
    bea, mine = world["bea"], world["mine"]
    contract = _file(bea, mine, CONTRACT, "overeenkomst.txt", kind=DocumentKind.CONTRACT)
    secret = _file(
        bea,
        mine,
        SECRET,
        "geheim.txt",
        kind=DocumentKind.CONTRACT,
        confidentiality=Confidentiality.CONFIDENTIAL,
    )
    indexing.drain()
    return {"contract": contract, "secret": secret}


def test_proposals_come_from_duty_clauses_and_a_confirmation_links_the_clause(
    app: Flask, world: dict, filed: dict
) -> None:
    bea = world["bea"]
    found = {p.clause.number: p for p in obligation_proposals.proposals(bea, world["mine"])}
    assert {"2", "3", "4", "9"} <= set(found) and "5" not in found and "1" not in found
    assert found["2"].recurrence == Recurrence.MONTHLY
    assert found["2"].party == ObligationParty.SUPPLIER and found["2"].title == "Rapportage"
    assert found["3"].recurrence == Recurrence.YEARLY and "insurance" in found["3"].types
    assert found["4"].recurrence == Recurrence.YEARLY
    # The confidential contract's clause: where it is, not what it says.
    assert found["9"].withheld and CANARY not in found["9"].title and found["9"].types == ()
    made = obligations.create_obligation(
        bea,
        world["mine"],
        {
            "party": found["2"].party,
            "title": found["2"].title,
            "recurrence": found["2"].recurrence,
            "first_due_on": date(2026, 1, 31),
            "until_on": None,
            "owner_id": None,
        },
        clause=found["2"].clause,
    )
    db.session.commit()
    assert made.clause_number == "2" and made.clause_version_id == found["2"].clause.version_id
    left = {p.clause.number for p in obligation_proposals.proposals(bea, world["mine"])}
    assert "2" not in left and "3" in left  # confirmed once, proposed no more
    # A reader may not read the confidential contract: no proposal from it, and the
    # register does not show its clause.
    assert "9" not in {
        p.clause.number for p in obligation_proposals.proposals(world["reader"], world["mine"])
    }
    secret_one = obligations.create_obligation(
        bea,
        world["mine"],
        {
            "party": "supplier",
            "title": "Kwartaalrapportage",
            "recurrence": "quarterly",
            "first_due_on": date(2026, 3, 31),
            "until_on": None,
            "owner_id": None,
        },
        clause=found["9"].clause,
    )
    db.session.commit()
    assert obligations.readable_clause(bea, secret_one) is not None
    assert obligations.readable_clause(world["reader"], secret_one) is None
    table = reports.obligation_report(world["reader"], TODAY)
    clauses = {r["obligation"]: r["clause"] for r in table.records()}
    assert clauses["Kwartaalrapportage"] == "" and clauses["Rapportage"].startswith("2 (")


def test_a_clause_of_another_dossier_cannot_be_confirmed(
    app: Flask, world: dict, filed: dict
) -> None:
    clause = filed["contract"].current_version.clauses[1]
    assert (
        obligation_proposals.get_proposal_clause(world["outsider"], world["other"], clause.id)
        is None
    )
    with pytest.raises(ValidationError):
        obligations.create_obligation(
            world["outsider"],
            world["other"],
            {
                "party": "supplier",
                "title": "x",
                "recurrence": "once",
                "first_due_on": TODAY,
                "until_on": None,
                "owner_id": None,
            },
            clause=clause,
        )


# Deadlines report, digest, calendar feed, portfolio report, CLI


@pytest.fixture
def tasks(world: dict) -> dict[str, object]:
    bea, mine, other = world["bea"], world["mine"], world["other"]
    overdue = actions.create_action(
        bea,
        mine,
        {
            "agreement": "Escalatie bespreken",
            "assignee_id": world["manager"].id,
            "due_on": date(2026, 1, 5),
        },
    )
    coming = actions.create_action(
        bea, mine, {"agreement": "SLA-rapport beoordelen", "due_on": date(2026, 1, 25)}
    )
    actions.create_action(bea, mine, {"agreement": "Ongedateerd"})
    yearly = _obligation(
        bea,
        mine,
        title="Verzekeringsbewijs",
        recurrence=Recurrence.YEARLY,
        first_due_on=date(2025, 12, 31),
        owner_id=world["manager"].id,
    )
    hidden = _obligation(world["outsider"], other, title=f"Geheim {CANARY}")
    db.session.commit()
    return {"overdue": overdue, "coming": coming, "yearly": yearly, "hidden": hidden}


def test_tasks_in_the_deadlines_report(app: Flask, world: dict, tasks: dict) -> None:
    table = reports.deadline_report(world["reader"], TODAY)
    rows = [r for r in table.records() if r["kind"] in ("action", "obligation")]
    assert [(r["kind"], r["due_on"], r["status"], r["note"]) for r in rows] == [
        ("obligation", date(2025, 12, 31), "missed", "Verzekeringsbewijs"),
        ("action", date(2026, 1, 5), "missed", "Escalatie bespreken"),
        ("action", date(2026, 1, 25), "open", "SLA-rapport beoordelen"),
        ("obligation", date(2026, 12, 31), "open", "Verzekeringsbewijs"),
    ]
    assert CANARY not in json.dumps([str(r) for r in table.rows])
    client = app.test_client(user=world["reader"])
    page = client.get("/reports/deadlines").text
    assert "Escalatie bespreken" in page and "/dossiers/2026-001/actions" in page


def test_tasks_in_the_digest_over_smtp(
    app: Flask,
    world: dict,
    tasks: dict,
    smtp_sink: _Sink,  # noqa: F811
) -> None:
    composed = digest.compose(world["manager"], TODAY)
    assert [t.title for t in composed.tasks_missed] == ["Verzekeringsbewijs", "Escalatie bespreken"]
    assert [t.title for t in composed.tasks_upcoming] == ["SLA-rapport beoordelen"]
    # The reader acts on nothing and has nothing assigned: no digest.
    assert world["reader"] not in digest.recipients()
    actions.create_action(
        world["bea"],
        world["mine"],
        {
            "agreement": "Reader leest mee",
            "assignee_id": world["reader"].id,
            "due_on": date(2026, 1, 20),
        },
    )
    db.session.commit()
    assert world["reader"] in digest.recipients()
    reader_digest = digest.compose(world["reader"], TODAY)
    assert [t.title for t in reader_digest.tasks_upcoming] == ["Reader leest mee"]
    result = app.test_cli_runner().invoke(cli, ["digest", "--send", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    by_to = {m["To"]: m for m in smtp_sink.messages}
    body = by_to["manager@example.org"].get_payload(decode=True).decode()
    assert "Escalatie bespreken" in body and "Verzekeringsbewijs" in body
    assert f"/dossiers/2026-001/actions/{tasks['overdue'].id}" in body
    assert CANARY not in body
    reader_body = by_to["reader@example.org"].get_payload(decode=True).decode()
    assert "Reader leest mee" in reader_body and "Escalatie" not in reader_body


def test_tasks_in_the_calendar_feed(app: Flask, world: dict, tasks: dict) -> None:
    token = calendar_feed.create_token(world["reader"])
    db.session.commit()
    body = app.test_client().get(f"/calendar/{token}.ics").data
    events = [c for c in Calendar.from_ical(body).walk("VEVENT")]
    uids = {str(e["uid"]) for e in events}
    assert f"action-{tasks['overdue'].id}-2026-01-05@dossier" in uids
    assert f"obligation-{tasks['yearly'].id}-2025-12-31@dossier" in uids
    assert f"obligation-{tasks['yearly'].id}-2026-12-31@dossier" in uids
    assert not any(f"obligation-{tasks['hidden'].id}-" in u for u in uids)
    assert CANARY.encode() not in body
    summaries = [str(e["summary"]) for e in events]
    assert "Actie: 2026-001 Escalatie bespreken" in summaries


def test_done_and_fulfilled_leave_the_lists(app: Flask, world: dict, tasks: dict) -> None:
    actions.update_action(
        world["manager"], tasks["overdue"], {"status": "dropped", "status_note": "vervallen"}
    )
    obligations.record_fulfilment(
        world["manager"], tasks["yearly"], date(2025, 12, 31), date(2026, 1, 3), "", TODAY
    )
    db.session.commit()
    found = deadlines.tasks_for([world["mine"].id], TODAY)
    assert [(t.kind, t.due_on, t.status) for t in found] == [
        ("action", date(2026, 1, 25), DeadlineStatus.OPEN),
        ("obligation", date(2026, 12, 31), DeadlineStatus.OPEN),
    ]


def test_portfolio_report_is_filtered_and_exported(app: Flask, world: dict, tasks: dict) -> None:
    reader = reports.obligation_report(world["reader"], TODAY).records()
    assert [r["obligation"] for r in reader] == ["Verzekeringsbewijs"]
    assert reader[0]["missed"] == 1 and reader[0]["next_due_on"] == date(2026, 12, 31)
    assert reader[0]["owner"] == "Max Manager"
    admin = reports.obligation_report(world["admin"], TODAY).records()
    assert {r["reference"] for r in admin} == {"2026-001", "2026-002"}
    client = app.test_client(user=world["reader"])
    page = client.get("/reports/obligations").text
    assert "Verzekeringsbewijs" in page and CANARY not in page
    export = client.get("/reports/export/obligations.csv")
    assert export.status_code == 200 and b"Verzekeringsbewijs" in export.data
    assert CANARY.encode() not in export.data
    assert client.get("/reports/export/actions.xlsx").status_code == 200


def test_cli_report_obligations_json(app: Flask, world: dict, tasks: dict) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli,
        [
            "report",
            "obligations",
            "--as",
            "reader@example.org",
            "--format",
            "json",
            "--date",
            TODAY.isoformat(),
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["obligation"], r["party"], r["party_label"], r["recurrence"]) for r in rows] == [
        ("Verzekeringsbewijs", "supplier", "Supplier", "yearly")
    ]
    assert rows[0]["missed"] == 1 and rows[0]["next_due_on"] == "2026-12-31"
    result = runner.invoke(
        cli, ["report", "obligations", "--as", "outsider@example.org", "--format", "json"]
    )
    assert [r["obligation"] for r in json.loads(result.output)] == [f"Geheim {CANARY}"]
    result = runner.invoke(
        cli,
        [
            "report",
            "actions",
            "--as",
            "reader@example.org",
            "--format",
            "json",
            "--date",
            TODAY.isoformat(),
        ],
    )
    assert [r["agreement"] for r in json.loads(result.output)][:2] == [
        "Escalatie bespreken",
        "SLA-rapport beoordelen",
    ]


def test_changing_an_obligation_is_audited_and_keeps_what_was_recorded(
    app: Flask, world: dict
) -> None:
    bea = world["bea"]
    monthly = _obligation(bea, world["mine"])
    obligations.record_fulfilment(
        bea, monthly, date(2025, 11, 30), date(2025, 12, 1), "binnen", TODAY
    )
    db.session.commit()
    obligations.update_obligation(
        bea,
        monthly,
        {
            "recurrence": Recurrence.QUARTERLY,
            "owner_id": world["manager"].id,
            "until_on": date(2026, 12, 31),
        },
    )
    db.session.commit()
    (event,) = _events("obligation.update")
    assert event.before == {"recurrence": "monthly", "owner_id": None, "until_on": None}
    assert (
        event.after["recurrence"] == "quarterly" and event.after["owner_id"] == world["manager"].id
    )
    found = obligations.occurrences(monthly, TODAY)
    # 31 Oct, 31 Jan, 30 Apr, 31 Jul, 31 Oct; 30 Nov was recorded and stays, as history.
    assert [(o.due_on, o.status) for o in found] == [
        (date(2025, 10, 31), obligations.MISSED),
        (date(2025, 11, 30), obligations.FULFILLED),
        (date(2026, 1, 31), obligations.OPEN),
        (date(2026, 4, 30), obligations.OPEN),
        (date(2026, 7, 31), obligations.OPEN),
        (date(2026, 10, 31), obligations.OPEN),
    ]
    obligations.update_obligation(bea, monthly, {})
    assert len(_events("obligation.update")) == 1
    with pytest.raises(ValidationError):
        obligations.update_obligation(bea, monthly, {"title": " "})
    client = app.test_client(user=world["reader"])
    assert (
        client.post(
            f"/dossiers/2026-001/obligations/{monthly.id}",
            data={
                "title": "x",
                "party": "client",
                "recurrence": "once",
                "first_due_on": "2026-02-01",
            },
        ).status_code
        == 403
    )
    client = app.test_client(user=bea)
    page = client.get(f"/dossiers/2026-001/obligations/{monthly.id}").text
    assert "Verplichting wijzigen" in page and "binnen" in page
    response = client.post(
        f"/dossiers/2026-001/obligations/{monthly.id}",
        data={
            "title": "Kwartaalrapportage",
            "party": "supplier",
            "recurrence": "quarterly",
            "first_due_on": "2025-10-31",
            "until_on": "2025-01-01",
        },
    )
    assert response.status_code == 400 and "Kwartaalrapportage" in response.text


def test_the_dashboard_lists_the_users_actions_and_obligations(
    app: Flask, world: dict, tasks: dict
) -> None:
    page = app.test_client(user=world["manager"]).get("/overview").text
    assert "Actie: Escalatie bespreken" in page and "Verplichting: Verzekeringsbewijs" in page
    assert f"/dossiers/2026-001/actions/{tasks['overdue'].id}" in page
    assert "Escalatie" not in app.test_client(user=world["outsider"]).get("/overview").text


@pytest.mark.parametrize(
    ("text", "recurrence", "party"),
    [
        ("The Supplier shall deliver a monthly service level report.", "monthly", "supplier"),
        ("Prices are adjusted annually to the CBS index.", "yearly", "supplier"),
        ("Opdrachtgever en Opdrachtnemer voeren elk kwartaal overleg.", "quarterly", "client"),
        ("Opdrachtnemer levert de apparatuur uiterlijk op 1 maart.", "once", "supplier"),
        ("De Opdrachtgever betaalt de factuur binnen 30 dagen.", "once", "client"),
    ],
)
def test_suggestions_from_wording(text: str, recurrence: str, party: str) -> None:
    assert obligation_proposals.suggest_recurrence(text) == Recurrence(recurrence)
    assert obligation_proposals.suggest_party(text) == ObligationParty(party)


@pytest.mark.parametrize(
    ("text", "recurrence"),
    [
        # "drie maanden" is a quarter, not a month; the first rhythm named counts.
        ("De beoordeling vindt elke drie maanden plaats.", "quarterly"),
        ("Every three months the Supplier reports; monthly figures are attached.", "quarterly"),
        ("Opdrachtnemer rapporteert maandelijks en overlegt eenmaal per jaar.", "monthly"),
        # Twice a year has no recurrence of its own: none is suggested rather than a wrong one.
        ("Tweemaal per jaar beoordeelt de beheergroep de voorstellen.", "once"),
        ("The parties meet semi-annually.", "once"),
    ],
)
def test_rhythms(text: str, recurrence: str) -> None:
    assert obligation_proposals.suggest_recurrence(text) == Recurrence(recurrence)


def _clause(heading: str, text: str, types: tuple[str, ...] = ()) -> Clause:
    return Clause(number="1", heading=heading, text=text, clause_types=" ".join(types), position=0)


@pytest.mark.parametrize(
    ("clause", "sentence"),
    [
        # A duty and a rhythm in one sentence: proposed, whatever the clause's type.
        (
            _clause(
                "Servicebeoordelingen",
                "De Dienst wordt beoordeeld. Leverancier levert elke drie maanden een rapport.",
            ),
            "Leverancier levert elke drie maanden een rapport.",
        ),
        (
            _clause(
                "Security", "Jaarlijks wordt door een auditor een assurancerapport (TPM) afgegeven."
            ),
            "Jaarlijks wordt door een auditor een assurancerapport (TPM) afgegeven.",
        ),
        # A duty type needs only a duty or a rhythm.
        (
            _clause(
                "Verzekering",
                "Opdrachtnemer is verzekerd en dient dat aan te tonen.",
                ("insurance",),
            ),
            "Opdrachtnemer is verzekerd en dient dat aan te tonen.",
        ),
        # A subject rather than a duty (service levels) without a rhythm: not an obligation.
        (
            _clause(
                "Beschikbaarheid",
                "De Dienst moet beschikbaar zijn tijdens kantooruren.",
                ("service_levels",),
            ),
            None,
        ),
        # A rhythm and a duty in different sentences of a long article do not make one.
        (
            _clause(
                "Aansprakelijkheid",
                "De Jaarvergoeding is per jaar berekend. Partijen moeten schade beperken.",
            ),
            None,
        ),
        (_clause("Colofon", "Uitgave van VNG Realisatie, versie 1.0, 2025."), None),
        # A semicolon does not end the sentence: the proposal quotes it whole.
        (
            _clause(
                "Meerwerk",
                "Meerwerk wordt gemeld; de Opdrachtgever moet akkoord geven, en de "
                "Leverancier levert maandelijks een overzicht.",
            ),
            "Meerwerk wordt gemeld; de Opdrachtgever moet akkoord geven, en de "
            "Leverancier levert maandelijks een overzicht.",
        ),
        # PDF text breaks every line: a line going on in lower case is the same sentence, while
        # a heading and a list item start their own.
        (
            _clause(
                "Meerwerk",
                "Artikel 11 Meerwerk\nMeerwerk wordt gemeld, de Opdrachtgever moet akkoord geven,"
                " en de\nLeverancier levert maandelijks een overzicht van het\nmeerwerk.\n"
                "a) Opdrachtnemer levert elk kwartaal een rapport.",
            ),
            "Meerwerk wordt gemeld, de Opdrachtgever moet akkoord geven, en de\nLeverancier "
            "levert maandelijks een overzicht van het\nmeerwerk.",
        ),
    ],
)
def test_the_sentence_that_states_a_duty(clause: Clause, sentence: str | None) -> None:
    found = obligation_proposals.duty_sentence(clause)
    assert (found[0] if found else None) == sentence
