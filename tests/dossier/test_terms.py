"""A contract's life (issue 18, items 1, 2 and 5): the term as a history of events, options
exercised as one action that closes the option deadline, corrections through the register form,
per-dossier lead times, the end-of-contract decision with four eyes and the successor tender
dossier, and related dossiers with the framework ceiling, filtered by what a reader may see.
Every expected date and amount is worked out by hand in the comment beside it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import (
    access,
    deadlines,
    decisions,
    dossiers,
    groups,
    memberships,
    relations,
    reports,
    terms,
)
from dossier.cli import cli
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Category,
    DeadlineKind,
    DeadlineStatus,
    Dossier,
    DossierRelation,
    DossierStatus,
    EndDecisionKind,
    EndDecisionStatus,
    GlobalRole,
    MemberRole,
    RelationKind,
    TermEvent,
    TermEventKind,
    User,
)
from tests.dossier.helpers import _english, _section, _text

K = DeadlineKind


def _deadlines(dossier: Dossier, today: date) -> dict[tuple[DeadlineKind, date], object]:
    found = deadlines.for_dossiers([dossier], today, history=True)
    return {(d.kind, d.due_on): (d.status, d.superseded) for d in found}


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "manager": make_user("manager@example.org", name="Mia Manager"),
        "owner": make_user("owner@example.org", name="Otto Owner"),
        "reader": make_user("reader@example.org"),
    }


@pytest.fixture
def contract(make_dossier: Callable[..., Dossier], people: dict[str, User]) -> Dossier:
    """4 years (1 January 2022 to 31 December 2025) + two options of 12 months; the options
    are decided 6 months before the end; 100,000 a year, 600,000 in all (services: above the
    European threshold)."""
    made = make_dossier(
        "TERM-1",
        members={
            people["manager"]: MemberRole.MANAGER,
            people["owner"]: MemberRole.OWNER,
            people["reader"]: MemberRole.READER,
        },
        status=DossierStatus.ACTIVE,
        signed_on=date(2021, 11, 15),
        start_on=date(2022, 1, 1),
        end_on=date(2025, 12, 31),
        option_count=2,
        option_months=12,
        value=Decimal("600000"),
        annual_value=Decimal("100000"),
        category=Category.SERVICES,
    )
    made.option_lead_months = 6
    db.session.commit()
    return made


def test_exercising_the_first_of_two_options(
    app: Flask, contract: Dossier, people: dict[str, User]
) -> None:
    today = date(2025, 5, 20)
    # Before: option decision 31 Dec 2025 - 6 months = 30 June 2025 (the dossier's own lead,
    # not the configured 3 months); maximum end 31 Dec 2025 + 24 months = 31 Dec 2027; tender
    # start 31 Dec 2027 - 9 months = 31 March 2027. The maximum end is beyond the horizon
    # (20 May 2025 + 18 months = 20 Nov 2026): no decision deadline yet.
    assert _deadlines(contract, today) == {
        (K.OPTION, date(2025, 6, 30)): (DeadlineStatus.OPEN, False),
        (K.END, date(2025, 12, 31)): (DeadlineStatus.OPEN, False),
        (K.TENDER, date(2027, 3, 31)): (DeadlineStatus.OPEN, False),
    }
    timeline = terms.timeline(contract)
    assert [e.kind for e in timeline.events] == [TermEventKind.ORIGINAL]
    assert timeline.events[0].id is None  # shown from the register data, not stored yet
    assert timeline.formula == "4" and timeline.in_years and timeline.remaining == 2

    client = app.test_client(user=people["manager"])
    response = client.post(
        "/dossiers/TERM-1/term/option",
        data={
            "option-decided_on": "2025-05-15",
            "option-decided_by": "College van B&W",
            "option-note": "Goed",
        },
    )
    assert response.status_code == 302, response.text
    db.session.expire_all()
    # After: end 31 Dec 2026, one option left, maximum end unchanged; the new option
    # decision is 31 Dec 2026 - 6 months = 30 June 2026; the old one is closed, kept as acted
    # on (superseded: the data no longer give it) with the decision in its note.
    assert (contract.end_on, contract.option_count) == (date(2026, 12, 31), 1)
    found = _deadlines(contract, today)
    assert found == {
        (K.OPTION, date(2025, 6, 30)): (DeadlineStatus.ACTED_ON, True),
        (K.OPTION, date(2026, 6, 30)): (DeadlineStatus.OPEN, False),
        (K.END, date(2026, 12, 31)): (DeadlineStatus.OPEN, False),
        (K.TENDER, date(2027, 3, 31)): (DeadlineStatus.OPEN, False),
    }
    [closed] = [d for d in deadlines.for_dossiers([contract], today, history=True) if d.superseded]
    assert "Optie 1 gelicht op 15-05-2025 door College van B&W" in closed.action.note
    assert "nieuw einde 31-12-2026" in closed.action.note
    assert closed.action.set_by_id == people["manager"].id
    derived = deadlines.running_dates(contract, today)
    assert derived.max_end_on == date(2027, 12, 31)

    events = db.session.scalars(sa.select(TermEvent).order_by(TermEvent.id)).all()
    shape = [(e.kind, e.end_before, e.end_after, e.options_before, e.options_after) for e in events]
    assert shape == [
        (TermEventKind.ORIGINAL, None, date(2025, 12, 31), None, 2),
        (TermEventKind.OPTION, date(2025, 12, 31), date(2026, 12, 31), 2, 1),
    ]  # fmt: skip
    assert events[0].start_on == date(2022, 1, 1) and events[0].decided_on == date(2021, 11, 15)
    assert (events[1].decided_on, events[1].decided_by) == (date(2025, 5, 15), "College van B&W")
    timeline = terms.timeline(contract)
    assert timeline.formula == "4 + 1" and timeline.remaining == 1
    assert [(n, e.decided_on) for n, e in timeline.exercised] == [(1, date(2025, 5, 15))]
    audited = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert audited[-2:] == ["deadline.status", "term.event"]

    # The dossier page shows the timeline; so does the term page, with the derived dates.
    page = _text(app.test_client(user=people["reader"]).get("/dossiers/TERM-1"))
    life = _section(page, "h-life")
    plain = " ".join(re.sub(r"<[^>]+>", "", life).split())
    assert "4 + 1 jaar; optie 1 gelicht op 15 mei 2025; 1 optie over" in plain
    term_page = _text(app.test_client(user=people["reader"]).get("/dossiers/TERM-1/term"))
    assert "30 juni 2026" in term_page and "31 december 2027" in term_page
    assert "Optie 1 lichten" not in term_page  # a reader exercises nothing

    # The second option, decided on 1 May 2026 (today 1 August 2026): 4 + 1 + 1, no options
    # left; now the maximum end (31 Dec 2027) is within the horizon (1 Aug 2026 + 18 months
    # = 1 Feb 2028): the end-of-contract decision is due by 31 Dec 2027 - 9 months.
    later = date(2026, 8, 1)
    terms.exercise_option(people["manager"], contract, date(2026, 5, 1), today=later)
    db.session.commit()
    timeline = terms.timeline(contract)
    assert timeline.formula == "4 + 1 + 1" and timeline.remaining == 0
    assert (contract.end_on, contract.option_count) == (date(2027, 12, 31), 0)
    found = _deadlines(contract, later)
    assert found[(K.OPTION, date(2026, 6, 30))] == (DeadlineStatus.ACTED_ON, True)
    assert found[(K.DECISION, date(2027, 3, 31))] == (DeadlineStatus.OPEN, False)
    assert (K.OPTION, date(2027, 6, 30)) not in found  # no option left to decide on
    with pytest.raises(ValidationError):
        terms.exercise_option(people["manager"], contract, date(2026, 6, 1), today=later)


def test_an_option_is_refused_after_the_term_and_in_the_future(
    app: Flask, contract: Dossier, people: dict[str, User]
) -> None:
    client = app.test_client(user=people["manager"])
    app.config["REPORT_DATE"] = "2025-05-20"
    for day in ("2026-01-05", "2025-06-01"):  # after the end; after today
        response = client.post("/dossiers/TERM-1/term/option", data={"option-decided_on": day})
        assert response.status_code == 400
    assert "nog niet" not in response.text
    db.session.expire_all()
    assert contract.end_on == date(2025, 12, 31) and contract.option_count == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TermEvent)) == 0
    # Nothing at all for the reader and the owner.
    for who in ("reader", "owner"):
        response = app.test_client(user=people[who]).post(
            "/dossiers/TERM-1/term/option", data={"option-decided_on": "2025-05-01"}
        )
        assert response.status_code == 403


def test_editing_the_end_date_in_the_register_form_is_a_correction_in_the_history(
    app: Flask, contract: Dossier, admin: User
) -> None:
    dossiers.update_dossier(admin, contract, {"end_on": date(2026, 3, 31), "option_count": 1})
    db.session.commit()
    events = terms.events(contract)
    assert [e.kind for e in events] == [TermEventKind.ORIGINAL, TermEventKind.CORRECTION]
    original, correction = events
    assert (original.end_after, original.options_after) == (date(2025, 12, 31), 2)
    assert (correction.end_before, correction.end_after) == (date(2025, 12, 31), date(2026, 3, 31))
    assert (correction.options_before, correction.options_after) == (2, 1)
    assert correction.recorded_by_id == admin.id
    # A change elsewhere (the title) is no term event.
    dossiers.update_dossier(admin, contract, {"title": "Nieuwe titel"})
    db.session.commit()
    assert len(terms.events(contract)) == 2
    # A correction restates the term from its start: 4 years and 3 months, in months.
    timeline = terms.timeline(contract)
    assert (timeline.formula, timeline.in_years) == ("51", False)
    # The register form says so beside the end date; the term page shows the correction.
    form = _text(app.test_client(user=admin).get("/dossiers/TERM-1/edit"))
    assert "als correctie in de looptijdhistorie" in form
    page = _text(app.test_client(user=admin).get("/dossiers/TERM-1/term"))
    assert "Correctie van de contractgegevens" in page and "31 maart 2026" in page


def test_a_term_given_after_registration_is_known_in_whole_months(
    admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """Registered without dates (the API or a quick registration), then given its term: the
    first correction is the term, not "not known in whole months"."""
    later = make_dossier("TERM-9")
    dossiers.update_dossier(
        admin,
        later,
        {
            "start_on": date(2023, 1, 1),
            "end_on": date(2027, 6, 30),
            "option_count": 2,
            "option_months": 12,
        },
    )
    db.session.commit()
    assert [e.kind for e in terms.events(later)] == [TermEventKind.CORRECTION]
    assert (terms.timeline(later).formula, terms.timeline(later).remaining) == ("54", 2)


def test_renewal_extension_and_early_termination(
    app: Flask, make_dossier: Callable[..., Dossier], admin: User
) -> None:
    app.config["REPORT_DATE"] = "2026-01-15"
    tacit = make_dossier(
        "TERM-2", status=DossierStatus.ACTIVE, start_on=date(2024, 1, 1),
        end_on=date(2025, 12, 31), auto_renewal=True, option_months=12,
    )  # fmt: skip
    terms.record_event(admin, tacit, TermEventKind.RENEWAL, date(2026, 1, 1))
    assert tacit.end_on == date(2026, 12, 31)  # one renewal period of 12 months
    terms.record_event(
        admin, tacit, TermEventKind.EXTENSION, date(2026, 1, 10), new_end=date(2027, 6, 30)
    )
    assert terms.timeline(tacit).formula == "24 + 12 + 6"  # months: 6 is no whole year
    with pytest.raises(ValidationError) as error:
        terms.record_event(
            admin, tacit, TermEventKind.TERMINATION, date(2026, 1, 10), new_end=date(2028, 1, 1)
        )
    assert "new_end" in error.value.errors
    terms.record_event(
        admin, tacit, TermEventKind.TERMINATION, date(2026, 1, 10), new_end=date(2026, 1, 14)
    )
    db.session.commit()
    assert (tacit.end_on, tacit.status) == (date(2026, 1, 14), DossierStatus.TERMINATED)
    kinds = [e.kind for e in terms.events(tacit)]
    assert kinds == ["original", "renewal", "extension", "termination"]


def test_lead_times_per_dossier_fall_back_to_the_configuration(
    app: Flask, contract: Dossier, admin: User, people: dict[str, User]
) -> None:
    today = date(2025, 5, 20)
    contract.option_lead_months = None
    db.session.commit()
    # Configured: option 3 months before 31 Dec 2025 = 30 Sep 2025; tender 9 months before
    # 31 Dec 2027 = 31 March 2027.
    due = dict(deadlines.due_dates(contract, today))
    assert (due[K.OPTION], due[K.TENDER]) == (date(2025, 9, 30), date(2027, 3, 31))
    assert (
        app.test_client(user=people["manager"])
        .post("/dossiers/TERM-1/term/leads", data={"option_lead_months": "6"})
        .status_code
        == 403
    )  # lead times are contract data: the beheerder's
    response = app.test_client(user=admin).post(
        "/dossiers/TERM-1/term/leads",
        data={"option_lead_months": "6", "tender_lead_months": "18"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    # Own: 6 months before the end = 30 June 2025; 18 months before 31 Dec 2027 = 30 June 2026.
    due = dict(deadlines.due_dates(contract, today))
    assert (due[K.OPTION], due[K.TENDER]) == (date(2025, 6, 30), date(2026, 6, 30))
    bad = app.test_client(user=admin).post(
        "/dossiers/TERM-1/term/leads", data={"option_lead_months": "zes"}
    )
    assert bad.status_code == 400 and 'value="zes"' in bad.text  # kept, with its error


def test_the_end_decision_needs_four_eyes_and_a_retender_creates_the_successor(
    app: Flask, contract: Dossier, admin: User, people: dict[str, User],
    make_user: Callable[..., User],
) -> None:  # fmt: skip
    app.config["REPORT_DATE"] = "2026-08-01"
    today = date(2026, 8, 1)
    contract.end_on, contract.option_count = date(2027, 12, 31), 0
    db.session.commit()
    # Maximum end 31 Dec 2027 within the horizon: decision due 31 March 2027, needed.
    assert decisions.needs_decision(contract, today)
    assert reports.decisions_needed([contract], today) == [(contract, date(2027, 3, 31))]
    manager, owner = people["manager"], people["owner"]
    # The manager is also an owner through a group: still never approves their own proposal.
    board = groups.create_group(admin, "Directie", [manager])
    memberships.set_role(admin, contract, board, MemberRole.OWNER)
    db.session.commit()
    assert (
        app.test_client(user=people["reader"])
        .post(
            "/dossiers/TERM-1/decisions", data={"propose-kind": "retender", "propose-reasons": "x"}
        )
        .status_code
        == 403
    )
    empty = app.test_client(user=manager).post(
        "/dossiers/TERM-1/decisions", data={"propose-kind": "retender", "propose-reasons": "  "}
    )
    assert empty.status_code == 400
    response = app.test_client(user=manager).post(
        "/dossiers/TERM-1/decisions",
        data={
            "propose-kind": "retender",
            "propose-reasons": "Markt veranderd; opnieuw aanbesteden",
        },
    )
    assert response.status_code == 302
    decision = decisions.pending(contract)
    assert decision is not None and decision.proposed_by_id == manager.id
    access.forget_roles()
    assert MemberRole.OWNER in access.roles_in(manager, contract)
    assert not access.can_approve_decision(manager, decision)
    url = f"/dossiers/TERM-1/decisions/{decision.id}"
    assert app.test_client(user=manager).post(f"{url}/approve", data={}).status_code == 403
    with pytest.raises(ValidationError):
        decisions.approve(manager, decision)
    db.session.rollback()
    # Rejecting needs a reason; then a new proposal, approved by the owner.
    assert (
        app.test_client(user=owner).post(f"{url}/reject", data={"settle-note": ""}).status_code
        == 400
    )
    assert (
        app.test_client(user=owner)
        .post(f"{url}/reject", data={"settle-note": "Eerst marktverkenning"})
        .status_code
        == 302
    )
    db.session.expire_all()
    assert decision.status == EndDecisionStatus.REJECTED and decision.decided_by_id == owner.id
    assert decisions.needs_decision(contract, today)
    second = decisions.propose(manager, contract, EndDecisionKind.RETENDER, "Na verkenning")
    db.session.commit()
    response = app.test_client(user=owner).post(
        f"/dossiers/TERM-1/decisions/{second.id}/approve", data={"settle-note": "Akkoord"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert second.status == EndDecisionStatus.APPROVED
    assert not decisions.needs_decision(contract, today)
    found = _deadlines(contract, today)
    assert found[(K.DECISION, date(2027, 3, 31))] == (DeadlineStatus.ACTED_ON, False)
    # The successor: a draft, linked, valued at 100,000 a year × 6 years (1 Jan 2022 to the
    # maximum end 31 Dec 2027), with the same members.
    successor = second.successor
    assert successor is not None and successor.reference == "TERM-1-R1"
    assert successor.status == DossierStatus.DRAFT
    assert successor.value == Decimal("600000.00")
    assert "100.000,00" in successor.description and "6" in successor.description
    relation = db.session.scalars(sa.select(DossierRelation)).one()
    assert (relation.parent_id, relation.child_id, relation.kind) == (
        contract.id, successor.id, RelationKind.SUCCESSOR,
    )  # fmt: skip

    def roles(dossier: Dossier) -> set[tuple[str, MemberRole]]:
        return {
            ((m.user.email if m.user else m.group.name), m.role)
            for m in memberships.members_of(dossier)
        }

    assert roles(successor) == roles(contract)
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    for action in ("decision.propose", "decision.reject", "decision.approve", "relation.add"):
        assert action in actions
    page = _text(app.test_client(user=people["reader"]).get("/dossiers/TERM-1/term"))
    assert "TERM-1-R1" in page and "Goedgekeurd" in page and "Afgewezen" in page


def test_estimates_say_how(app: Flask, make_dossier: Callable[..., Dossier]) -> None:
    unknown_term = make_dossier("TERM-3", annual_value=Decimal("50000"))
    assert decisions.estimate(unknown_term)[0] == Decimal("200000.00")  # 4 × 50,000
    total_only = make_dossier("TERM-4", value=Decimal("75000"))
    assert decisions.estimate(total_only)[0] == Decimal("75000")
    assert decisions.estimate(make_dossier("TERM-5"))[0] is None


@pytest.fixture
def family(
    app: Flask, make_dossier: Callable[..., Dossier], make_user: Callable[..., User]
) -> dict[str, object]:
    """Framework TERM-F (maximum 100,000) with call-offs TERM-C1 (60,000) and TERM-C2 (50,000,
    title with a canary); TERM-F's SLA TERM-S. The reader sees TERM-F and TERM-C1 only; the
    framework's own manager does not see TERM-C2 either."""
    reader = make_user("lezer@example.org")
    fw_manager = make_user("fw@example.org")
    framework = make_dossier(
        "TERM-F", members={reader: MemberRole.READER, fw_manager: MemberRole.MANAGER},
        value=Decimal("0"), annual_value=Decimal("25000"),
    )  # fmt: skip
    c1 = make_dossier("TERM-C1", members={reader: MemberRole.READER}, value=Decimal("60000"))
    c2 = make_dossier("TERM-C2", title="Geheime afroep KANARIE", value=Decimal("50000"))
    sla = make_dossier("TERM-S", value=Decimal("1000"))
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
    relations.set_framework(admin, framework, True, Decimal("100000"))
    relations.add(admin, framework, "TERM-C1", "child:call_off")
    relations.add(admin, framework, "TERM-C2", "child:call_off")
    relations.add(admin, framework, "TERM-S", "child:sla")
    db.session.commit()
    return {"reader": reader, "fw_manager": fw_manager, "admin": admin,
            "framework": framework, "c1": c1, "c2": c2, "sla": sla}  # fmt: skip


