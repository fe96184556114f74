"""`dossier/web/dossiers.py`: the dossier form shows every error in one round, each tied to its
field, and keeps what the user typed; its people fields are the dossier's memberships. The
dossier page lists the documents, filtered and sorted from the URL, and its own deadlines
without repeating the dossier."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import dossiers, memberships
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import Dossier, DossierStatus, GlobalRole, MemberRole, NoticeUnit, User
from tests.dossier.helpers import VNG, _section, _upload

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


# Who holds which role: the dossier's memberships, and nothing else.


def _roles_on_page(text: str) -> dict[str, str]:
    found = re.findall(r"<dt>(Contract\w+)</dt><dd>([^<]*)</dd>", text)
    return {term: html.unescape(value) for term, value in found}


def _edit(client: Any, dossier: Dossier, **people: list[str]) -> Any:
    data: dict[str, Any] = {
        "reference": dossier.reference,
        "title": dossier.title,
        "status": "active",
        "confidentiality": "normal",
        "row_version": str(dossier.row_version),
        **people,
    }
    return client.post(f"/dossiers/{dossier.reference}/edit", data=data)


def _role(dossier: Dossier, user: User) -> MemberRole | None:
    membership = memberships.membership_of(dossier, user)
    return membership.role if membership is not None else None


def test_a_manager_demoted_on_the_members_page_is_no_longer_named_manager(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    max_ = make_user("max@example.org", name="Max Manager")
    dossier = make_dossier("2025-070", manager=max_.email)
    client = app.test_client(user=admin)
    assert _roles_on_page(client.get("/dossiers/2025-070").text)["Contractmanager"] == (
        "Max Manager"
    )
    membership = memberships.membership_of(dossier, max_)
    assert membership is not None
    response = client.post(f"/dossiers/2025-070/members/{membership.id}", data={"role": "reader"})
    assert response.status_code == 302
    assert _roles_on_page(client.get("/dossiers/2025-070").text)["Contractmanager"] == "—"
    # The edit form shows the same truth: nobody is selected as manager.
    form = client.get("/dossiers/2025-070/edit").text
    manager_select = form[
        form.index('id="manager"') : form.index("</select>", form.index('id="manager"'))
    ]
    assert "selected" not in manager_select


def test_the_owner_cannot_silently_become_manager_too(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    eva = make_user("eva@example.org", name="Eva Eigenaar")
    dossier = make_dossier("2025-071", owner=eva.email)
    client = app.test_client(user=admin)
    response = _edit(
        client, dossier, owner=[eva.email], manager=[eva.email], beheerder=[admin.email]
    )
    assert response.status_code == 400
    errors = _errors(response.text)
    assert "eva@example.org" in errors["manager"] and "één rol per dossier" in errors["manager"]
    db.session.expire_all()
    assert _role(dossier, eva) == MemberRole.OWNER
    roles = _roles_on_page(client.get("/dossiers/2025-071").text)
    assert roles["Contracteigenaar"] == "Eva Eigenaar" and roles["Contractmanager"] == "—"


def test_the_form_edits_the_memberships_and_keeps_every_holder(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    max_ = make_user("max@example.org", name="Max Manager")
    mia = make_user("mia@example.org", name="Mia Manager")
    bo = make_user("bo@example.org", name="Bo Beheerder")
    dossier = make_dossier("2025-072", {mia: MemberRole.MANAGER}, manager=max_.email)
    client = app.test_client(user=admin)
    # Both managers are ticked in the form (checkboxes, the chosen first), so saving it
    # unchanged keeps both.
    form = client.get("/dossiers/2025-072/edit").text
    managers = form[form.index('id="manager"') : form.index('id="beheerder"')]
    ticked = re.findall(r'name="manager" value="([^"]+)" checked', managers)
    assert sorted(ticked) == ["max@example.org", "mia@example.org"], managers
    assert managers.index("mia@example.org") < managers.index("bo@example.org")
    assert _roles_on_page(client.get("/dossiers/2025-072").text)["Contractmanager"] == (
        "Max Manager, Mia Manager"
    )
    # A new beheerder: the old one stays on as a reader; Mia is no longer manager.
    response = _edit(client, dossier, manager=[max_.email], beheerder=[bo.email])
    assert response.status_code == 302, response.text
    db.session.expire_all()
    assert (_role(dossier, bo), _role(dossier, admin)) == (MemberRole.BEHEERDER, MemberRole.READER)
    assert (_role(dossier, max_), _role(dossier, mia)) == (MemberRole.MANAGER, MemberRole.READER)
    # Nobody as beheerder: refused with the rule's message, nothing changed.
    bo_client = app.test_client(user=bo)
    db.session.refresh(dossier)
    response = _edit(bo_client, dossier, manager=[max_.email])
    assert response.status_code == 400
    assert "minstens één contractbeheerder" in response.text, response.text
    db.session.expire_all()
    assert _role(dossier, bo) == MemberRole.BEHEERDER


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"end_on": date(9999, 12, 31), "option_count": 1, "option_months": 12}, "end_on"),
        ({"start_on": date(1, 1, 1)}, "start_on"),
        ({"signed_on": date(2200, 1, 1)}, "signed_on"),
        ({"option_count": 21, "option_months": 12}, "option_count"),
        ({"option_count": 1, "option_months": 121}, "option_months"),
    ],
)
def test_dates_and_options_that_no_derived_date_survives_are_refused(
    app: Flask, values: dict[str, object], field: str
) -> None:
    """An end date of 31-12-9999 with one option made every page that derives dates from it
    (register, dossier, overview, reports, exports) answer 500 for everyone who saw it."""
    with pytest.raises(ValidationError) as caught:
        dossiers.validate({"reference": "2025-001", "title": "Contract", **values})
    assert set(caught.value.errors) == {field}


def test_the_widest_accepted_term_still_derives_its_dates(
    app: Flask, make_dossier: Callable[..., Dossier], client_for: Callable[..., FlaskClient]
) -> None:
    dossier = make_dossier(
        start_on=date(1900, 1, 1),
        end_on=date(2199, 12, 31),
        option_count=20,
        option_months=120,
        auto_renewal=True,
        notice_value=3660,
        notice_unit=NoticeUnit.DAYS,
    )
    assert dossiers.derived_dates(dossier).max_end_on == date(2399, 12, 31)
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
    client = client_for(admin)
    for path in ("/", f"/dossiers/{dossier.reference}", "/overview", "/reports/deadlines"):
        assert client.get(path).status_code == 200, path


# The dossier page.


def test_a_dossiers_own_deadline_table_does_not_repeat_the_dossier(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    app.config["REPORT_DATE"] = "2026-01-15"
    manager = make_user("manager@example.org", GlobalRole.BEHEERDER)
    make_dossier(
        "2026-030",
        {manager: MemberRole.MANAGER},
        title="Catering hoofdkantoor",
        status=DossierStatus.ACTIVE,
        start_on=date(2025, 1, 1),
        end_on=date(2026, 6, 30),
    )
    client = app.test_client(user=manager)
    section = _section(client.get("/dossiers/2026-030").text, "h-deadlines")
    assert "/deadlines/2026-030/end/2026-06-30" in section  # the deadlines are there
    assert ">Dossier</th>" not in section
    assert "Catering hoofdkantoor" not in section


def test_dossier_document_list_filters_and_sorts_from_the_url(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    corpus: Path,
) -> None:
    reader = make_user("reader@example.org")
    dossier = make_dossier(members={reader: MemberRole.READER})
    client = app.test_client(user=admin)
    new = f"/dossiers/{dossier.reference}/documents/new"
    _upload(client, new, corpus / VNG / "Nieuwe planning.docx", kind="other", title="Planning")
    xlsx = corpus / VNG / "Bijlage 4 - Vragenformulier VNGR EA Vernieuwen Softwarecatalogus.xlsx"
    _upload(client, new, xlsx, kind="minutes", title="Aa")
    _upload(client, new, corpus / "eml" / "attachments_basic_email.eml", kind="correspondence")
    base = f"/dossiers/{dossier.reference}"
    assert client.get(base + "?kind=minutes").text.count("/versions/1/download") == 1
    by_title = client.get(base + "?sort=title").text
    assert by_title.index(">Aa<") < by_title.index(">Planning<")
    by_title_desc = client.get(base + "?sort=-title").text
    assert by_title_desc.index(">Planning<") < by_title_desc.index(">Aa<")
    filtered = client.get(base + "?q=plan").text
    assert ">Planning<" in filtered and ">Aa<" not in filtered
    assert "Geen enkel document voldoet" in client.get(base + "?q=%25_nothing").text
    assert client.get(base + "?sort=evil&kind=evil").status_code == 200
    assert (
        "Er zijn nog geen documenten"
        in app.test_client(user=reader)
        .get(f"/dossiers/{make_dossier(members={reader: MemberRole.READER}).reference}")
        .text
    )


def test_hints_and_errors_are_tied_to_their_fields(app: Flask, admin: User) -> None:
    client = app.test_client(user=admin)
    dossier = client.get("/dossiers/new")
    assert dossier.status_code == 200
    refused = client.post("/dossiers/new", data={"reference": "", "title": ""})
    assert refused.status_code == 400
    assert 'aria-describedby="reference-hint reference-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'id="reference-error"' in refused.text
