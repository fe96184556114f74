"""The procurement-law checks (dossier/checks.py), on hand-computed cases: each rule's flag, at
the right amendment or in the right year, and only over the dossiers the reader may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from flask import Flask

from dossier import amendments, checks, labels, reports
from dossier.extensions import db
from dossier.models import Category, Dossier, DossierStatus, MemberRole, Procedure, User

D = Decimal
TODAY = date(2026, 1, 15)
ACTIVE = {"status": DossierStatus.ACTIVE}


def _amend(actor: User, approver: User, dossier: Dossier, on: date, change: str) -> None:
    item = amendments.propose(
        actor,
        dossier,
        {
            "amended_on": on,
            "description": f"Meerwerk {change}",
            "value_change": D(change),
            "legal_ground": "2.163b",
        },
    )
    amendments.decide(approver, item, approve=True)
    db.session.commit()


def _flags(user: User, rule: str) -> list[checks.Flag]:
    return [f for f in checks.visible(user, TODAY) if f.rule == rule]


def test_every_rule_has_a_label() -> None:
    assert set(checks.RULES) == set(labels.CHECK_RULE)


def test_services_amendments_of_6_and_5_percent_are_flagged_at_the_second(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    """Services, initial value 100,000: the de-minimis limit is min(10 % = 10,000, 216,000).
    6,000 (6 %) stays below it; 6,000 + 5,000 = 11,000 (11 %) passes it: flagged at the
    second amendment, with those figures."""
    owner = make_user("owner@example.org")
    d = make_dossier(
        "2026-101",
        {owner: MemberRole.OWNER},
        category=Category.SERVICES,
        value=D("100000"),
        end_on=date(2027, 12, 31),
        **ACTIVE,
    )
    _amend(admin, owner, d, date(2025, 3, 1), "6000")
    assert _flags(admin, "de_minimis") == []
    _amend(admin, owner, d, date(2025, 9, 1), "5000")
    (flag,) = _flags(admin, "de_minimis")
    assert flag.dossier.reference == "2026-101"
    assert flag.amendment is not None and flag.amendment.value_change == D("5000.00")
    assert flag.on == date(2025, 9, 1)
    assert (flag.amount, flag.limit, flag.percent) == (D("11000.00"), D("10000.00"), D("11.0"))
    assert flag.figures["limit_percent"] == 10
    # The current value counts the approved amendments: 100,000 + 6,000 + 5,000.
    assert amendments.current_value(d) == D("111000.00")
    assert _flags(admin, "modification_limit") == []


def test_works_have_a_15_percent_de_minimis_limit(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    owner = make_user("owner@example.org")
    d = make_dossier(
        "2026-102",
        {owner: MemberRole.OWNER},
        category=Category.WORKS,
        value=D("1000000"),
        end_on=date(2027, 12, 31),
        **ACTIVE,
    )
    _amend(admin, owner, d, date(2025, 3, 1), "110000")  # 11 %: below 15 % for works
    assert _flags(admin, "de_minimis") == []
    _amend(admin, owner, d, date(2025, 4, 1), "40000")  # 15 %: no longer below it
    (flag,) = _flags(admin, "de_minimis")
    assert (flag.amount, flag.limit) == (D("150000.00"), D("150000.00"))


def test_a_modification_above_half_the_initial_value_is_flagged(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    owner = make_user("owner@example.org")
    d = make_dossier(
        "2026-103",
        {owner: MemberRole.OWNER},
        value=D("80000"),
        end_on=date(2027, 12, 31),
        **ACTIVE,
    )
    _amend(admin, owner, d, date(2025, 5, 1), "40000")  # exactly 50 %: allowed
    assert _flags(admin, "modification_limit") == []
    _amend(admin, owner, d, date(2025, 6, 1), "40000.01")
    (flag,) = _flags(admin, "modification_limit")
    assert (flag.amount, flag.limit, flag.on) == (D("40000.01"), D("40000.00"), date(2025, 6, 1))


def test_tacit_renewal_crossing_the_threshold_in_its_third_renewal(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """Annual value 60,000, term 2023 (one year), renewed tacitly by a year at a time.
    Cumulative: 2023 60,000; 2024 (renewal 1) 120,000; 2025 (renewal 2) 180,000; 2026
    (renewal 3) 240,000 >= 216,000: flagged for the renewal starting 1 January 2026."""
    make_dossier(
        "2026-104",
        category=Category.SERVICES,
        procedure=Procedure.SINGLE_PRIVATE,
        annual_value=D("60000"),
        start_on=date(2023, 1, 1),
        end_on=date(2023, 12, 31),
        auto_renewal=True,
        **ACTIVE,
    )
    (flag,) = _flags(admin, "cumulative_threshold")
    assert flag.on == date(2026, 1, 1)
    assert flag.figures["period"] == 3
    assert (flag.amount, flag.limit) == (D("240000.00"), D("216000"))


def test_options_count_and_a_european_procedure_is_not_flagged(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """Value 150,000 for two years (75,000 a year), two options of 12 months: 150,000, then
    225,000 in option 1 (from 1 January 2026). The same contract tendered in Europe: nothing."""
    base = {
        "category": Category.SUPPLIES,
        "value": D("150000"),
        "start_on": date(2024, 1, 1),
        "end_on": date(2025, 12, 31),
        "option_count": 2,
        "option_months": 12,
        **ACTIVE,
    }
    make_dossier("2026-105", procedure=Procedure.NATIONAL, **base)
    make_dossier("2026-106", procedure=Procedure.EU_OPEN, **base)
    (flag,) = _flags(admin, "cumulative_threshold")
    assert flag.dossier.reference == "2026-105"
    assert (flag.on, flag.amount, flag.figures["period"]) == (date(2026, 1, 1), D("225000.00"), 1)


def test_the_term_history_counts_an_exercised_option_and_an_early_termination(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """The contract above (150,000 for 2024-2025, two options of 12 months). Exercising option
    1 moves the end date to 31 December 2026 but changes nothing in the sum: 150,000 + 75,000
    (the recorded option, from 1 January 2026) = 225,000, flagged there. An early termination
    on 30 June 2026 cuts that option to 6 months (37,500) and takes the last option away:
    187,500, under 216,000, no flag."""
    from dossier import terms
    from dossier.models import TermEventKind

    contract = make_dossier(
        "2026-107",
        procedure=Procedure.NATIONAL,
        category=Category.SUPPLIES,
        value=D("150000"),
        start_on=date(2024, 1, 1),
        end_on=date(2025, 12, 31),
        option_count=2,
        option_months=12,
        **ACTIVE,
    )
    terms.exercise_option(admin, contract, date(2025, 6, 1), today=date(2025, 7, 1))
    db.session.commit()
    assert contract.end_on == date(2026, 12, 31)
    (flag,) = _flags(admin, "cumulative_threshold")
    assert (flag.on, flag.amount, flag.figures["period"]) == (date(2026, 1, 1), D("225000.00"), 1)
    terms.record_event(
        admin,
        contract,
        TermEventKind.TERMINATION,
        date(2026, 3, 1),
        new_end=date(2026, 6, 30),
        today=date(2026, 3, 15),
    )
    db.session.commit()
    assert checks.periods(contract, TODAY, app.config) == [
        (0, date(2024, 1, 1), D("150000.00")),
        (1, date(2026, 1, 1), D("37500.00")),
    ]
    assert _flags(admin, "cumulative_threshold") == []


def test_a_running_contract_without_an_end_date_is_flagged(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2026-107", **ACTIVE)
    make_dossier("2026-108", status=DossierStatus.ENDED)
    make_dossier("2026-109", end_on=date(2027, 1, 1), **ACTIVE)
    assert [f.dossier.reference for f in _flags(admin, "no_end_date")] == ["2026-107"]


def _split(make_dossier: Callable[..., Dossier], members: dict[User, MemberRole]) -> None:
    """Three contracts with Acme in CPV group 302 (computer equipment) within 12 months:
    120,000 + 100,000 = 220,000 >= 216,000 once the second starts; a third in another group."""
    common = {"supplier": "Acme", "category": Category.SUPPLIES, **ACTIVE}
    make_dossier(
        "2026-110",
        members,
        cpv_code="30213100-6",
        value=D("120000"),
        start_on=date(2025, 1, 1),
        end_on=date(2026, 12, 31),
        **common,
    )
    make_dossier(
        "2026-111",
        cpv_code="30232110-8",
        value=D("100000"),
        start_on=date(2025, 11, 1),
        end_on=date(2026, 12, 31),
        **common,
    )
    make_dossier(
        "2026-112",
        members,
        cpv_code="72000000-5",
        value=D("150000"),
        start_on=date(2025, 6, 1),
        end_on=date(2026, 12, 31),
        **common,
    )


def test_splitting_adds_up_one_supplier_and_cpv_group_within_the_period(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    _split(make_dossier, {})
    (flag,) = _flags(admin, "splitting")
    assert flag.dossier.reference == "2026-111" and flag.on == date(2025, 11, 1)
    assert flag.figures["references"] == ["2026-110", "2026-111"]
    assert flag.figures["cpv_group"] == "302"
    assert (flag.amount, flag.limit) == (D("220000.00"), D("216000"))
    app.config["SPLITTING_MONTHS"] = 6  # 1 January and 1 November: too far apart now
    assert _flags(admin, "splitting") == []


def test_a_reader_sees_only_flags_and_figures_of_dossiers_she_may_read(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    """Decision: the checks run over the reader's visible dossiers only. She reads 2026-110
    (120,000) but not 2026-111 (100,000): no splitting flag for her, since a flag carrying the
    sum would give away the value of the contract she may not read; the portfolio view (which
    sees all) has the flag. Nor does the report or export mention the hidden dossier."""
    reader = make_user("reader@example.org")
    _split(make_dossier, {reader: MemberRole.READER})
    make_dossier("2026-113", **ACTIVE)  # no end date, not hers
    assert _flags(reader, "splitting") == []
    assert _flags(admin, "splitting") != []
    table = reports.checks_report(reader, TODAY)
    assert {row[0] for row in table.rows} <= {"2026-110", "2026-112"}
    text = repr(table.rows)
    assert "2026-111" not in text and "100000" not in text and "2026-113" not in text
    client = app.test_client(user=reader)
    page = client.get("/reports/checks").text
    assert "2026-111" not in page and "2026-113" not in page
    export = client.get("/reports/export/checks.csv").data.decode("utf-8-sig")
    assert "2026-111" not in export and "2026-113" not in export


def test_checks_report_page_export_and_command(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    import json

    from dossier.cli import cli

    app.config["REPORT_DATE"] = TODAY.isoformat()
    owner = make_user("owner@example.org")
    d = make_dossier(
        "2026-114",
        {owner: MemberRole.OWNER},
        category=Category.SERVICES,
        value=D("100000"),
        end_on=date(2027, 12, 31),
        **ACTIVE,
    )
    _amend(admin, owner, d, date(2025, 3, 1), "6000")
    _amend(admin, owner, d, date(2025, 9, 1), "5000")
    client = app.test_client(user=admin)
    page = client.get("/reports/checks").text
    assert "Wijzigingen voorbij de de-minimisgrens" in page
    assert "11,0" in page and "/dossiers/2026-114/amendments/" in page
    assert "1</strong>" in client.get("/overview").text  # the dashboard counts the flag
    export = client.get("/reports/export/checks.csv").data.decode("utf-8-sig")
    assert "2026-114" in export and "11000,00" in export
    assert client.get("/reports/export/checks.xlsx").status_code == 200
    result = app.test_cli_runner().invoke(
        cli, ["report", "checks", "--as", "admin@example.org", "--date", "2026-01-15", "--json"]
    )
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)
    assert record["rule"] == "de_minimis" and record["on"] == "2025-09-01"
    assert record["amount"] == "11000.00" and record["figures"]["initial"] == "100000.00"
    assert record["figures_label"].startswith("Net change")


def test_the_digest_carries_new_flags_of_the_dossiers_one_acts_on(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    """An amendment made yesterday that crosses the limit reaches the manager's digest once
    (dated yesterday or today); a reader of the dossier, who does not act on it, and a
    manager of another dossier get nothing of it."""
    from dossier import digest

    manager = make_user("manager@example.org")
    owner = make_user("owner@example.org")
    reader = make_user("reader@example.org")
    other = make_user("other@example.org")
    d = make_dossier(
        "2026-115",
        {manager: MemberRole.MANAGER, owner: MemberRole.OWNER, reader: MemberRole.READER},
        category=Category.SERVICES,
        value=D("100000"),
        end_on=date(2027, 12, 31),
        **ACTIVE,
    )
    make_dossier("2026-116", {other: MemberRole.MANAGER}, end_on=date(2027, 12, 31), **ACTIVE)
    _amend(manager, owner, d, date(2026, 1, 14), "10000")  # 10 %: not below 10 %
    (flag,) = digest.compose(manager, TODAY).flags
    assert (flag.rule, flag.dossier.reference, flag.on) == (
        "de_minimis",
        "2026-115",
        TODAY.replace(day=14),
    )
    assert digest.compose(manager, date(2026, 1, 16)).flags == []  # reported once
    assert digest.compose(reader, TODAY).flags == []
    assert digest.compose(other, TODAY).flags == []
    text = digest.render_text(digest.compose(manager, TODAY))
    assert "2026-115" in text and "/dossiers/2026-115/amendments/" in text


def test_a_framework_without_maximum_and_call_offs_beyond_it_are_flagged(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    """A framework agreement with a maximum of 100,000 and call-offs of 60,000 and 50,000:
    110,000 exceeds it (110 %). A reader of the framework and one call-off sums only what she
    may read (60,000): no flag, and nothing of the other call-off. A framework without a
    maximum is flagged as such."""
    from dossier import relations

    reader = make_user("reader@example.org")
    framework = make_dossier("2026-120", {reader: MemberRole.READER}, **ACTIVE)
    framework.is_framework = True
    framework.framework_max_value = D("100000")
    make_dossier("2026-121", {reader: MemberRole.READER}, value=D("60000"), **ACTIVE)
    make_dossier("2026-122", value=D("50000"), **ACTIVE)
    open_ended = make_dossier("2026-123", end_on=date(2028, 1, 1), **ACTIVE)
    open_ended.is_framework = True
    for child in ("2026-121", "2026-122"):
        relations.add(admin, framework, child, "child:call_off")
    db.session.commit()
    (flag,) = _flags(admin, "framework_exceeded")
    assert flag.dossier.reference == "2026-120"
    assert (flag.amount, flag.limit, flag.percent) == (D("110000.00"), D("100000"), D("110.0"))
    assert flag.figures["references"] == ["2026-121", "2026-122"]
    assert [f.dossier.reference for f in _flags(admin, "framework_without_maximum")] == ["2026-123"]
    assert _flags(reader, "framework_exceeded") == []
    page = app.test_client(user=admin).get("/reports/checks").text
    assert "Nadere overeenkomsten overschrijden het maximum van de raamovereenkomst" in page
    assert "Raamovereenkomst zonder maximumwaarde" in page
