"""The amendment pages: proposing with Dutch amounts (also negative), the owner's decision,
refusals, and the current value beside the initial value on the pages that show a value."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier.extensions import db
from dossier.models import Amendment, Dossier, DossierStatus, MemberRole, User

D = Decimal
FORM = {
    "amended_on": "2026-02-01",
    "description": "Extra licenties",
    "reason": "Meer gebruikers",
    "legal_ground": "2.163b",
}


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "beheerder": make_user("beheerder@example.org", name="Bea Beheer"),
        "manager": make_user("manager@example.org"),
        "owner": make_user("owner@example.org", name="Olaf Owner"),
        "reader": make_user("reader@example.org"),
    }


@pytest.fixture
def contract(make_dossier: Callable[..., Dossier], people: dict[str, User]) -> Dossier:
    return make_dossier(
        "2026-301",
        {
            people["beheerder"]: MemberRole.BEHEERDER,
            people["manager"]: MemberRole.MANAGER,
            people["owner"]: MemberRole.OWNER,
            people["reader"]: MemberRole.READER,
        },
        value=D("200000"),
        status=DossierStatus.ACTIVE,
    )


def _amendments() -> list[Amendment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Amendment).order_by(Amendment.id)))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("12.500,00", D("12500.00")),
        ("2500", D("2500.00")),
        ("-2.500,00", D("-2500.00")),
        ("\u2212 1.250,50", D("-1250.50")),
        ("+300", D("300.00")),
    ],
)
def test_value_change_typed_the_dutch_way_with_a_sign(
    app: Flask, people: dict[str, User], contract: Dossier, typed: str, stored: Decimal
) -> None:
    client = app.test_client(user=people["manager"])
    response = client.post("/dossiers/2026-301/amendments", data={**FORM, "value_change": typed})
    assert response.status_code == 302
    (item,) = _amendments()
    assert item.value_change == stored and item.status == "proposed"


@pytest.mark.parametrize("typed", ["12,5,0", "--5", "- -5", "vijf", "1.2.3,4,5", ""])
def test_an_unclear_amount_is_refused_and_nothing_typed_is_lost(
    app: Flask, people: dict[str, User], contract: Dossier, typed: str
) -> None:
    client = app.test_client(user=people["beheerder"])
    response = client.post("/dossiers/2026-301/amendments", data={**FORM, "value_change": typed})
    assert response.status_code == 400
    assert "Extra licenties" in response.text and "Meer gebruikers" in response.text
    assert "field-error" in response.text
    assert _amendments() == []


def test_the_owner_approves_and_the_current_value_follows_everywhere(
    app: Flask, people: dict[str, User], contract: Dossier
) -> None:
    beheerder = app.test_client(user=people["beheerder"])
    beheerder.post("/dossiers/2026-301/amendments", data={**FORM, "value_change": "12.500,00"})
    (item,) = _amendments()
    decision = f"/dossiers/2026-301/amendments/{item.id}/decision"
    # The proposer does not approve their own amendment (four eyes); nor does a reader.
    assert beheerder.post(decision, data={"decision": "approve"}).status_code == 403
    reader = app.test_client(user=people["reader"])
    assert reader.post(decision, data={"decision": "approve"}).status_code == 403
    page = beheerder.get(f"/dossiers/2026-301/amendments/{item.id}").text
    assert "someone else" in page or "een ander" in page
    owner = app.test_client(user=people["owner"])
    assert "Goedkeuren of afwijzen" in owner.get(f"/dossiers/2026-301/amendments/{item.id}").text
    response = owner.post(decision, data={"decision": "approve", "decision_note": "Akkoord"})
    assert response.status_code == 302
    (item,) = _amendments()
    assert item.status == "approved" and item.decided_by_id == people["owner"].id
    assert owner.post(decision, data={"decision": "reject"}).status_code == 403  # decided
    shown = reader.get(f"/dossiers/2026-301/amendments/{item.id}").text
    assert "Goedgekeurd" in shown and "Olaf Owner" in shown and "Akkoord" in shown
    # 200,000 + 12,500 beside the initial value: dossier page, summary, register, export.
    for url in (
        "/dossiers/2026-301",
        "/dossiers/2026-301/summary",
        "/dossiers/2026-301/amendments",
    ):
        text = reader.get(url).text
        assert "200.000,00" in text and "212.500,00" in text, url
    register = reader.get("/").text
    row = re.search(r"2026-301</a></td>(.*?)</tr>", register, re.S)
    assert row is not None and "212.500,00" in row.group(1)
    export = reader.get("/register/export.csv").data.decode("utf-8-sig")
    assert "212500,00" in export


def test_a_reader_sees_the_register_but_cannot_propose(
    app: Flask, people: dict[str, User], contract: Dossier
) -> None:
    reader = app.test_client(user=people["reader"])
    page = reader.get("/dossiers/2026-301/amendments").text
    assert "Wijzigingen en meerwerk" in page and "Wijziging vastleggen" not in page
    response = reader.post("/dossiers/2026-301/amendments", data={**FORM, "value_change": "1"})
    assert response.status_code == 403
    assert _amendments() == []
