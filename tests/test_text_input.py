"""Text is cleaned where it comes in: every form's text fields, the register import and the
names the CLI takes lose control and bidi-override characters; a NUL is refused with a clear
message (PostgreSQL cannot store it). Text downloads name their charset once."""

from __future__ import annotations

import csv
import html
import inspect
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, StringField, TextAreaField

from dossier import documents, dossiers
from dossier.cli import cli
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import DocumentKind, Dossier, Group, User
from dossier.web import forms
from tests.conftest import PASSWORD

DIRTY = "Acme\x0bB.V.\u202e\x85"
LINE = "Acme B.V."


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


def test_the_domain_refuses_a_nul_in_any_register_text(app: Flask, admin: User) -> None:
    with pytest.raises(ValidationError) as caught:
        dossiers.create_dossier(
            admin, {"reference": "2025-072", "title": "Ti\x00tel", "supplier": "A\x00cme"}
        )
    assert set(caught.value.errors) == {"title", "supplier"}
    db.session.rollback()
    assert db.session.scalar(sa.select(Dossier)) is None


def _import(app: Flask, path: Path) -> dict[str, list]:
    result = app.test_cli_runner().invoke(cli, ["register", "import", str(path), "--json"])
    return json.loads(result.stdout)


def test_the_register_import_cleans_text_and_refuses_a_nul(
    app: Flask, admin: User, tmp_path: Path
) -> None:
    path = tmp_path / "register.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Kenmerk", "Titel", "Omschrijving", "Leverancier", "Labels"])
        writer.writerow(["2025-080", "Schoon\x0bmaak", "een\r\ntwee\x0b", DIRTY, "IC\u202eT, x"])
        writer.writerow(["2025-081", "Ti\x00tel", "", "Acme", ""])
    report = _import(app, path)
    assert report["created"] == ["2025-080"]
    assert report["errors"] == [
        [3, "Titel: holds a NUL character; save the file again as UTF-8 text"]
    ]
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == "2025-080"))
    assert dossier is not None and dossier.supplier is not None
    assert (dossier.title, dossier.description) == ("Schoon maak", "een\ntwee")
    assert dossier.supplier.name == LINE
    assert dossier.tag_names == ["ICT", "x"]
    assert db.session.scalar(sa.select(Dossier).where(Dossier.reference == "2025-081")) is None


def test_names_given_to_the_cli_are_cleaned(app: Flask, admin: User) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli,
        ["create-user", "ada@example.org", "--name", "Ada\x0bLovelace\u202e", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["create-group", "\u202eInkoop\x0bteam "])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "ada@example.org"))
    assert user is not None and user.name == "Ada Lovelace"
    assert db.session.scalars(sa.select(Group.name)).all() == ["Inkoop team"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"Geachte heer,\n", "text/plain; charset=utf-8"),
        ("Caf\u00e9 au lait\n".encode("cp1252"), "text/plain; charset=windows-1252"),
    ],
)
def test_a_text_download_names_its_charset_once(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    content: bytes,
    content_type: str,
) -> None:
    dossier = make_dossier("2025-090")
    with documents.receive(io.BytesIO(content), "brief.txt") as upload:
        document = documents.file_document(admin, dossier, upload, kind=DocumentKind.OTHER)
    db.session.commit()
    response = app.test_client(user=admin).get(
        f"/dossiers/2025-090/documents/{document.id}/versions/1/download"
    )
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert body == content
