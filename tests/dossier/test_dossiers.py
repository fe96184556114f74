"""Dossier domain functions: validation of the register fields and the derived dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import dossiers, memberships
from dossier.errors import StaleEdit, ValidationError
from dossier.extensions import db
from dossier.models import AuditEvent, Dossier, MemberRole, Membership, NoticeUnit, Party, User


@pytest.mark.parametrize(
    ("end", "value", "unit", "expected"),
    [
        (date(2026, 12, 31), 3, NoticeUnit.MONTHS, date(2026, 9, 30)),
        (date(2026, 1, 31), 1, NoticeUnit.MONTHS, date(2025, 12, 31)),
        (date(2026, 3, 31), 1, NoticeUnit.MONTHS, date(2026, 2, 28)),
        (date(2028, 3, 31), 1, NoticeUnit.MONTHS, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 1), 30, NoticeUnit.DAYS, date(2026, 1, 30)),
        (date(2028, 3, 1), 1, NoticeUnit.DAYS, date(2028, 2, 29)),
    ],
)
def test_notice_deadline(end: date, value: int, unit: NoticeUnit, expected: date) -> None:
    dossier = Dossier(
        end_on=end, notice_value=value, notice_unit=unit, option_count=0, auto_renewal=True
    )
    assert dossiers.derived_dates(dossier).notice_deadline == expected


def test_maximum_end_date_adds_every_remaining_option() -> None:
    dossier = Dossier(end_on=date(2026, 8, 31), option_count=3, option_months=12)
    assert dossiers.derived_dates(dossier).max_end_on == date(2029, 8, 31)


def test_without_end_date_nothing_is_derived() -> None:
    dossier = Dossier(
        end_on=None, notice_value=3, notice_unit=NoticeUnit.MONTHS, option_count=1, option_months=12
    )
    assert dossiers.derived_dates(dossier) == dossiers.DerivedDates(None, None)


def _values(**overrides: Any) -> dict[str, Any]:
    return {"reference": "2025-100", "title": "Schoonmaak", **overrides}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reference": "bad ref!"}, "reference"),
        ({"reference": ""}, "reference"),
        ({"title": "   "}, "title"),
        ({"start_on": date(2026, 2, 1), "end_on": date(2026, 1, 1)}, "end_on"),
        ({"value": Decimal("-1")}, "value"),
        ({"annual_value": Decimal("-0.01")}, "annual_value"),
        ({"value": Decimal("NaN")}, "value"),
        ({"annual_value": Decimal("Infinity")}, "annual_value"),
        ({"value": Decimal("1000000000000.00")}, "value"),
        ({"notice_value": 3}, "notice_unit"),
        ({"notice_value": -1, "notice_unit": NoticeUnit.DAYS}, "notice_value"),
        ({"option_count": 2}, "option_months"),
        ({"cpv_code": "7200000-5"}, "cpv_code"),
        ({"supplier": "X", "supplier_kvk": "1234"}, "supplier_kvk"),
        ({"retention_years": 101}, "retention_years"),
        ({"tags": ["<script>"]}, "tags"),
    ],
)
def test_validation_names_the_broken_field(
    app: Any, admin: User, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        dossiers.create_dossier(admin, _values(**overrides))
    assert field in caught.value.errors


def test_reference_is_unique_ignoring_case(app: Any, admin: User, make_dossier: Callable) -> None:
    make_dossier("2025-ABC")
    with pytest.raises(ValidationError) as caught:
        dossiers.create_dossier(admin, _values(reference="2025-abc"))
    assert "already in use" in caught.value.errors["reference"]


def test_create_makes_creator_beheerder_and_named_people_members(
    app: Any, admin: User, make_user: Callable[..., User]
) -> None:
    manager = make_user("m@example.org")
    dossier = dossiers.create_dossier(
        admin,
        _values(
            manager="M@example.org",
            supplier="Acme B.V.",
            supplier_kvk="12345678",
            tags=["ICT", "ICT", " SaaS "],
        ),
    )
    db.session.commit()
    roles = dict(
        db.session.execute(
            sa.select(Membership.user_id, Membership.role).where(
                Membership.dossier_id == dossier.id
            )
        ).all()
    )
    assert roles == {admin.id: MemberRole.BEHEERDER, manager.id: MemberRole.MANAGER}
    assert dossier.tag_names == ["ICT", "SaaS"]
    assert db.session.scalar(sa.select(Party.kvk_number)) == "12345678"


def test_supplier_is_reused_case_insensitively(app: Any, make_dossier: Callable) -> None:
    make_dossier(supplier="Acme B.V.")
    make_dossier(supplier="ACME b.v.")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Party)) == 1


def test_update_records_before_and_after(app: Any, admin: User, make_dossier: Callable) -> None:
    dossier = make_dossier("2025-200", value=Decimal("1000.00"))
    changes = dossiers.update_dossier(admin, dossier, {"value": Decimal("2500.50"), "title": "X"})
    db.session.commit()
    assert changes["value"] == (Decimal("1000.00"), Decimal("2500.50"))
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.update")
    ).one()
    assert event.before["value"] == "1000.00" and event.after["value"] == "2500.50"


def test_update_without_change_records_nothing(
    app: Any, admin: User, make_dossier: Callable
) -> None:
    dossier = make_dossier("2025-201")
    assert dossiers.update_dossier(admin, dossier, {"title": dossier.title}) == {}
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.update")
    ).all()


def test_stale_form_is_refused(app: Any, admin: User, make_dossier: Callable) -> None:
    dossier = make_dossier("2025-202")
    stale = dossier.row_version
    dossiers.update_dossier(admin, dossier, {"title": "first"})
    db.session.commit()
    with pytest.raises(StaleEdit):
        dossiers.update_dossier(admin, dossier, {"title": "second"}, row_version=stale)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234.567,89", "1234567.89"),
        ("1,234,567.89", "1234567.89"),
        ("€ 450000", "450000"),
        ("12,5", "12.5"),
        ("2,50", "2.50"),
        ("2.500", "2500"),
        ("2,500.00", "2500.00"),
        ("2.500,00", "2500.00"),
        ("1,2345", "1.2345"),
    ],
)
def test_amounts_in_dutch_and_english_notation(text: str, expected: str) -> None:
    assert dossiers.coerce_decimal(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["2,500", "€ 12,000", "-1,000"])
def test_an_amount_that_reads_two_ways_is_asked_again(text: str) -> None:
    with pytest.raises(dossiers.AmbiguousAmount):
        dossiers.coerce_decimal(text)


def test_the_form_asks_which_amount_was_meant_and_keeps_what_was_typed(
    app: Any, admin: User
) -> None:
    from dossier.web.forms import AmountField, Form

    class _Amount(Form):
        amount = AmountField("amount")

    with app.test_request_context(method="POST", data={"amount": "2,500"}):
        form = _Amount(meta={"csrf": False})
        assert not form.validate()
        assert form.amount.data is None
        assert form.amount.errors == [
            "Onduidelijk: 2.500 of 2,50? Schrijf duizendtallen met een punt en centen met een komma"
        ]
        assert 'value="2,500"' in form.amount()


@pytest.mark.parametrize("text", ["NaN", "nan", "-Infinity", "sNaN"])
def test_what_decimal_parses_but_is_no_amount_is_refused(text: str) -> None:
    with pytest.raises(InvalidOperation):
        dossiers.coerce_decimal(text)


def test_a_form_opened_before_a_role_change_is_stale(
    admin: User, make_dossier: Callable[..., Dossier], make_user: Callable[..., User]
) -> None:
    dossier = make_dossier("2025-077")
    person = make_user("x@example.org")
    form_values, opened = dossiers.snapshot(dossier), dossier.row_version
    memberships.set_role(admin, dossier, person, MemberRole.MANAGER)  # on the members page
    db.session.commit()
    with pytest.raises(StaleEdit):  # saving the old form would demote the manager
        dossiers.update_dossier(admin, dossier, {**form_values, "title": "Nieuw"}, opened)
    db.session.rollback()
    assert memberships.membership_of(dossier, person).role == MemberRole.MANAGER


# A NUL cannot be stored (PostgreSQL refuses it): the domain refuses it with a message.


def test_the_domain_refuses_a_nul_in_any_register_text(app: Flask, admin: User) -> None:
    with pytest.raises(ValidationError) as caught:
        dossiers.create_dossier(
            admin, {"reference": "2025-072", "title": "Ti\x00tel", "supplier": "A\x00cme"}
        )
    assert set(caught.value.errors) == {"title", "supplier"}
    db.session.rollback()
    assert db.session.scalar(sa.select(Dossier)) is None