def test_a_reader_sees_only_the_family_members_and_figures_they_may_see(
    app: Flask, family: dict[str, object]
) -> None:
    reader, framework = family["reader"], family["framework"]
    seen = relations.family(reader, framework)
    assert [r.dossier.reference for r in seen.relatives] == ["TERM-C1"]
    assert seen.ceiling is not None
    # Only TERM-C1's 60,000 counts for the reader: below the maximum, and nothing hidden said.
    assert (seen.ceiling.total, seen.ceiling.hidden, seen.ceiling.exceeded) == (
        Decimal("60000"), 0, False,
    )  # fmt: skip
    page = _text(app.test_client(user=reader).get("/dossiers/TERM-F"))
    assert "TERM-C1" in page and "KANARIE" not in page and "TERM-C2" not in page
    assert "TERM-S" not in page
    c1_page = _text(app.test_client(user=reader).get("/dossiers/TERM-C1"))
    assert "Raamovereenkomst: " in c1_page and "TERM-F" in c1_page
    # The family report groups what the reader sees: TERM-F with TERM-C1 (0 + 60,000).
    by_family = {
        row[0]: row[1:3] for row in reports.value_by_family(reports._dossiers(reader)).rows
    }
    assert by_family == {"TERM-F": [2, Decimal("60000.00")]}


