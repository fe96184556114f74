"""Findings of a new-user trial: role messages, plurals, safe defaults, empty reports, search and
password messages."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask

from dossier.models import DossierStatus, MemberRole, User
from tests.conftest import PASSWORD


def test_a_global_page_refused_for_a_missing_role_names_the_role(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., object]
) -> None:
    response = app.test_client(user=admin).get("/audit")  # an admin is not an auditor
    assert response.status_code == 403
    assert "auditeur" in response.text
    assert "U mag dit wel inzien" not in response.text
    reader = make_user("reader@example.org")
    assert app.test_client(user=reader).get("/admin/users").status_code == 403
    assert "beheerder" in app.test_client(user=reader).get("/admin/users").text
    # 404-versus-403 stays: a dossier the user cannot see is 404, a visible one 403.
    make_dossier("2025-001", {reader: MemberRole.READER})
    make_dossier("2025-002")
    client = app.test_client(user=reader)
    assert client.get("/dossiers/2025-002/audit").status_code == 404
    refused = client.get("/dossiers/2025-001/audit")
    assert refused.status_code == 403 and "auditeurs" in refused.text
    english = app.test_client(user=admin)
    english.post("/language", data={"lang": "en"})
    assert "auditor role" in english.get("/audit").text


def test_overview_counts_use_the_right_plural(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., object]
) -> None:
    from datetime import date

    app.config["REPORT_DATE"] = "2026-01-15"
    manager = make_user("manager@example.org")
    make_dossier(
        "2025-001",
        {manager: MemberRole.MANAGER},
        status=DossierStatus.ACTIVE,
        start_on=date(2025, 1, 1),
        end_on=date(2026, 1, 10),  # ended five days ago: the end itself is not missed,
        option_count=1,  # but the option decision three months before it (10 October) is
        option_months=12,
    )
    client = app.test_client(user=manager)
    page = client.get("/overview").text
    assert "1 termijn is gemist" in page and "1 zijn gemist" not in page
    client.post("/language", data={"lang": "en"})
    page = client.get("/overview").text
    assert "1 deadline was missed" in page and "1 were missed" not in page


def test_the_role_of_a_new_member_defaults_to_reader(
    app: Flask, admin: User, make_dossier: Callable[..., object]
) -> None:
    make_dossier("2025-001")
    page = app.test_client(user=admin).get("/dossiers/2025-001/members").text
    select = page[page.index('id="h-add"') :]
    select = select[select.index('name="role"') :]
    select = select[: select.index("</select>")]
    assert re.search(r'<option selected value="reader">|<option value="reader" selected>', select)
    assert select.count("selected") == 1


def test_completeness_lists_running_dossiers_only(
    app: Flask, admin: User, make_dossier: Callable[..., object]
) -> None:
    make_dossier("2025-001", status=DossierStatus.ACTIVE)
    make_dossier("2025-002", status=DossierStatus.DRAFT)
    make_dossier("2025-003", status=DossierStatus.ENDED)
    page = app.test_client(user=admin).get("/reports/completeness").text
    assert "2025-001" in page
    assert "2025-002" not in page and "2025-003" not in page


def test_empty_reports_show_no_chart_and_no_export_links(
    app: Flask, make_user: Callable[..., User]
) -> None:
    reader = make_user("reader@example.org")
    client = app.test_client(user=reader)
    for page in ("/reports/value", "/reports/completeness", "/reports/activity"):
        text = client.get(page).text
        assert "<svg" not in text, page
        assert "/reports/export/" not in text, page
        assert "Niets te melden" in text


def _sections(text: str) -> list[str]:
    return re.findall(
        r"<section aria-labelledby=\"h-[^\"]+\" class=\"report\">.*?</section>", text, re.S
    )


def test_each_chart_sits_in_its_own_section(
    app: Flask, admin: User, make_dossier: Callable[..., object]
) -> None:
    from datetime import date
    from decimal import Decimal

    from dossier.models import Category

    app.config["REPORT_DATE"] = "2026-01-15"
    make_dossier(
        "2025-001",
        status=DossierStatus.ACTIVE,
        supplier="Acme",
        category=Category.SERVICES,
        value=Decimal("1000"),
        annual_value=Decimal("500"),
        start_on=date(2025, 1, 1),
        end_on=date(2026, 6, 30),
    )
    client = app.test_client(user=admin)
    text = client.get("/reports/value").text
    sections = _sections(text)
    assert text.count("<svg") == sum(s.count("<svg") for s in sections) == 5
    charted = {re.search(r'id="(h-[^"]+)"', s).group(1) for s in sections if "<svg" in s}
    assert charted == {
        "h-top_suppliers",
        "h-value_category",
        "h-value_procedure",
        "h-value_year",
        "h-value_quarter",
    }
    for section in sections:  # the chart comes after its heading and its table's export links
        if "<svg" in section:
            assert section.index("<h2") < section.index("/reports/export/") < section.index("<svg")
    completeness = _sections(client.get("/reports/completeness").text)
    assert len(completeness) == 1 and "<svg" in completeness[0]


def test_password_change_reports_every_problem(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user("someone@example.org")
    response = app.test_client(user=user).post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "kort", "confirm": "anders"},
    )
    assert response.status_code == 400
    assert "12 tekens" in response.text
    assert "De wachtwoorden komen niet overeen." in response.text


def test_a_query_of_only_operators_gets_an_accurate_message(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = app.test_client(user=make_user("reader@example.org"))
    response = client.get("/search", query_string={"q": "AND OR NOT"})
    assert response.status_code == 400
    assert "haakjes" not in response.text
    assert "alleen operatoren" in response.text
    response = client.get("/search", query_string={"q": "huur OR koop"})
    assert "haakjes" not in response.text and "-woord" in response.text
