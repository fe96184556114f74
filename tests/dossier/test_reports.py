"""Management reports over a seeded set of dossiers, with every expected figure worked out by hand
below. Reports are computed as of Thursday 15 January 2026 (REPORT_DATE).

| ref | supplier   | cat.     | value     | annual  | start      | end        | other           |
|-----|------------|----------|-----------|---------|------------|------------|-----------------|
| 001 | Acme       | services | 100,000   | 50,000  | 2024-02-01 | 2026-01-31 | notice 1 m.     |
| 002 | Acme       | services | 300,000   | 100,000 | 2025-04-01 | 2026-03-31 | 1 m.; 2 x 12 m. |
| 003 | Bouw BV    | works    | 1,000,000 | 250,000 | 2023-07-01 | 2025-06-30 | yearly; 3 m.    |
| 004 | Kantoor BV | supplies | -         | 20,000  | -          | -          | no end date     |
| 005 | Acme       | services | 500,000   | 200,000 | 2025-07-01 | 2026-06-30 | 30 d.; 1 x 6 m. |
| 006 | Geheim BV  | works    | 9,000,000 | -       | -          | 2026-02-15 | the canary      |

(m. = months of notice or per option, d. = days; 001 and 003 renew automatically, 003 every
year. Only a contract that renews automatically has a notice deadline: for the others an option
decision or nothing is due.)
The reader is a member of 001, 002 and 005 only; the manager manages 001 and 003.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import socket
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from icalendar import Calendar
from openpyxl import load_workbook

from dossier import access, digest, documents, plans, reports
from dossier.charts import NARROW_WIDTH, WIDTH, bar_chart
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    CalendarToken,
    Category,
    Confidentiality,
    DocumentKind,
    Dossier,
    DossierStatus,
    ExtractionStatus,
    MemberRole,
    NoticeUnit,
    PlanQuestion,
    Procedure,
    User,
)

TODAY = date(2026, 1, 15)
CANARY = "zebraquokka"
D = Decimal


def _file(actor: User, dossier: Dossier, title: str, kind: DocumentKind, **extra: Any) -> Any:
    with documents.receive(io.BytesIO(f"{title}\n".encode()), "file.txt") as upload:
        return documents.file_document(actor, dossier, upload, kind=kind, title=title, **extra)


@pytest.fixture
def seeded(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, User]:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    reader = make_user("reader@example.org", name="Rita Reader")
    manager = make_user("manager@example.org", name="Max Manager")
    outsider = make_user("outsider@example.org")
    common = {"status": DossierStatus.ACTIVE}
    months = {"notice_unit": NoticeUnit.MONTHS}
    d1 = make_dossier(
        "2026-001",
        {reader: MemberRole.READER, manager: MemberRole.MANAGER},
        title="Schoonmaak kantoren",
        supplier="Acme",
        category=Category.SERVICES,
        procedure=Procedure.NATIONAL,
        value=D("100000"),
        annual_value=D("50000"),
        start_on=date(2024, 2, 1),
        end_on=date(2026, 1, 31),
        notice_value=1,
        auto_renewal=True,
        **months,
        **common,
    )
    d2 = make_dossier(
        "2026-002",
        {reader: MemberRole.READER},
        title="Beveiliging",
        supplier="Acme",
        category=Category.SERVICES,
        procedure=Procedure.EU_OPEN,
        value=D("300000"),
        annual_value=D("100000"),
        start_on=date(2025, 4, 1),
        end_on=date(2026, 3, 31),
        option_count=2,
        option_months=12,
        notice_value=1,
        **months,
        **common,
    )
    d3 = make_dossier(
        "2026-003",
        {manager: MemberRole.MANAGER},
        title="Onderhoud gebouwen",
        supplier="Bouw BV",
        category=Category.WORKS,
        value=D("1000000"),
        annual_value=D("250000"),
        start_on=date(2023, 7, 1),
        end_on=date(2025, 6, 30),
        auto_renewal=True,
        notice_value=3,
        review_months=12,
        **months,
        **common,
    )
    make_dossier(
        "2026-004",
        title="Kantoorartikelen",
        supplier="Kantoor BV",
        category=Category.SUPPLIES,
        annual_value=D("20000"),
        **common,
    )
    d5 = make_dossier(
        "2026-005",
        {reader: MemberRole.READER},
        title="=1+2 Catering",
        supplier="Acme",
        category=Category.SERVICES,
        procedure=Procedure.EU_OPEN,
        value=D("500000"),
        annual_value=D("200000"),
        start_on=date(2025, 7, 1),
        end_on=date(2026, 6, 30),
        option_count=1,
        option_months=6,
        notice_value=30,
        notice_unit=NoticeUnit.DAYS,
        personal_data=True,
        **common,
    )
    d6 = make_dossier(
        "2026-006",
        title=f"Geheim project {CANARY}",
        supplier="Geheim BV",
        category=Category.WORKS,
        value=D("9000000"),
        end_on=date(2026, 2, 15),
        **common,
    )
    _file(admin, d1, "Overeenkomst schoonmaak", DocumentKind.CONTRACT)
    _file(admin, d1, "Uitvoeringsplan 2026", DocumentKind.ANNEX)
    kickoff = _file(admin, d1, "Verslag kick-off", DocumentKind.ANNEX)
    _file(
        admin,
        d2,
        "Overeenkomst en SLA",
        DocumentKind.CONTRACT,
        confidentiality=Confidentiality.CONFIDENTIAL,
    )
    hidden = _file(admin, d6, f"Offerte {CANARY}", DocumentKind.OTHER)
    # The execution plan is a record, not a title: 001 has one (its annex alone would not do).
    plan = plans.create_plan(admin, d1)
    plans.save_answers(admin, plan, {PlanQuestion.WHY: "Schone kantoren"})
    kickoff.current_version.extraction_status = ExtractionStatus.NO_TEXT_LAYER
    hidden.current_version.extraction_status = ExtractionStatus.UNREADABLE
    db.session.commit()
    assert d3.id and d5.id
    return {"admin": admin, "reader": reader, "manager": manager, "outsider": outsider}


def _rows(table: reports.Table) -> list[dict[str, Any]]:
    return table.records()


# Deadlines


def test_deadline_windows_and_missed_for_the_reader(app: Flask, seeded: dict[str, User]) -> None:
    table = reports.deadline_report(seeded["reader"], TODAY)
    found = {(r["reference"], r["kind"], r["due_on"], r["status"]) for r in _rows(table)}
    assert found == {
        ("2026-001", "end", date(2026, 1, 31), "open"),  # 16 days
        ("2026-001", "notice", date(2025, 12, 31), "missed"),  # 31 Jan - 1 month
        # Every contract with a value gets its tender start (issue 18), not only European
        # ones: 100,000 of services is a multiple private procedure; the running term ends
        # 31 January 2026, 9 months earlier is 30 April 2025.
        ("2026-001", "tender", date(2025, 4, 30), "missed"),
        ("2026-002", "option", date(2026, 2, 28), "open"),  # 31 Mar - 1 month of notice
        ("2026-002", "end", date(2026, 3, 31), "open"),
        ("2026-002", "tender", date(2027, 6, 30), "open"),  # max end 31 Mar 2028 - 9 months
        ("2026-005", "tender", date(2026, 3, 30), "open"),  # max end 30 Dec 2026 - 9 months
        # Its maximum end lies within the tender horizon: the end-of-contract decision is due
        # by the tender start. 001 and 002 renew automatically (no maximum end); 002's is far.
        ("2026-005", "decision", date(2026, 3, 30), "open"),
        ("2026-005", "option", date(2026, 5, 31), "open"),  # 30 days before 30 June
        ("2026-005", "end", date(2026, 6, 30), "open"),
    }
    client = app.test_client(user=seeded["reader"])
    page = client.get("/reports/deadlines").text
    # 30 days: 001 end. 90: + 002 option (44), 005 tender and decision (74), 002 end (75).
    # 180: + 2.
    for count, days in ((1, 30), (5, 90), (7, 180)):
        assert f"<strong>{count}</strong> binnen {days} dagen" in page
    assert "<strong>2</strong> gemist" in page  # 001's notice and tender start


def test_automatic_renewal_and_reviews_in_the_admin_report(
    app: Flask, seeded: dict[str, User]
) -> None:
    rows = _rows(reports.deadline_report(seeded["admin"], TODAY))
    d3 = {(r["kind"], r["due_on"], r["status"]) for r in rows if r["reference"] == "2026-003"}
    # Ended 30 June 2025, renewed to 30 June 2026; notice 3 months earlier: 30 March 2026.
    # Reviews every 12 months from 1 July 2023: the latest past one is 1 July 2025 (missed);
    # 1 July 2026 falls after the running term. Works of 1,000,000 lie under 5,404,000 but
    # above the own policy's 150,000: a multiple private procedure, which starts 9 months
    # before the running term's end (30 June 2026): 30 September 2025, missed.
    assert d3 == {
        ("end", date(2026, 6, 30), "open"),
        ("notice", date(2026, 3, 30), "open"),
        ("review", date(2025, 7, 1), "missed"),
        ("tender", date(2025, 9, 30), "missed"),
    }
    assert not [r for r in rows if r["reference"] == "2026-004"]  # no end date: no deadlines


def test_a_manager_records_what_was_done_and_the_deadline_stops_being_missed(
    app: Flask, seeded: dict[str, User]
) -> None:
    url = "/deadlines/2026-001/notice/2025-12-31"
    reader = app.test_client(user=seeded["reader"])
    assert reader.get(url).status_code == 200
    assert reader.post(url, data={"status": "acted_on", "note": "x"}).status_code == 403
    outsider = app.test_client(user=seeded["outsider"])
    assert outsider.get(url).status_code == 404
    assert outsider.post(url, data={"status": "acted_on"}).status_code == 404
    manager = app.test_client(user=seeded["manager"])
    for bad in (
        "/deadlines/2026-001/notice/2025-12-30",
        "/deadlines/2026-001/nope/2025-12-31",
        "/deadlines/2026-001/notice/31-12-2025",
    ):
        assert manager.get(bad).status_code == 404, bad
    assert manager.post(url, data={"status": "bogus"}).status_code == 400
    response = manager.post(url, data={"status": "acted_on", "note": "Opgezegd per brief"})
    assert response.status_code == 302
    rows = _rows(reports.deadline_report(seeded["reader"], TODAY))
    notice = next(r for r in rows if r["reference"] == "2026-001" and r["kind"] == "notice")
    assert (notice["status"], notice["note"]) == ("acted_on", "Opgezegd per brief")
    # What remains missed is 001's tender start (30 April 2025), which nobody acted on.
    assert "<strong>1</strong> gemist" in reader.get("/reports/deadlines").text
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "deadline.status")
    ).one()
    assert event.actor_id == seeded["manager"].id
    assert event.after["status"] == "acted_on" and event.after["due_on"] == "2025-12-31"


# Tenders, money, completeness, activity


def test_tender_pipeline_reader_and_admin(app: Flask, seeded: dict[str, User]) -> None:
    reader = _rows(reports.tender_report(seeded["reader"], TODAY))
    # Horizon: 15 July 2027. 002 ends at the latest 31 March 2028: outside. 005: 30 Dec 2026.
    # Every contract with a value is in the pipeline (issue 18), with the procedure it needs:
    # 001 (100,000, renews on 31 January 2026, start was 30 April 2025: late) needs a multiple
    # private procedure (50,000 < 100,000 <= 100,000 in the default policy).
    assert [
        (r["reference"], r["procurement_start"], r["late"], r["procedure_needed"]) for r in reader
    ] == [
        ("2026-001", date(2025, 4, 30), True, "multiple_private"),
        ("2026-005", date(2026, 3, 30), False, "european"),
    ]
    assert (reader[1]["estimated_value"], reader[1]["threshold"]) == (D("500000"), D("216000"))
    admin = _rows(reports.tender_report(seeded["admin"], TODAY))
    # 006: works, 9,000,000 >= 5,404,000; ends 15 Feb 2026, start was 15 May 2025: late.
    # 003: works, 1,000,000 (multiple private up to 1,500,000 for works); renewed to 30 June
    # 2026, so the start was 30 September 2025.
    assert [
        (r["reference"], r["procurement_start"], r["late"], r["procedure_needed"]) for r in admin
    ] == [
        ("2026-001", date(2025, 4, 30), True, "multiple_private"),
        ("2026-006", date(2025, 5, 15), True, "european"),
        ("2026-003", date(2025, 9, 30), True, "multiple_private"),
        ("2026-005", date(2026, 3, 30), False, "european"),
    ]


def test_value_sums_exclude_what_the_reader_may_not_see(
    app: Flask, seeded: dict[str, User]
) -> None:
    tables = {t.name: t for t in reports.value_report(seeded["reader"], TODAY)}
    # Acme: 100,000 + 300,000 + 500,000; annual 50,000 + 100,000 + 200,000.
    # Initial and current value (no amendments here: the same; test_amendments.py has them).
    assert tables["value_supplier"].rows == [["Acme", 3, D("900000"), D("900000"), D("350000")]]
    assert tables["value_category"].rows == [["services", 3, D("900000"), D("900000"), D("350000")]]
    assert sorted(tables["value_procedure"].rows) == [
        ["eu_open", 2, D("800000"), D("800000"), D("300000")],
        ["national", 1, D("100000"), D("100000"), D("50000")],
    ]
    # Started: 2024 001; 2025 002 and 005. In force: 2024 001; 2025 and 2026 all three.
    assert tables["value_year"].rows == [
        [2024, 1, D("100000"), D("100000"), D("50000")],
        [2025, 2, D("800000"), D("800000"), D("350000")],
        [2026, 0, D("0"), D("0"), D("350000")],
    ]
    quarters = {r[0]: r[1:] for r in tables["value_quarter"].rows}
    assert len(quarters) == 8 and list(quarters)[0] == "2026-Q1"
    assert quarters["2026-Q1"] == [2, D("400000"), D("400000"), D("150000")]  # 001 and 002
    assert quarters["2026-Q2"] == [1, D("500000"), D("500000"), D("200000")]  # 005
    assert quarters["2026-Q3"] == [0, D("0"), D("0"), D("0")]

    admin = {t.name: t for t in reports.value_report(seeded["admin"], TODAY)}
    assert [r[0] for r in admin["top_suppliers"].rows] == [
        "Geheim BV",
        "Bouw BV",
        "Acme",
        "Kantoor BV",
    ]
    assert admin["value_category"].rows[0] == [
        "works",
        2,
        D("10000000"),
        D("10000000"),
        D("250000"),
    ]
    # 003 renewed to 30 June 2026: ends in Q2 next to 005.
    q2 = next(r for r in admin["value_quarter"].rows if r[0] == "2026-Q2")
    assert q2 == ["2026-Q2", 2, D("1500000"), D("1500000"), D("450000")]


def test_completeness_counts_only_documents_the_reader_may_see(
    app: Flask, seeded: dict[str, User]
) -> None:
    table, complete = reports.completeness_report(seeded["reader"])
    missing = {r["reference"]: r["missing"] for r in _rows(table)}
    # 001: "Verslag" is not an SLA. 002: its contract (with the SLA) is confidential.
    assert missing == {
        "2026-001": ["sla"],
        "2026-002": ["signed_contract", "execution_plan", "sla"],
        "2026-005": ["signed_contract", "execution_plan", "sla", "processing_agreement"],
    }
    assert complete == 0
    table, _complete = reports.completeness_report(seeded["admin"])
    admin = {r["reference"]: r["missing"] for r in _rows(table)}
    assert admin["2026-002"] == ["execution_plan"]
    assert admin["2026-003"] == ["signed_contract", "execution_plan"]
    assert admin["2026-004"] == ["signed_contract"]


@pytest.mark.parametrize(
    ("kind", "title", "met"),
    [
        # Its own kind meets the rule whatever the title says.
        (DocumentKind.SLA, "Afspraken over de dienstverlening", True),
        (DocumentKind.PROCESSING_AGREEMENT, "Bijlage 7", False),  # the other rule's kind
        # Filed before the kind existed: an annex titled as an SLA still counts.
        (DocumentKind.ANNEX, "Bijlage 3 Service Level Agreement", True),
        (DocumentKind.ANNEX, "Bijlage 3 Afspraken", False),
        (DocumentKind.REPORT, "Maandrapportage SLA", False),  # about the SLA, not the SLA
        (DocumentKind.ANNEX, "Verslag overleg", False),  # "sla" is not a word in "verslag"
    ],
)
def test_an_sla_is_recognised_by_its_kind_and_old_filings_by_their_title(
    app: Flask, kind: DocumentKind, title: str, met: bool
) -> None:
    (rule,) = [r for r in app.config["REQUIRED_DOCUMENTS"] if r["key"] == "sla"]
    assert reports.met_by(rule, kind, title) is met


def test_required_documents_are_configurable(app: Flask, seeded: dict[str, User]) -> None:
    app.config["REQUIRED_DOCUMENTS"] = [
        {"key": "minutes", "kinds": ["minutes"], "title_words": [], "categories": ["works"]}
    ]
    table, complete = reports.completeness_report(seeded["admin"])
    assert {r["reference"]: r["missing"] for r in _rows(table)} == {
        "2026-003": ["minutes"],
        "2026-006": ["minutes"],
    }
    assert complete == 4


def test_activity_and_extraction_problems(app: Flask, seeded: dict[str, User]) -> None:
    per_month, per_filer, extraction = reports.activity_report(seeded["reader"])
    assert sum(r[1] for r in per_month.rows) == 3  # the three documents of 001
    assert per_filer.rows == [["Ada Admin <admin@example.org>", 3]]
    assert [(r[0], r[2], r[4]) for r in extraction.rows] == [
        ("2026-001", "Verslag kick-off", "no_text_layer")
    ]
    _month, filer, extraction = reports.activity_report(seeded["admin"])
    assert filer.rows == [["Ada Admin <admin@example.org>", 5]]
    assert [r[4] for r in extraction.rows] == ["no_text_layer", "unreadable"]
    # The page names the month in words; the exports keep "2026-12", which sorts.
    year, month = (int(part) for part in per_month.rows[0][0].split("-"))
    page = app.test_client(user=seeded["reader"]).get("/reports/activity").text
    dutch = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus"]
    dutch += ["september", "oktober", "november", "december"]
    assert f"<td>{dutch[month - 1]} {year}</td>" in page


# Exports, feed, digest: the canary never leaves the forbidden dossier.


def _xlsx_cells(body: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(body)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_exports_escape_formulas(app: Flask, seeded: dict[str, User]) -> None:
    client = app.test_client(user=seeded["reader"])
    response = client.get("/reports/export/tenders.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    cells = _xlsx_cells(response.data)
    assert cells[0][:2] == ["Kenmerk", "Titel"]
    assert cells[2][1] == "'=1+2 Catering"
    assert cells[2][4] == 500000  # amounts stay numbers
    text = client.get("/reports/export/tenders.csv").data.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text), delimiter=";"))[2][1] == "'=1+2 Catering"
    assert client.get("/reports/export/tenders.pdf").status_code == 404
    assert client.get("/reports/export/secrets.csv").status_code == 404


def test_exports_carry_the_labels_of_the_screen_in_the_language_of_the_request(
    app: Flask, seeded: dict[str, User]
) -> None:
    client = app.test_client(user=seeded["admin"])
    response = client.get("/reports/export/deadlines.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))  # Dutch Excel: `;`
    assert rows[0][:4] == ["Kenmerk", "Titel", "Leverancier", "Termijn"]
    kinds, statuses = {r[3] for r in rows[1:]}, {r[6] for r in rows[1:]}
    assert "Uiterste opzegdatum" in kinds and "Gemist" in statuses and "Open" in statuses
    assert not kinds & {"review", "notice", "option", "end", "tender"}
    assert not statuses & {"missed", "open"}
    value = list(
        csv.reader(
            io.StringIO(client.get("/reports/export/value.csv").text.lstrip("\ufeff")),
            delimiter=";",
        )
    )
    assert ["Soort opdracht", "Diensten", "3", "900000,00", "900000,00", "350000,00"] in value
    assert any(r[1] == "Europees openbaar" for r in value)
    cells = _xlsx_cells(client.get("/reports/export/completeness.xlsx").data)
    assert cells[1][2] == "Diensten" and "Uitvoeringsplan" in cells[2][3]
    assert "execution_plan" not in json.dumps(cells)
    tenders = _xlsx_cells(client.get("/reports/export/tenders.xlsx").data)
    assert {r[3] for r in tenders[1:]} <= {"Diensten", "Werken"}
    assert {r[8] for r in tenders[1:]} <= {"ja", "nee"}

    client.post("/language", data={"lang": "en"})
    text = client.get("/reports/export/value_procedure.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))  # English keeps `,` and `.`
    assert rows[0][0] == "Procurement procedure"
    assert ["European open", "2", "800000.00", "800000.00", "300000.00"] in rows
    cells = _xlsx_cells(client.get("/reports/export/deadlines.xlsx").data)
    assert {r[3] for r in cells[1:]} >= {"Notice deadline", "End of term"}
    assert {r[6] for r in cells[1:]} >= {"Missed", "Open"}


def test_xlsx_exports_hold_typed_amounts_and_dates(app: Flask, seeded: dict[str, User]) -> None:
    client = app.test_client(user=seeded["reader"])
    sheet = load_workbook(io.BytesIO(client.get("/reports/export/tenders.xlsx").data)).active
    amount, threshold, max_end = sheet["E3"], sheet["F3"], sheet["G3"]
    assert amount.value == 500000 and amount.number_format == "€ #,##0.00"
    assert threshold.number_format == "€ #,##0.00"
    assert max_end.is_date and max_end.value.date() == date(2026, 12, 30)
    assert max_end.number_format == "dd-mm-yyyy"


def _feed_url(client: Any) -> str:
    response = client.post("/account/calendar")
    assert response.headers["Cache-Control"] == "no-store"
    page = response.text
    start = page.index("http://localhost/calendar/")
    return page[start : page.index(".ics", start) + 4].removeprefix("http://localhost")


def test_calendar_feed_by_secret_token(app: Flask, seeded: dict[str, User]) -> None:
    reader = app.test_client(user=seeded["reader"])
    url = _feed_url(reader)
    token = url.removeprefix("/calendar/").removesuffix(".ics")
    stored = db.session.scalars(sa.select(CalendarToken)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    response = app.test_client().get(url)  # no log-in: the token is the key
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = {(str(e["SUMMARY"]), e.decoded("DTSTART")) for e in calendar.walk("VEVENT")}
    # The reader's nine deadlines (the missed one is recent), 2026-005's decision among them.
    assert len(events) == 9
    assert ("Uiterste opzegdatum: 2026-001 Schoonmaak kantoren", date(2025, 12, 31)) in events
    assert ("Besluit over optie: 2026-002 Beveiliging", date(2026, 2, 28)) in events
    # A tender start names the procedure the re-tender needs (500,000 of services: European).
    [tender] = [
        e
        for e in calendar.walk("VEVENT")
        if str(e["SUMMARY"]).startswith("Start nieuwe aanbesteding: 2026-005")
    ]
    assert "Benodigde procedure: Europese procedure" in str(tender["DESCRIPTION"])
    assert CANARY not in response.text
    assert app.test_client().get(url.replace(token[:4], "AAAA")).status_code == 404
    # A new address replaces the old one; revoking ends the new one too.
    newer = _feed_url(reader)
    assert app.test_client().get(url).status_code == 404
    assert reader.post("/account/calendar/revoke").status_code == 302
    assert app.test_client().get(newer).status_code == 404


def _all_outputs(app: Flask, user: User) -> Iterator[tuple[str, str]]:
    client = app.test_client(user=user)
    pages = ["/overview", "/reports/deadlines", "/reports/tenders", "/reports/value"]
    pages += ["/reports/completeness", "/reports/activity", "/reports/spend"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        yield page, response.text
    for name in reports.TABLE_NAMES:
        for kind in ("csv", "xlsx"):
            response = client.get(f"/reports/export/{name}.{kind}")
            if name == "spend_without_contract" and not access.can_view_unattributed_spend(user):
                assert response.status_code == 404, name  # the portfolio roles' alone
                continue
            assert response.status_code == 200, name
            if kind == "xlsx":
                yield name, json.dumps(_xlsx_cells(response.data), default=str)
            else:
                yield name, response.data.decode("utf-8-sig")
    yield "feed", app.test_client().get(_feed_url(client)).text


def test_the_canary_appears_in_no_report_of_the_reader(app: Flask, seeded: dict[str, User]) -> None:
    for where, text in _all_outputs(app, seeded["reader"]):
        assert CANARY not in text.lower() and "Geheim BV" not in text, where
    admin_text = "".join(text for _where, text in _all_outputs(app, seeded["admin"]))
    assert CANARY in admin_text and "Geheim BV" in admin_text  # the positive control


def test_pages_use_no_inline_style_or_script(app: Flask, seeded: dict[str, User]) -> None:
    client = app.test_client(user=seeded["admin"])
    for page in ("/reports/value", "/reports/deadlines", "/reports/completeness", "/overview"):
        text = client.get(page).text
        assert "<svg" in text or page == "/overview"
        inline_script = re.search(r"<script(?![^>]*\ssrc=)", text)  # external files are fine
        assert " style=" not in text and inline_script is None, page


def test_dashboard_shows_own_dossiers_deadlines_documents_and_digest(
    app: Flask, seeded: dict[str, User]
) -> None:
    manager = app.test_client(user=seeded["manager"]).get("/overview").text
    assert "2026-001" in manager and "2026-003" in manager and "2026-002" not in manager
    # Digest: 001 ends in 16 days; missed: 001 notice, 003 review of 1 July 2025, and the
    # tender starts of 001 (30 April 2025) and 003 (30 September 2025).
    assert "u 1 termijn in de komende 30 dagen" in manager and "4 termijnen zijn gemist" in manager
    reader = app.test_client(user=seeded["reader"]).get("/overview").text
    assert "Uitvoeringsplan 2026" in reader and "Overeenkomst en SLA" not in reader  # confidential
    assert "Geen termijnen vragen" in reader  # a reader acts on no deadlines
    page = app.test_client(user=seeded["reader"]).get("/dossiers/2026-001").text
    assert 'href="/deadlines/2026-001/notice/2025-12-31"' in page and "Gemist" in page


# The daily digest over real SMTP, and the report command.


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_sink(app: Flask) -> Iterator[_Sink]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_FROM="dossier@example.org")
    try:
        yield sink
    finally:
        controller.stop()


def test_digest_is_mailed_to_managers_and_beheerders(
    app: Flask, seeded: dict[str, User], smtp_sink: _Sink
) -> None:
    seeded["manager"].locale = "en"  # mails speak the recipient's language; Dutch by default
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["digest", "--send", "--date", "2026-01-15"])
    assert result.exit_code == 0, result.output
    by_to = {m["To"]: m for m in smtp_sink.messages}
    assert set(by_to) == {"admin@example.org", "manager@example.org"}  # not the reader
    manager = by_to["manager@example.org"]
    assert "1 coming, 4 missed" in manager["Subject"]  # as on the dashboard, above
    body = manager.get_payload(decode=True).decode()
    assert "2026-001" in body and "2026-003" in body and CANARY not in body
    admin = by_to["admin@example.org"]
    # Missed: 001 notice, 003 review, 006 tender start and end-of-contract decision (both
    # 15 May 2025, 9 months before its end), the tender starts of 001 and 003 (below the
    # European threshold, under the own policy). 006 ends in 31 days.
    assert "1 komend, 6 gemist" in admin["Subject"]
    assert CANARY in admin.get_payload(decode=True).decode()
    assert [d.upcoming[0].dossier.reference for d in [digest.compose(seeded["admin"], TODAY)]] == [
        "2026-001"
    ]


def test_digest_without_send_prints_and_a_dead_server_is_a_clear_error(
    app: Flask, seeded: dict[str, User]
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["digest", "--date", "2026-01-15"])
    assert result.exit_code == 0 and "To: manager@example.org" in result.output
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    result = runner.invoke(cli, ["digest", "--send", "--date", "2026-01-15"])
    assert result.exit_code == 1 and "cannot send through 127.0.0.1" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["digest", "--date", "15-01-2026"])
    assert result.exit_code == 1 and "is not a date" in result.output


def test_report_command_formats(app: Flask, seeded: dict[str, User], tmp_path: Any) -> None:
    runner = app.test_cli_runner()
    base = ["report", "--as", "reader@example.org", "--date", "2026-01-15"]
    result = runner.invoke(cli, [*base[:1], "tenders", *base[1:], "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [(r["reference"], r["procurement_start"]) for r in json.loads(result.output)] == [
        ("2026-001", "2025-04-30"),
        ("2026-005", "2026-03-30"),
    ]
    result = runner.invoke(cli, [*base[:1], "value", *base[1:], "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    supplier = [r for r in rows if r["dimension"] == "Supplier"]
    assert supplier == [
        {
            "dimension": "Supplier",
            "key": "Acme",
            "count": "3",
            "value": "900000.00",
            "current_value": "900000.00",
            "annual_value": "350000.00",
        }
    ]
    target = tmp_path / "completeness.xlsx"
    result = runner.invoke(
        cli, [*base[:1], "completeness", *base[1:], "--format", "xlsx", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    cells = _xlsx_cells(target.read_bytes())
    assert cells[0] == ["reference", "title", "category", "missing"]
    assert [c[0] for c in cells[1:]] == ["2026-001", "2026-002", "2026-005"]
    assert cells[3][1] == "'=1+2 Catering"
    assert cells[1][2] == "Services" and cells[1][3].startswith("Service level")
    result = runner.invoke(cli, [*base[:1], "deadlines", *base[1:], "--format", "xlsx"])
    assert result.exit_code == 1 and "needs --output" in result.output
    # Scripts keep the codes in JSON, with the label beside them.
    result = runner.invoke(cli, [*base[:1], "deadlines", *base[1:], "--format", "json"])
    first = json.loads(result.output)[0]
    assert first["kind"] in ("review", "notice", "option", "end", "tender")
    assert first["kind_label"] and first["kind_label"] != first["kind"]
    # --lang nl: Dutch labels, `;` and decimal commas.
    result = runner.invoke(cli, [*base[:1], "value", *base[1:], "--lang", "nl"])
    rows = list(csv.reader(io.StringIO(result.output), delimiter=";"))
    assert ["Soort opdracht", "Diensten", "3", "900000,00", "900000,00", "350000,00"] in rows


# On dossiers of their own rather than the seeded set.


def test_completeness_lists_running_dossiers_only(
    app: Flask, admin: User, make_dossier: Callable[..., object]
) -> None:
    make_dossier("2025-001", status=DossierStatus.ACTIVE)
    make_dossier("2025-002", status=DossierStatus.DRAFT)
    make_dossier("2025-003", status=DossierStatus.ENDED)
    page = app.test_client(user=admin).get("/reports/completeness").text
    assert "2025-001" in page
    assert "2025-002" not in page and "2025-003" not in page


# An amount nobody recorded is unknown: pages show "—" and exports an empty cell, never € 0,00;
# a group with at least one known amount sums the known ones, and nothing at all sums to a known
# zero.


def _seed(app: Flask, make_dossier: Callable[..., Dossier]) -> None:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    active = {"status": DossierStatus.ACTIVE}
    make_dossier("2025-001", supplier="Kantoor BV", annual_value=Decimal("20000"), **active)
    make_dossier("2025-002", supplier="Acme", value=Decimal("100000"), **active)
    make_dossier("2025-003", supplier="Acme", **active)


def test_total_of_unknown_amounts_is_unknown() -> None:
    assert reports.total([None, None]) is None
    assert reports.total([None, Decimal("5")]) == Decimal("5")
    assert reports.total([]) == Decimal("0")


def test_value_tables_keep_unknown_sums_unknown(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    _seed(app, make_dossier)
    tables = {t.name: t for t in reports.value_report(admin, TODAY)}
    assert tables["value_supplier"].rows == [
        ["Acme", 2, Decimal("100000"), Decimal("100000"), None],
        ["Kantoor BV", 1, None, None, Decimal("20000")],
    ]
    totals = reports.value_totals(admin, TODAY).rows
    assert ["supplier", "Kantoor BV", 1, None, None, Decimal("20000")] in totals


def test_pages_show_a_dash_for_an_unknown_amount(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    _seed(app, make_dossier)
    client = app.test_client(user=admin)
    page = client.get("/reports/value").text
    assert not re.search(r"€\s*0,00", page)  # no made-up zero, in tables or charts
    kantoor = re.search(r"<tr><td>Kantoor BV</td>(.*?)</tr>", page)
    assert kantoor is not None
    assert re.findall(r"<td[^>]*>([^<]*)</td>", kantoor.group(1))[:2] == ["1", "—"]
    register = client.get("/").text
    row = re.search(r"2025-003</a></td>(.*?)</tr>", register, re.S)
    assert row is not None and '<td class="num">—</td>' in row.group(1)
    assert "—" in client.get("/dossiers/2025-003").text


def test_exports_leave_an_unknown_amount_empty(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    _seed(app, make_dossier)
    client = app.test_client(user=admin)
    sheet = load_workbook(io.BytesIO(client.get("/reports/export/value_supplier.xlsx").data))
    rows = {r[0]: r[1:] for r in sheet.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert rows == {"Acme": (2, 100000, 100000, None), "Kantoor BV": (1, None, None, 20000)}
    text = client.get("/reports/export/value_supplier.csv").data.decode("utf-8-sig")
    table = {r[0]: r[1:] for r in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]}
    assert table == {
        "Acme": ["2", "100000,00", "100000,00", ""],
        "Kantoor BV": ["1", "", "", "20000,00"],
    }


def test_a_bar_chart_comes_with_a_narrow_twin_for_phones() -> None:
    # Scaled to a phone's width, the wide chart's 13 px text was about 7 px high; app.css shows
    # one of the two by the screen's width.
    long = "Gemeenschappelijke Regeling Samenwerkingsverband Noord <b>"
    svg = str(bar_chart("Waarde", [(long, Decimal("1250000"), "€ 1.250.000,00"), ("B", 5, "€ 5")]))
    wide, narrow = svg.split("</svg>")[:2]
    assert 'class="chart chart-wide"' in wide and f'viewBox="0 0 {WIDTH} ' in wide
    assert 'class="chart chart-narrow"' in narrow and f'viewBox="0 0 {NARROW_WIDTH} ' in narrow
    labels = re.findall(r'class="chart-label"[^>]*>([^<]*)<', narrow)
    assert labels[0].endswith("…") and len(labels[0]) < len(long) and labels[1] == "B"
    assert "<b>" not in svg and "&lt;b&gt;" in svg  # escaped, in the tooltip too
    # The longest bar leaves room for its value within the narrow chart.
    longest = float(re.findall(r'class="chart-bar"[^>]*width="([0-9.]+)"', narrow)[0])
    assert longest <= NARROW_WIDTH - 100