def test_who_answers_for_the_framework_sees_the_whole_ceiling_without_titles(
    app: Flask, family: dict[str, object]
) -> None:
    fw_manager, admin = family["fw_manager"], family["admin"]
    seen = relations.family(fw_manager, family["framework"])
    assert seen.relatives == []  # a member of the framework only
    # 60,000 + 50,000 = 110,000 > 100,000: exceeded, both call-offs unseen by this manager.
    assert seen.ceiling is not None
    assert (seen.ceiling.total, seen.ceiling.hidden, seen.ceiling.exceeded) == (
        Decimal("110000"), 2, True,
    )  # fmt: skip
    page = _text(app.test_client(user=fw_manager).get("/dossiers/TERM-F"))
    assert "De maximale waarde is overschreden." in page and "KANARIE" not in page
    assert "2 nadere overeenkomsten die u niet kunt openen" in page
    admin_view = relations.family(admin, family["framework"])
    assert [r.dossier.reference for r in admin_view.relatives] == ["TERM-C1", "TERM-C2", "TERM-S"]
    assert admin_view.ceiling.total == Decimal("110000") and admin_view.ceiling.hidden == 0


def test_relations_refuse_hidden_and_doubled_dossiers(
    app: Flask, family: dict[str, object], make_user: Callable[..., User]
) -> None:
    other = make_user("ander@example.org", GlobalRole.BEHEERDER)
    mine = dossiers.create_dossier(other, {"reference": "TERM-X", "title": "Eigen"})
    db.session.commit()
    client = app.test_client(user=other)
    for target in ("TERM-C2", "TERM-NONE"):  # hidden and missing: the same answer
        response = client.post(
            "/dossiers/TERM-X/relations", data={"relation": "parent:call_off", "other": target}
        )
        assert response.status_code == 400
        assert f"Geen dossier met kenmerk {target}" in _text(response)
    admin = family["admin"]
    with pytest.raises(ValidationError):
        relations.add(admin, family["c1"], "TERM-F", "parent:call_off")  # related already
    with pytest.raises(ValidationError):
        relations.add(admin, mine, "TERM-X", "child:sla")  # itself
    assert mine.id


