"""`dossier/contacts.py`: the supplier's contacts and their mandates, each change audited, and
our own side read from the memberships (several people per role, one truth)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import contacts, dossiers
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Contact,
    Dossier,
    Mandate,
    MandateKind,
    MemberRole,
    Membership,
    User,
)
from tests.dossier.helpers import _events


def test_several_people_hold_one_role_and_the_memberships_are_the_one_record(
    app: Flask, beheerder: User, make_user: Callable[..., User]
) -> None:
    anna = make_user("anna@example.org", name="Anna Eigenaar")
    bert = make_user("bert@example.org", name="Bert Eigenaar")
    cor = make_user("cor@example.org", name="Cor Manager")
    dina = make_user("dina@example.org", name="Dina Manager")
    made = dossiers.create_dossier(
        beheerder,
        {
            "reference": "2026-050",
            "title": "Werkplekbeheer",
            "owner": "anna@example.org, bert@example.org",
            "manager": ["cor@example.org", "dina@example.org"],
        },
    )
    db.session.commit()
    ours = contacts.both_sides(made).ours
    assert ours[MemberRole.OWNER] == ["Anna Eigenaar", "Bert Eigenaar"]
    assert ours[MemberRole.MANAGER] == ["Cor Manager", "Dina Manager"]
    assert dossiers.snapshot(made)["owner"] == ["anna@example.org", "bert@example.org"]
    rows = db.session.scalars(
        sa.select(Membership).where(
            Membership.dossier_id == made.id, Membership.role == MemberRole.OWNER
        )
    ).all()
    assert {m.user_id for m in rows} == {anna.id, bert.id}
    # Dropping one owner in the register fields changes the memberships, not a second copy.
    dossiers.update_dossier(beheerder, made, {"owner": ["bert@example.org"]})
    db.session.commit()
    assert contacts.both_sides(made).ours[MemberRole.OWNER] == ["Bert Eigenaar"]
    assert {u.email for u in dossiers.people(made, MemberRole.READER)} == {anna.email}
    assert cor.id and dina.id


def test_contacts_and_mandates_are_added_changed_and_removed_each_audited(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    jan = contacts.add_contact(
        beheerder,
        dossier,
        {
            "name": " Jan\x0bde Vries ",
            "role": "account_manager",
            "function": "Accountmanager overheid",
            "email": "Jan@Leverancier.NL",
            "phone": "+31 (0)30-123 45 67",
        },
    )
    contacts.add_contact(beheerder, dossier, {"name": "Els Bakker", "role": "contract_contact"})
    mandate = contacts.add_mandate(
        beheerder, jan, MandateKind.SIGN_AMENDMENTS, Decimal("25000.00"), "artikel 4.2"
    )
    contacts.add_mandate(beheerder, jan, "accept_deliveries")
    db.session.commit()
    assert jan.name == "Jan de Vries" and jan.email == "jan@leverancier.nl"
    assert [c.name for c in contacts.contacts_of(dossier)] == ["Jan de Vries", "Els Bakker"]
    assert [m.kind for m in jan.mandates] == ["sign_amendments", "accept_deliveries"]
    created = _events(AuditAction.CONTACT_CREATE)
    assert created[0].after["email"] == "jan@leverancier.nl"
    assert created[0].dossier_id == dossier.id
    assert _events(AuditAction.MANDATE_ADD)[0].after["limit_amount"] == "25000.00"

    assert contacts.update_contact(beheerder, jan, {"name": "Jan de Vries", "phone": "0301234567"})
    assert not contacts.update_contact(
        beheerder, jan, {"name": "Jan de Vries", "phone": "0301234567"}
    )
    db.session.commit()
    (change,) = _events(AuditAction.CONTACT_UPDATE)
    # Only what changed is recorded; fields not given keep their values.
    assert change.after == {"phone": "0301234567"}
    assert jan.role == "account_manager" and jan.email == "jan@leverancier.nl"

    contacts.remove_mandate(beheerder, mandate)
    db.session.commit()
    assert _events(AuditAction.MANDATE_REMOVE)[0].before["kind"] == "sign_amendments"
    contacts.remove_contact(beheerder, jan)
    db.session.commit()
    (removed,) = _events(AuditAction.CONTACT_DELETE)
    assert removed.before["name"] == "Jan de Vries"
    assert [m["kind"] for m in removed.before["mandates"]] == ["accept_deliveries"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Mandate)) == 0
    assert [c.name for c in contacts.contacts_of(dossier)] == ["Els Bakker"]


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "Jan", "email": "geen adres"}, "email"),
        ({"name": "Jan", "phone": "bel me <script>"}, "phone"),
        ({"name": "Jan", "role": "boss"}, "role"),
        ({"name": "Jan\x00"}, "name"),
    ],
)
def test_bad_contact_input_is_refused_with_the_field_named(
    app: Flask, beheerder: User, dossier: Dossier, values: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        contacts.add_contact(beheerder, dossier, values)
    assert field in caught.value.errors
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 0


@pytest.mark.any_database
def test_bad_mandates_are_refused(app: Flask, beheerder: User, dossier: Dossier) -> None:
    jan = contacts.add_contact(beheerder, dossier, {"name": "Jan"})
    for kind, amount in (("fly", None), ("other", Decimal("-1")), ("other", Decimal("NaN"))):
        with pytest.raises(ValidationError):
            contacts.add_mandate(beheerder, jan, kind, amount)
    assert jan.mandates == []
