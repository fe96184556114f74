"""Issue 18, "How it will be checked", in one place: a seeded portfolio with every expectation
worked out by hand in the comment beside it.

- LIFE-OPT: two options, the first exercised (timeline, every derived date, the decision kept);
  registered through the register import with its own option and tender lead times.
- LIFE-TACIT: renewed tacitly three times, recorded as term events; its cumulative value
  crosses 216,000 in the third renewal and is flagged in that year.
- LIFE-AMEND: services, amendments of 6 % and 5 %: flagged at the second.
- LIFE-FW: a framework whose call-offs (LIFE-CO1, LIFE-CO2) exceed its maximum.
- LIFE-SP1/LIFE-SP2: one supplier, one CPV group, together above the threshold (splitting).
- A spend import with an unknown supplier mapped by hand, and a re-import that changes nothing.
- A reader of LIFE-OPT, LIFE-TACIT, LIFE-FW, LIFE-CO1 and LIFE-SP1 sees only their figures in
  the reports, checks, terms and spend.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from icalendar import Calendar

from dossier import (
    amendments,
    checks,
    deadlines,
    decisions,
    dossiers,
    records,
    register_io,
    relations,
    reports,
    spend,
    spend_import,
    spend_matching,
    spend_tables,
    terms,
)
from dossier.extensions import db
from dossier.models import (
    Category,
    DeadlineKind,
    DeadlineStatus,
    Dossier,
    DossierStatus,
    EndDecisionKind,
    MemberRole,
    Party,
    Procedure,
    SpendLine,
    TermEventKind,
    User,
)

D = Decimal
K = DeadlineKind
TODAY = date(2026, 1, 15)
ACTIVE = {"status": DossierStatus.ACTIVE}
# The register import: LIFE-OPT with its own lead times under the Dutch register names.
REGISTER = (
    "reference;title;status;signed_on;start_on;end_on;option_count;option_months;"
    "Beslistermijn optie;Doorlooptijd aanbesteding;value;annual_value;category;procedure\n"
    "LIFE-OPT;ICT-beheer;active;15-11-2021;01-01-2022;31-12-2025;2;12;6;15;400.000,00;"
    "100.000,00;services;eu_open\n"
)
# Spend: 2 invoices of Schoon BV (KvK 12345678) on LIFE-AMEND (its only contract), 1 with the
# reference LIFE-TACIT, and 2 of a creditor the system does not know (7001, "Tacit Trading").
LEDGER = (
    "Leverancier;KvK-nummer;Crediteurnummer;Contractnummer;Factuurnummer;Factuurdatum;"
    "Bedrag excl. btw\n"
    "Schoon BV;12345678;1001;;S-1;01-03-2025;40.000,00\n"
    "Schoon BV;12345678;1001;;S-2;01-02-2026;15.000,00\n"
    "TT Handel;;7001;LIFE-TACIT;T-1;10-01-2026;5.000,00\n"
    "TT Handel;;7001;;T-2;12-01-2026;7.500,00\n"
)


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "manager": make_user("life-manager@example.org", name="Mia Manager"),
        "owner": make_user("life-owner@example.org", name="Otto Owner"),
        "reader": make_user("life-reader@example.org", name="Rita Reader"),
    }


@pytest.fixture
def portfolio(
    app: Flask,
    admin: User,
    people: dict[str, User],
    make_dossier: Callable[..., Dossier],
    tmp_path: Path,
) -> dict[str, Dossier]:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    reader, manager, owner = people["reader"], people["manager"], people["owner"]
    path = tmp_path / "register.csv"
    path.write_text(REGISTER, encoding="utf-8")
    report = register_io.import_register(admin, path)
    assert (report.created, report.errors) == (["LIFE-OPT"], [])
    option = db.session.scalar(sa.select(Dossier).where(Dossier.reference == "LIFE-OPT"))
    assert option is not None
    for user, role in ((reader, MemberRole.READER), (manager, MemberRole.MANAGER)):
        dossiers.grant(admin, option, user, role)
    seen = {reader: MemberRole.READER}
    made = {
        "opt": option,
        "tacit": make_dossier(
            "LIFE-TACIT",
            {**seen, manager: MemberRole.MANAGER},
            supplier="Tacit Trading",
            category=Category.SERVICES,
            procedure=Procedure.SINGLE_PRIVATE,
            value=D("60000"),
            annual_value=D("60000"),
            start_on=date(2023, 1, 1),
            end_on=date(2023, 12, 31),
            option_months=12,
            auto_renewal=True,
            **ACTIVE,
        ),
        "amend": make_dossier(
            "LIFE-AMEND",
            {owner: MemberRole.OWNER},
            supplier="Schoon BV",
            supplier_kvk="12345678",
            category=Category.SERVICES,
            procedure=Procedure.NATIONAL,
            value=D("100000"),
            start_on=date(2025, 1, 1),
            end_on=date(2027, 12, 31),
            **ACTIVE,
        ),
        "fw": make_dossier("LIFE-FW", seen, end_on=date(2028, 12, 31), **ACTIVE),
        "co1": make_dossier(
            "LIFE-CO1", seen, value=D("120000"), end_on=date(2027, 6, 30), **ACTIVE
        ),
        "co2": make_dossier("LIFE-CO2", value=D("100000"), end_on=date(2027, 6, 30), **ACTIVE),
    }
    split = {
        "supplier": "Split BV",
        "category": Category.SUPPLIES,
        "procedure": Procedure.MULTIPLE_PRIVATE,
        "end_on": date(2027, 12, 31),
        **ACTIVE,
    }
    made["sp1"] = make_dossier(
        "LIFE-SP1", seen, cpv_code="30213000-5", value=D("120000"), start_on=date(2025, 3, 1),
        **split,
    )  # fmt: skip
    made["sp2"] = make_dossier(
        "LIFE-SP2", cpv_code="30237000-9", value=D("100000"), start_on=date(2025, 9, 1), **split
    )
    relations.set_framework(admin, made["fw"], True, D("200000"))
    for child in ("LIFE-CO1", "LIFE-CO2"):
        relations.add(admin, made["fw"], child, "child:call_off")
    db.session.commit()
    return made


def _flags(user: User, rule: str) -> list[checks.Flag]:
    return [f for f in checks.visible(user, TODAY) if f.rule == rule]


def _deadlines(dossier: Dossier, today: date) -> dict[tuple[DeadlineKind, date], object]:
    found = deadlines.for_dossiers([dossier], today, history=True)
    return {(d.kind, d.due_on): (d.status, d.superseded) for d in found}


def test_two_options_the_first_exercised(
    app: Flask, admin: User, portfolio: dict[str, Dossier], people: dict[str, User], tmp_path: Path
) -> None:
    """4 years (2022-2025) + two options of 12 months, 400,000 (100,000 a year), the option
    decided 6 months and the tender started 15 months before the end (the register import's
    own lead times, not the configured 3 and 9)."""
    contract = portfolio["opt"]
    assert (contract.option_lead_months, contract.tender_lead_months) == (6, 15)
    today = date(2025, 5, 20)
    # Option: 31 Dec 2025 - 6 months = 30 June 2025. Maximum end 31 Dec 2025 + 24 months =
    # 31 Dec 2027; tender start 31 Dec 2027 - 15 months = 30 Sep 2026. The horizon (20 May
    # 2025 + 18 months = 20 Nov 2026) lies before the maximum end: no decision deadline.
    assert _deadlines(contract, today) == {
        (K.OPTION, date(2025, 6, 30)): (DeadlineStatus.OPEN, False),
        (K.END, date(2025, 12, 31)): (DeadlineStatus.OPEN, False),
        (K.TENDER, date(2026, 9, 30)): (DeadlineStatus.OPEN, False),
    }
    terms.exercise_option(
        people["manager"], contract, date(2025, 5, 15), "College van B&W", today=today
    )
    db.session.commit()
    # After: end 31 Dec 2026, one option left (its decision 30 June 2026), the maximum end
    # and so the tender start unchanged; the first option deadline closed as acted on, kept
    # with the decision in its note although the data no longer give it.
    assert (contract.end_on, contract.option_count) == (date(2026, 12, 31), 1)
    assert _deadlines(contract, today) == {
        (K.OPTION, date(2025, 6, 30)): (DeadlineStatus.ACTED_ON, True),
        (K.OPTION, date(2026, 6, 30)): (DeadlineStatus.OPEN, False),
        (K.END, date(2026, 12, 31)): (DeadlineStatus.OPEN, False),
        (K.TENDER, date(2026, 9, 30)): (DeadlineStatus.OPEN, False),
    }
    [kept] = [d for d in deadlines.for_dossiers([contract], today, history=True) if d.superseded]
    assert kept.action is not None
    assert "Option 1 exercised on 15-05-2025 by College van B&W" in kept.action.note
    derived = deadlines.running_dates(contract, today)
    assert (derived.max_end_on, derived.notice_deadline) == (date(2027, 12, 31), None)
    timeline = terms.timeline(contract)
    assert timeline.formula == "4 + 1" and timeline.remaining == 1
    assert [(n, e.decided_on, e.decided_by) for n, e in timeline.exercised] == [
        (1, date(2025, 5, 15), "College van B&W")
    ]
    # As of 15 January 2026 the terms report says the same; the horizon (15 July 2027) still
    # lies before the maximum end, so no decision is due yet.
    [row] = [
        r for r in reports.terms_report(admin, TODAY).records() if r["reference"] == "LIFE-OPT"
    ]
    assert (row["term"], row["options_exercised"], row["options_left"]) == ("4 + 1", 1, 1)
    assert (row["option_decision_on"], row["max_end_on"]) == (date(2026, 6, 30), date(2027, 12, 31))
    assert (row["tender_start"], row["decision_due"]) == (date(2026, 9, 30), None)
    # Records: retention (10 years for every contract, 16.1) counts from the history's end.
    records.ensure_shipped_list()
    assert records.disposal_date(contract) == date(2036, 12, 31)  # 31 Dec 2026 + 10 years
    # Options count towards the value but this contract was tendered in Europe: no flag.
    assert [f for f in checks.visible(admin, TODAY) if f.dossier.reference == "LIFE-OPT"] == []
    # The register export carries the lead times; a changed lead time moves the dates.
    header = list(register_io.COLUMNS)
    [exported] = [r for r in register_io.export_rows(admin) if r[0] == "LIFE-OPT"]
    values = dict(zip(header, exported, strict=True))
    assert (values["option_lead_months"], values["tender_lead_months"]) == (6, 15)
    path = tmp_path / "leads.csv"
    path.write_text("reference;option_lead_months;tender_lead_months\nLIFE-OPT;3;\n")
    assert register_io.import_register(admin, path).updated == ["LIFE-OPT"]
    # Option 31 Dec 2026 - 3 months = 30 Sep 2026; tender 31 Dec 2027 - 9 (the default).
    found = _deadlines(contract, today)
    assert (K.OPTION, date(2026, 9, 30)) in found and (K.TENDER, date(2027, 3, 31)) in found


def test_a_decision_to_end_settles_the_tender_start_a_re_tender_keeps_it(
    app: Flask, people: dict[str, User], make_dossier: Callable[..., Dossier]
) -> None:
    """Two contracts of 80,000 (services: a multiple private procedure under the own policy),
    2024 to 30 June 2026, no options: tender start and decision due 30 June 2026 - 9 months =
    30 September 2025, both missed on 15 January 2026. Ending the contract settles both; a
    re-tender settles the decision, and its procurement still has to start."""
    members = {people["manager"]: MemberRole.MANAGER, people["owner"]: MemberRole.OWNER}
    term = {"start_on": date(2024, 1, 1), "end_on": date(2026, 6, 30), "value": D("80000")}
    ending = make_dossier("LIFE-END", members, **term, **ACTIVE)
    retender = make_dossier("LIFE-RETENDER", members, **term, **ACTIVE)
    start = date(2025, 9, 30)
    for contract in (ending, retender):
        assert deadlines.procedure_needed(contract) == deadlines.MULTIPLE_PRIVATE
        found = _deadlines(contract, TODAY)
        assert (
            found[(K.TENDER, start)]
            == found[(K.DECISION, start)]
            == (
                DeadlineStatus.MISSED,
                False,
            )
        )
    for contract, kind in ((ending, EndDecisionKind.END), (retender, EndDecisionKind.RETENDER)):
        proposal = decisions.propose(people["manager"], contract, kind, "Na evaluatie")
        decisions.approve(people["owner"], proposal, today=TODAY)
        db.session.commit()
    found = _deadlines(ending, TODAY)
    assert (
        found[(K.TENDER, start)]
        == found[(K.DECISION, start)]
        == (
            DeadlineStatus.ACTED_ON,
            False,
        )
    )
    [tender] = [d for d in deadlines.for_dossiers([ending], TODAY) if d.kind == K.TENDER]
    assert tender.action is not None and tender.action.note.startswith("No new tender")
    found = _deadlines(retender, TODAY)
    assert found[(K.DECISION, start)] == (DeadlineStatus.ACTED_ON, False)
    assert found[(K.TENDER, start)] == (DeadlineStatus.MISSED, False)


def test_tacit_renewals_cross_the_threshold_in_the_third(
    app: Flask, admin: User, portfolio: dict[str, Dossier], people: dict[str, User]
) -> None:
    """60,000 for 2023, renewed tacitly by 12 months: 2024 120,000, 2025 180,000, 2026 240,000
    >= 216,000: flagged for the third renewal, which starts 1 January 2026, whether the
    renewals are foreseen (nothing recorded) or recorded as term events (the end date then
    lies at 31 December 2026, and the periods before it come from the history)."""
    contract = portfolio["tacit"]
    (foreseen,) = _flags(admin, "cumulative_threshold")
    assert foreseen.dossier.reference == "LIFE-TACIT"
    assert (foreseen.on, foreseen.figures["period"]) == (date(2026, 1, 1), 3)
    for decided in (date(2023, 10, 1), date(2024, 10, 1), date(2025, 10, 1)):
        terms.record_event(people["manager"], contract, TermEventKind.RENEWAL, decided, today=TODAY)
    db.session.commit()
    assert contract.end_on == date(2026, 12, 31)
    assert terms.timeline(contract).formula == "1 + 1 + 1 + 1"
    (flag,) = _flags(admin, "cumulative_threshold")
    assert (flag.on, flag.on.year, flag.figures["period"]) == (date(2026, 1, 1), 2026, 3)
    assert (flag.amount, flag.limit) == (D("240000.00"), D("216000"))
    assert [(n, s, v) for n, s, v in checks.periods(contract, TODAY, app.config)] == [
        (0, date(2023, 1, 1), D("60000.00")),
        (1, date(2024, 1, 1), D("60000.00")),
        (2, date(2025, 1, 1), D("60000.00")),
        (3, date(2026, 1, 1), D("60000.00")),
        # The renewal after the recorded ones, within the horizon (15 July 2027).
        (4, date(2027, 1, 1), D("60000.00")),
    ]
    # Below the European threshold its re-tender needs the own policy's procedure (60,000 of
    # services: multiple private), and the deadline lists carry its tender start: 31 Dec 2026
    # - 9 months = 31 March 2026.
    assert deadlines.procedure_needed(contract) == deadlines.MULTIPLE_PRIVATE
    assert (K.TENDER, date(2026, 3, 31)) in _deadlines(contract, TODAY)


def test_amendments_of_6_and_5_percent_and_a_framework_beyond_its_maximum(
    app: Flask, admin: User, portfolio: dict[str, Dossier], people: dict[str, User]
) -> None:
    contract = portfolio["amend"]
    for day, change in ((date(2025, 6, 1), "6000"), (date(2025, 9, 1), "5000")):
        item = amendments.propose(
            admin,
            contract,
            {
                "amended_on": day,
                "description": "Meerwerk",
                "value_change": D(change),
                "legal_ground": "2.163b",
            },
        )
        amendments.decide(people["owner"], item, approve=True)
        db.session.commit()
        if change == "6000":  # 6 % of 100,000 is below min(10 % = 10,000, 216,000)
            assert _flags(admin, "de_minimis") == []
    # 6,000 + 5,000 = 11,000 = 11 %: flagged at the second amendment.
    (flag,) = _flags(admin, "de_minimis")
    assert flag.dossier.reference == "LIFE-AMEND" and flag.on == date(2025, 9, 1)
    assert (flag.amount, flag.limit, flag.percent) == (D("11000.00"), D("10000.00"), D("11.0"))
    assert amendments.current_value(contract) == D("111000.00")
    # Call-offs 120,000 + 100,000 = 220,000 of a maximum of 200,000: 110 %.
    (exceeded,) = _flags(admin, "framework_exceeded")
    assert exceeded.dossier.reference == "LIFE-FW"
    assert (exceeded.amount, exceeded.limit, exceeded.percent) == (
        D("220000.00"),
        D("200000"),
        D("110.0"),
    )
    # Split BV, CPV group 302: 120,000 (March 2025) + 100,000 (September 2025) = 220,000.
    (split,) = _flags(admin, "splitting")
    assert (split.dossier.reference, split.on, split.amount) == (
        "LIFE-SP2",
        date(2025, 9, 1),
        D("220000.00"),
    )


def test_spend_import_with_a_supplier_mapped_by_hand_and_an_idempotent_re_import(
    app: Flask, admin: User, portfolio: dict[str, Dossier], tmp_path: Path
) -> None:
    path = tmp_path / "grootboek.csv"
    path.write_text(LEDGER, encoding="utf-8")
    first = spend_import.preview(admin, path, "finance")
    assert first.errors == [] and first.can_commit
    spend_import.commit(admin, first.spend_import)
    db.session.commit()
    # Schoon BV is known by its KvK number: 40,000 + 15,000 on LIFE-AMEND. Creditor 7001 is
    # unknown (12,500 in 2 lines); its line that names LIFE-TACIT counts there (5,000), the
    # other one against no contract.
    [unknown] = spend_matching.unknown_suppliers()
    assert (unknown.creditor_number, unknown.count, unknown.total) == ("7001", 2, D("12500.00"))
    assert spend.dossier_spend(admin, portfolio["tacit"], TODAY).total == D("5000.00")
    party = db.session.scalar(sa.select(Party).where(Party.name == "Tacit Trading"))
    assert party is not None
    assert spend_matching.map_supplier(admin, party, "finance", "7001", "", "TT Handel") == 2
    db.session.commit()
    # Tacit Trading has one contract: the other line counts against it too (5,000 + 7,500).
    figures = spend.dossier_spend(admin, portfolio["tacit"], TODAY)
    assert figures.total == D("12500.00")
    assert spend.dossier_spend(admin, portfolio["amend"], TODAY).total == D("55000.00")
    assert spend_matching.unknown_suppliers() == []
    lines = db.session.scalar(sa.select(sa.func.count()).select_from(SpendLine))
    again = spend_import.preview(admin, path, "finance")
    spend_import.commit(admin, again.spend_import)
    db.session.commit()
    assert (again.spend_import.new_count, again.spend_import.known_count) == (0, 4)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpendLine)) == lines == 4
    assert spend.dossier_spend(admin, portfolio["tacit"], TODAY).total == D("12500.00")
    assert spend.dossier_spend(admin, portfolio["amend"], TODAY).total == D("55000.00")


def test_a_reader_sees_only_the_figures_of_her_dossiers(
    app: Flask, admin: User, portfolio: dict[str, Dossier], people: dict[str, User], tmp_path: Path
) -> None:
    reader = people["reader"]
    mine = {"LIFE-OPT", "LIFE-TACIT", "LIFE-FW", "LIFE-CO1", "LIFE-SP1"}
    hidden = ("LIFE-AMEND", "LIFE-CO2", "LIFE-SP2")
    item = amendments.propose(
        admin,
        portfolio["amend"],
        {
            "amended_on": date(2025, 6, 1),
            "description": "Meerwerk",
            "value_change": D("11000"),
            "legal_ground": "2.163b",
        },
    )
    amendments.decide(people["owner"], item, approve=True)
    path = tmp_path / "grootboek.csv"
    path.write_text(LEDGER, encoding="utf-8")
    spend_import.commit(admin, spend_import.preview(admin, path, "finance").spend_import)
    db.session.commit()
    # The portfolio view has every flag; the reader only LIFE-TACIT's: the framework's
    # call-offs she reads add up to 120,000 (under 200,000), the split needs LIFE-SP2.
    every = {(f.rule, f.dossier.reference) for f in checks.visible(admin, TODAY)}
    assert {
        ("de_minimis", "LIFE-AMEND"),
        ("framework_exceeded", "LIFE-FW"),
        ("splitting", "LIFE-SP2"),
        ("cumulative_threshold", "LIFE-TACIT"),
    } <= every
    assert {(f.rule, f.dossier.reference) for f in checks.visible(reader, TODAY)} == {
        ("cumulative_threshold", "LIFE-TACIT"),
    }
    tables = {
        "checks": reports.checks_report(reader, TODAY),
        "terms": reports.terms_report(reader, TODAY),
        "tenders": reports.tender_report(reader, TODAY),
        "deadlines": reports.deadline_report(reader, TODAY),
        "spend": spend_tables.spend_table(reader, TODAY),
        **{f"value-{t.name}": t for t in reports.value_report(reader, TODAY)},
    }
    for name, table in tables.items():
        text = repr(table.rows)
        for reference in hidden:
            assert reference not in text, (name, reference)
        assert "111000" not in text and "220000" not in text, name
    assert {r[0] for r in tables["terms"].rows} == mine
    assert {r[0] for r in tables["spend"].rows} <= mine  # LIFE-AMEND's 55,000 is not hers
    assert spend_tables.without_contract_table(reader) is None  # the portfolio roles' alone
    client = app.test_client(user=reader)
    for url in ("/reports/checks", "/reports/terms", "/reports/spend", "/reports/value"):
        page = client.get(url)
        assert page.status_code == 200, url
        for reference in hidden:
            assert reference not in page.text, (url, reference)
    assert client.get("/dossiers/LIFE-AMEND/amendments").status_code == 404
    # Her calendar feed carries the tender start of a contract below the European threshold
    # (LIFE-TACIT: 31 December 2026 - 9 months), with the procedure it needs.
    page = client.post("/account/calendar").text
    start = page.index("http://localhost/calendar/")
    feed = app.test_client().get(page[start : page.index(".ics", start) + 4][16:])
    assert feed.status_code == 200
    calendar = Calendar.from_ical(feed.data)
    [tender] = [
        e
        for e in calendar.walk("VEVENT")
        if str(e["SUMMARY"]).startswith("Start nieuwe aanbesteding: LIFE-TACIT")
    ]
    assert tender.decoded("DTSTART") == date(2026, 3, 31)
    assert "Benodigde procedure: Meervoudig onderhandse procedure" in str(tender["DESCRIPTION"])
    for reference in hidden:
        assert reference not in feed.text