def test_terms_report_and_cli(
    app: Flask, contract: Dossier, people: dict[str, User], family: dict[str, object]
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli, ["report", "terms", "--as", "reader@example.org", "--date", "2025-05-20", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["reference"] for r in rows] == ["TERM-1"]  # the only one with an end date
    row = rows[0]
    assert (row["term"], row["options_left"], row["option_decision_on"]) == ("4", 2, "2025-06-30")
    assert (row["max_end_on"], row["tender_start"]) == ("2027-12-31", "2027-03-31")
    assert row["decision_needed"] is False
    page = app.test_client(user=people["reader"]).get("/reports/terms")
    assert page.status_code == 200 and "TERM-1" in page.text


def test_term_page_in_english(app: Flask, contract: Dossier, people: dict[str, User]) -> None:
    client = app.test_client(user=people["manager"])
    _english(client)
    page = _text(client.get("/dossiers/TERM-1/term"))
    assert "Exercise option 1" in page and "Term history" in page
    assert "Propose a decision" in page


def test_calendar_and_digest_carry_the_option_and_decision_deadlines(
    app: Flask, contract: Dossier, people: dict[str, User]
) -> None:
    from icalendar import Calendar

    from dossier import calendar_feed, digest

    # End 30 June 2027 with one option of 6 months: maximum end 30 Dec 2027 (30 June + 6
    # months). On 1 August 2026 the option is decided by 30 June 2027 - 6 months (the
    # dossier's lead) = 30 Dec 2026, and the end decision by 30 Dec 2027 - 9 months =
    # 30 March 2027 (241 days ahead: 30 + 30 + 31 + 30 + 31 + 31 + 28 + 30).
    contract.end_on, contract.option_count, contract.option_months = date(2027, 6, 30), 1, 6
    db.session.commit()
    today = date(2026, 8, 1)
    ics = calendar_feed.feed(people["reader"], today, lambda ref: f"https://x/{ref}")
    events = {
        (str(e["SUMMARY"]), e.decoded("DTSTART")) for e in Calendar.from_ical(ics).walk("VEVENT")
    }
    assert ("Besluit over optie: TERM-1 Contract TERM-1", date(2026, 12, 30)) in events
    assert ("Besluit einde contract nodig: TERM-1 Contract TERM-1", date(2027, 3, 30)) in events
    composed = digest.compose(people["manager"], today, days=241)
    assert [(d.kind, d.due_on) for d in composed.upcoming] == [
        (K.OPTION, date(2026, 12, 30)),
        (K.DECISION, date(2027, 3, 30)),
        (K.TENDER, date(2027, 3, 30)),  # the procurement starts then too (9 months' lead)
    ]
    assert digest.compose(people["manager"], today, days=240).upcoming[-1].kind == K.OPTION
