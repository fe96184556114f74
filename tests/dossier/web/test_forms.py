"""`dossier/web/forms.py`: every text field of every form loses control and bidi-override
characters and refuses a NUL with a clear message (PostgreSQL cannot store it); a password is
taken as typed; amounts are read and shown in Dutch notation."""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, StringField, TextAreaField

from dossier.extensions import db
from dossier.models import Dossier, User
from dossier.web import forms
from tests.dossier.helpers import DIRTY, LINE


def _form_classes() -> list[type[forms.Form]]:
    found = [
        cls
        for _name, cls in inspect.getmembers(forms, inspect.isclass)
        if issubclass(cls, forms.FlaskForm) and cls.__module__ == forms.__name__
    ]
    assert len(found) > 15  # the walk finds the forms
    return [cls for cls in found if cls.__name__ != "Form"]  # the base has no fields


def _text_fields(form: forms.Form) -> list[StringField]:
    return [
        f
        for f in form
        if isinstance(f, StringField) and not isinstance(f, PasswordField | forms.AmountField)
    ]


@pytest.mark.parametrize("form_class", _form_classes(), ids=lambda c: c.__name__)
def test_every_text_field_of_every_form_is_cleaned(app: Flask, form_class: type) -> None:
    assert issubclass(form_class, forms.Form)
    with app.test_request_context(method="POST"):
        names = [f.name for f in _text_fields(form_class(formdata=None))]
        form = form_class(formdata=MultiDict({n: f"  {DIRTY}\r\nregel\x0b2 " for n in names}))
        for field in _text_fields(form):
            if isinstance(field, TextAreaField):
                assert field.data == "  Acme\nB.V.\n\nregel\n2", field.name  # \v, NEL: lines
            else:
                assert field.data == f"{LINE} regel 2", field.name
        for field in form:
            if isinstance(field, PasswordField):  # a password is taken exactly as typed
                assert field.data is None


@pytest.mark.parametrize("form_class", _form_classes(), ids=lambda c: c.__name__)
def test_a_nul_in_any_text_field_is_refused_with_a_message(app: Flask, form_class: type) -> None:
    assert issubclass(form_class, forms.Form)
    with app.test_request_context(method="POST"):
        names = [f.name for f in _text_fields(form_class(formdata=None))]
        form = form_class(formdata=MultiDict({n: "Ti\x00tel" for n in names}))
        form.validate()
        for field in _text_fields(form):
            assert "NUL" in " ".join(str(e) for e in field.errors), field.name
            assert field.data == "Ti\x00tel"  # kept as typed, next to its error


def test_a_password_keeps_its_characters(app: Flask) -> None:
    with app.test_request_context(method="POST"):
        form = forms.LoginForm(formdata=MultiDict({"email": " a@b.nl\x0b", "password": " p\x0bw "}))
        assert (form.email.data, form.password.data) == ("a@b.nl", " p\x0bw ")


def test_the_dossier_form_stores_clean_text(app: Flask, admin: User) -> None:
    client = app.test_client(user=admin)
    response = client.post(
        "/dossiers/new",
        data={
            "reference": "2025-070",
            "title": "Schoon\u202emaak\x0bkantoren",
            "description": "Regel een\r\nRegel\x0b twee\t(tab)\n",
            "supplier": DIRTY,
            "status": "active",
            "confidentiality": "normal",
        },
    )
    assert response.status_code == 302, response.text
    dossier = db.session.scalar(sa.select(Dossier))
    assert dossier is not None and dossier.supplier is not None
    assert dossier.title == "Schoonmaak kantoren"
    assert dossier.description == "Regel een\nRegel\n twee\t(tab)"
    assert dossier.supplier.name == LINE


def test_the_dossier_form_refuses_a_nul_and_keeps_the_rest(app: Flask, admin: User) -> None:
    response = app.test_client(user=admin).post(
        "/dossiers/new",
        data={
            "reference": "2025-071",
            "title": "Schoon\x00maak",
            "supplier": "Acme",
            "status": "active",
            "confidentiality": "normal",
        },
    )
    assert response.status_code == 400
    errors = dict(
        re.findall(r'<small class="field-error" id="([\w-]+)-error">([^<]*)</small>', response.text)
    )
    assert html.unescape(errors["title"]).startswith("Deze tekst bevat een NUL-teken")
    assert 'value="Acme"' in response.text  # what else was typed is not lost
    assert db.session.scalar(sa.select(Dossier)) is None


def test_amounts_in_dutch_notation_round_trip_through_the_form(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-080")
    client = app.test_client(user=admin)
    response = client.post(
        "/dossiers/2025-080/edit",
        data={
            "reference": "2025-080",
            "title": "Schoonmaak",
            "status": "active",
            "confidentiality": "normal",
            "value": "1.250.000,50",
            "annual_value": "250.000",
            "beheerder": admin.email,
            "row_version": str(dossier.row_version),
        },
    )
    assert response.status_code == 302, response.text
    db.session.refresh(dossier)
    assert str(dossier.value) == "1250000.50" and str(dossier.annual_value) == "250000.00"
    form = client.get("/dossiers/2025-080/edit").text
    assert 'value="1.250.000,50"' in form
    bad = client.post(
        "/dossiers/2025-080/edit",
        data={
            "reference": "2025-080",
            "title": "Schoonmaak",
            "status": "active",
            "confidentiality": "normal",
            "value": "veel",
            "row_version": str(dossier.row_version),
        },
    )
    assert bad.status_code == 400 and "Geen bedrag" in bad.text
    for typed, message in (("NaN", "Geen bedrag"), ("99999999999999999999999", "hoogstens")):
        refused = client.post(
            "/dossiers/2025-080/edit",
            data={
                "reference": "2025-080",
                "title": "Schoonmaak",
                "status": "active",
                "confidentiality": "normal",
                "annual_value": typed,
                "beheerder": admin.email,
                "row_version": str(dossier.row_version),
            },
        )
        assert refused.status_code == 400 and message in refused.text, typed
    db.session.refresh(dossier)
    assert str(dossier.annual_value) == "250000.00"
