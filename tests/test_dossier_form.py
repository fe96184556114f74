"""The dossier form shows every error in one round and keeps what the user typed."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

from dossier.extensions import db
from dossier.models import Dossier, User

BAD = {
    "reference": "2025-060",
    "title": "Schoonmaak",
    "status": "active",
    "confidentiality": "normal",
    "start_on": "2025-06-01",
    "end_on": "2025-01-31",  # before the start: a rule between fields
    "supplier": "Schoon B.V.",
    "supplier_kvk": "123",  # not 8 digits
    "cpv_code": "9091",  # not a CPV code
    "notice_value": "3",  # no unit
    "value": "twaalf miljoen",  # a field error of its own
    "retention_years": "veel",  # another field error
}


def _errors(text: str) -> dict[str, str]:
    """Field id -> its error text, from the rendered form."""
    found = re.findall(r'<small class="field-error" id="([\w-]+)-error">([^<]*)</small>', text)
    return {field: html.unescape(message) for field, message in found}


def _check_all_errors_at_once(text: str) -> None:
    errors = _errors(text)
    assert set(errors) >= {
        "end_on",
        "supplier_kvk",
        "cpv_code",
        "notice_unit",
        "value",
        "retention_years",
    }, errors
    assert errors["end_on"] == "De einddatum ligt vóór de ingangsdatum"
    assert errors["supplier_kvk"].startswith("Een KvK-nummer")
    for message in errors.values():
        assert message[:1].isupper(), message
    # What was typed stays in the amount field next to its error.
    assert re.search(r'<input[^>]*id="value"[^>]*value="twaalf miljoen"', text) or re.search(
        r'<input[^>]*value="twaalf miljoen"[^>]*id="value"', text
    ), text


def test_new_dossier_shows_field_and_rule_errors_together(app: Flask, admin: User) -> None:
    response = app.test_client(user=admin).post("/dossiers/new", data=BAD)
    assert response.status_code == 400
    _check_all_errors_at_once(response.text)
    assert db.session.scalar(sa.select(Dossier)) is None


def test_edit_dossier_shows_field_and_rule_errors_together(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-060")
    client = app.test_client(user=admin)
    response = client.post(
        f"/dossiers/{dossier.reference}/edit",
        data=BAD | {"row_version": str(dossier.row_version)},
    )
    assert response.status_code == 400
    _check_all_errors_at_once(response.text)
    db.session.refresh(dossier)
    assert dossier.end_on is None
