"""The amendment register (dossier/amendments.py): proposing, the owner's approval with four
eyes, the audit trail, and the current value = initial value + approved amendments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import amendments, reports
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import AuditEvent, Dossier, DossierStatus, MemberRole, User

D = Decimal


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "beheerder": make_user("beheerder@example.org"),
        "owner": make_user("owner@example.org"),
        "reader": make_user("reader@example.org"),
    }


@pytest.fixture
def contract(make_dossier: Callable[..., Dossier], people: dict[str, User]) -> Dossier:
    return make_dossier(
        "2026-201",
        {
            people["beheerder"]: MemberRole.BEHEERDER,
            people["owner"]: MemberRole.OWNER,
            people["reader"]: MemberRole.READER,
        },
        value=D("200000"),
        supplier="Acme",
        status=DossierStatus.ACTIVE,
    )


def _values(**extra: object) -> dict[str, object]:
    return {
        "amended_on": date(2026, 2, 1),
        "description": "Extra licenties",
        "value_change": D("12500"),
        "reason": "Meer gebruikers",
        "legal_ground": "2.163b",
        **extra,
    }


def test_only_approved_amendments_count_in_the_current_value(
    app: Flask, people: dict[str, User], contract: Dossier
) -> None:
    plus = amendments.propose(people["beheerder"], contract, _values())
    minus = amendments.propose(
        people["beheerder"], contract, _values(value_change=D("-2500.00"), legal_ground="2.163g")
    )
    dropped = amendments.propose(people["beheerder"], contract, _values(value_change=D("99999")))
    db.session.commit()
    assert amendments.current_value(contract) == D("200000.00")  # nothing approved yet
    amendments.decide(people["owner"], plus, approve=True)
    amendments.decide(people["owner"], minus, approve=True, note="Akkoord")
    amendments.decide(people["owner"], dropped, approve=False, note="Niet nodig")
    db.session.commit()
    # 200,000 + 12,500 - 2,500 = 210,000; the rejected 99,999 does not count.
    assert amendments.current_value(contract) == D("210000.00")
    assert amendments.current_values([contract]) == {contract.id: D("210000.00")}
    supplier = reports.value_report(people["owner"], date(2026, 3, 1))[0]
    assert supplier.rows == [["Acme", 1, D("200000.00"), D("210000.00"), None]]


def test_four_eyes_the_proposer_cannot_approve_and_a_decision_is_final(
    app: Flask, people: dict[str, User], contract: Dossier
) -> None:
    db.session.execute(sa.delete(AuditEvent))  # only this test's events below
    item = amendments.propose(people["owner"], contract, _values())
    with pytest.raises(ValidationError) as refused:
        amendments.decide(people["owner"], item, approve=True)
    assert "status" in refused.value.errors
    item2 = amendments.propose(people["beheerder"], contract, _values())
    amendments.decide(people["owner"], item2, approve=True)
    with pytest.raises(ValidationError):
        amendments.decide(people["owner"], item2, approve=False)
    db.session.commit()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == [
        "amendment.propose",
        "amendment.propose",
        "amendment.decide",
    ]
    assert events[0].after["value_change"] == "12500.00"
    assert events[2].before == {"status": "proposed"}
    assert events[2].after["status"] == "approved"


def test_bad_values_are_refused_with_a_reason_each(
    app: Flask, people: dict[str, User], contract: Dossier, make_dossier: Callable[..., Dossier]
) -> None:
    other = make_dossier("2026-202")
    from dossier.models import DocumentKind
    from tests.dossier.test_reports import _file

    foreign = _file(people["beheerder"], other, "Brief", DocumentKind.CORRESPONDENCE)
    with pytest.raises(ValidationError) as refused:
        amendments.propose(
            people["beheerder"],
            contract,
            _values(
                description="  ",
                legal_ground="other",
                reason="",
                value_change=None,
                document_ids=[foreign.id],
            ),
        )
    assert set(refused.value.errors) == {"description", "reason", "value_change", "document_ids"}
    with pytest.raises(ValidationError) as refused:
        amendments.propose(people["beheerder"], contract, _values(legal_ground="2.999"))
    assert set(refused.value.errors) == {"legal_ground"}


def test_linked_documents_are_documents_of_the_dossier(
    app: Flask, people: dict[str, User], contract: Dossier
) -> None:
    from dossier.models import DocumentKind
    from tests.dossier.test_reports import _file

    letter = _file(people["beheerder"], contract, "Wijzigingsbrief", DocumentKind.AMENDMENT)
    item = amendments.propose(people["beheerder"], contract, _values(document_ids=[letter.id]))
    db.session.commit()
    assert [d.title for d in item.documents] == ["Wijzigingsbrief"]
    assert amendments.snapshot(item)["document_ids"] == [letter.id]
