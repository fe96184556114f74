"""`dossier/web/reports.py`: the dashboard and the report pages: counts with
their plurals, charts each in their own section, empty reports, links to documents."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask import Flask

from dossier import documents
from dossier.extensions import db
from dossier.models import DocumentKind, Dossier, DossierStatus, ExtractionStatus, MemberRole, User
from tests.dossier.helpers import _section


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
    # Each chart twice, wide and narrow (a phone shows the narrow one), in its own section.
    assert text.count("<svg") == sum(s.count("<svg") for s in sections) == 10
    assert all(s.count("chart-wide") == s.count("chart-narrow") < 2 for s in sections)
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


def test_the_activity_report_links_documents_by_title_not_by_id(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2026-020")
    with documents.receive(io.BytesIO(b"Gescande brief\n"), "scan.txt") as upload:
        document = documents.file_document(
            admin, dossier, upload, kind=DocumentKind.OTHER, title="Gescande brief"
        )
    document.current_version.extraction_status = ExtractionStatus.NO_TEXT_LAYER
    db.session.commit()
    page = app.test_client(user=admin).get("/reports/activity").text
    section = _section(page, "h-extraction")
    link = f'<a href="/dossiers/2026-020/documents/{document.id}">Gescande brief</a>'
    assert link in section
    headings = re.findall(r"<th scope=\"col\"[^>]*>([^<]*)</th>", section)
    assert headings == ["Kenmerk", "Titel", "Bestand", "Tekst", "Toelichting"]
    assert f"<td>{document.id}</td>" not in section


def test_deadline_counts_say_that_they_are_cumulative(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = app.test_client(user=make_user())
    for url in ("/overview", "/reports/deadlines"):
        page = client.get(url).text
        note = "Geteld vanaf vandaag: elk aantal omvat de kortere perioden ervoor."
        assert note in page, url
        assert 'aria-describedby="window-note"' in page, url
