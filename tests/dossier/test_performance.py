"""`dossier/performance.py` and its pages: KPIs with a red/amber/green status against their norm,
measurements per period with their report and penalty, the supplier scorecard over what a user
may see, the exports and `dossier report kpis|scorecard`."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import load_workbook

from dossier import documents, performance
from dossier.charts import trend_chart
from dossier.cli import cli
from dossier.errors import ValidationError
from dossier.extensions import db
from dossier.models import (
    Confidentiality,
    DocumentKind,
    Dossier,
    GlobalRole,
    Kpi,
    KpiDirection,
    KpiMeasurement,
    KpiPeriod,
    MemberRole,
    RagStatus,
    User,
)
from tests.dossier.helpers import _events

# The status against the norm


def _kpi(direction: str, norm: str, tolerance: str = "0") -> Kpi:
    return Kpi(
        name="k",
        norm=Decimal(norm),
        direction=KpiDirection(direction),
        period=KpiPeriod.MONTH,
        tolerance=Decimal(tolerance),
    )


@pytest.mark.parametrize(
    ("direction", "norm", "tolerance", "value", "status"),
    [
        ("higher", "99.5", "0.5", "99.5", RagStatus.GREEN),  # exactly on the norm: met
        ("higher", "99.5", "0.5", "99.9", RagStatus.GREEN),
        ("higher", "99.5", "0.5", "99.0", RagStatus.AMBER),  # exactly at the tolerance
        ("higher", "99.5", "0.5", "98.99", RagStatus.RED),
        ("higher", "99.5", "0", "99.49", RagStatus.RED),  # no tolerance: no amber
        ("lower", "4", "1", "4", RagStatus.GREEN),  # exactly on the norm: met
        ("lower", "4", "1", "2", RagStatus.GREEN),
        ("lower", "4", "1", "5", RagStatus.AMBER),
        ("lower", "4", "1", "5.01", RagStatus.RED),
        ("lower", "0", "0", "0", RagStatus.GREEN),
        ("higher", "-2", "1", "-3", RagStatus.AMBER),  # negative norms work the same
    ],
)
def test_status_against_the_norm(
    direction: str, norm: str, tolerance: str, value: str, status: RagStatus
) -> None:
    assert performance.rag_status(_kpi(direction, norm, tolerance), Decimal(value)) == status


def test_no_measurement_is_no_status() -> None:
    kpi = _kpi("higher", "99")
    assert performance.rag_status(kpi, None) == RagStatus.NONE
    assert performance.kpi_status(kpi) == RagStatus.NONE


@pytest.mark.parametrize(
    ("period", "text", "start"),
    [
        (KpiPeriod.MONTH, "2026-03", "2026-03-01"),
        (KpiPeriod.MONTH, " 2026-3 ", "2026-03-01"),
        (KpiPeriod.QUARTER, "2026-Q2", "2026-04-01"),
        (KpiPeriod.QUARTER, "2026-k4", "2026-10-01"),
        (KpiPeriod.YEAR, "2026", "2026-01-01"),
    ],
)
def test_periods_as_people_write_them(period: KpiPeriod, text: str, start: str) -> None:
    found = performance.parse_period(period, text)
    assert found.isoformat() == start
    assert performance.parse_period(period, performance.period_label(period, found)) == found


@pytest.mark.parametrize(
    ("period", "text"),
    [
        (KpiPeriod.MONTH, "2026-13"),
        (KpiPeriod.MONTH, "maart"),
        (KpiPeriod.QUARTER, "2026-Q5"),
        (KpiPeriod.YEAR, "26"),
        (KpiPeriod.YEAR, "99999"),
        (KpiPeriod.MONTH, ""),
    ],
)
def test_bad_periods_are_refused(period: KpiPeriod, text: str) -> None:
    with pytest.raises(ValueError):
        performance.parse_period(period, text)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("99,5", "99.5"),
        ("99.5", "99.5"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("-3", "-3"),
    ],
)
def test_numbers_with_either_decimal_mark(text: str, number: str) -> None:
    assert performance.parse_number(text) == Decimal(number)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e5", "abc", "", "1" * 20])
def test_what_is_no_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        performance.parse_number(text)


# Recording, auditing, penalties


@pytest.fixture
def world(
    app: Flask, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, Any]:
    people = {
        "bea": make_user("bea@example.org", GlobalRole.BEHEERDER),
        "manager": make_user("manager@example.org"),
        "reader": make_user("reader@example.org"),
        "outsider": make_user("outsider@example.org"),
        "portfolio": make_user("portfolio@example.org", GlobalRole.PORTFOLIO),
    }
    mine = make_dossier(
        "2025-017",
        {
            people["bea"]: MemberRole.BEHEERDER,
            people["manager"]: MemberRole.MANAGER,
            people["reader"]: MemberRole.READER,
        },
        supplier="Conduction B.V.",
    )
    other = make_dossier("2025-018", supplier="Conduction B.V.")
    kpi = performance.create_kpi(
        people["bea"],
        mine,
        {
            "name": "Beschikbaarheid",
            "norm": Decimal("99.5"),
            "unit": "%",
            "direction": "higher",
            "period": "month",
            "tolerance": Decimal("0.5"),
        },
    )
    report = _file(people["bea"], mine, "rapportage-januari.txt", "Beschikbaarheid 99,1%")
    secret = _file(
        people["bea"],
        mine,
        "rapportage-geheim.txt",
        "Boete",
        confidentiality=Confidentiality.CONFIDENTIAL,
        title="Rapport geheimzinnig",
    )
    db.session.commit()
    return {**people, "mine": mine, "other": other, "kpi": kpi, "report": report, "secret": secret}


def _file(actor: User, dossier: Dossier, name: str, text: str, **options: Any) -> int:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.REPORT, **options
        )
    return document.id


def _measure(actor: User, kpi: Kpi, period: str, value: str, **values: Any) -> KpiMeasurement:
    measurement = performance.record_measurement(
        actor, kpi, {"period": period, "value": Decimal(value), **values}
    )
    db.session.commit()
    return measurement


def test_measurements_are_audited_and_corrected_per_period(world: dict[str, Any]) -> None:
    kpi, bea = world["kpi"], world["bea"]
    _measure(bea, kpi, "2026-01", "99.1", document_id=world["report"])
    assert performance.kpi_status(kpi) == RagStatus.AMBER
    _measure(bea, kpi, "2026-02", "97", penalty_amount=Decimal("2500.00"))
    assert performance.kpi_status(kpi) == RagStatus.RED
    _measure(world["manager"], kpi, "2026-01", "99.6", document_id=world["report"])
    rows = db.session.scalars(sa.select(KpiMeasurement).where(KpiMeasurement.kpi_id == kpi.id))
    assert [(m.period_start.month, m.value) for m in rows] == [
        (1, Decimal("99.6")),
        (2, Decimal("97")),
    ]
    events = _events("kpi.measure")
    assert len(events) == 3
    assert events[-1].before["value"] == "99.1" and events[-1].after["value"] == "99.6"
    assert events[-1].after["status"] == "green"
    assert events[-1].dossier_id == world["mine"].id
    assert len(_events("kpi.create")) == 1


def test_penalties_add_up(world: dict[str, Any]) -> None:
    kpi, bea = world["kpi"], world["bea"]
    _measure(bea, kpi, "2026-01", "98", penalty_amount=Decimal("1250.50"))
    _measure(bea, kpi, "2026-02", "99.9")
    _measure(bea, kpi, "2026-03", "97", penalty_amount=Decimal("0.75"))
    assert performance.penalty_total(kpi.measurements) == Decimal("1251.25")
    assert performance.penalty_total([]) == Decimal("0.00")
    (score,) = performance.scorecard(bea)
    assert score.penalties == Decimal("1251.25") and score.red == 1


def test_bad_measurements_are_refused_with_a_reason(world: dict[str, Any]) -> None:
    kpi, bea = world["kpi"], world["bea"]
    foreign = _file(bea, world["other"], "ander.txt", "x")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        performance.record_measurement(
            bea,
            kpi,
            {
                "period": "2026-Q1",  # a monthly KPI
                "value": Decimal("99"),
                "document_id": foreign,
                "penalty_amount": Decimal("-1"),
            },
        )
    assert set(refused.value.errors) == {"period", "document_id", "penalty_amount"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KpiMeasurement)) == 0


def test_a_kpi_name_is_unique_in_its_dossier(world: dict[str, Any]) -> None:
    values = {"name": "Beschikbaarheid", "norm": Decimal(1), "direction": "lower"}
    with pytest.raises(ValidationError) as refused:
        performance.create_kpi(world["bea"], world["mine"], {**values, "period": "year"})
    assert "name" in refused.value.errors
    db.session.rollback()
    performance.create_kpi(world["bea"], world["other"], {**values, "period": "year"})


def test_the_scorecard_counts_only_what_the_user_may_see(world: dict[str, Any]) -> None:
    bea = world["bea"]
    _measure(bea, world["kpi"], "2026-01", "99.9")
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
    hidden = performance.create_kpi(
        admin,
        world["other"],
        {"name": "Reactietijd", "norm": Decimal(4), "direction": "lower", "period": "quarter"},
    )
    performance.record_measurement(
        admin, hidden, {"period": "2026-Q1", "value": Decimal(9), "penalty_amount": Decimal(100)}
    )
    db.session.commit()
    (reader_score,) = performance.scorecard(world["reader"])
    assert (reader_score.kpis, reader_score.green, reader_score.red) == (1, 1, 0)
    assert reader_score.dossiers == {"2025-017"} and reader_score.penalties == 0
    assert performance.scorecard(world["outsider"]) == []
    (portfolio_score,) = performance.scorecard(world["portfolio"])
    assert portfolio_score.dossiers == {"2025-017", "2025-018"}
    assert (portfolio_score.kpis, portfolio_score.green, portfolio_score.red) == (2, 1, 1)
    assert portfolio_score.penalties == Decimal("100.00")


# Pages


def test_pages_show_status_trend_and_penalties(app: Flask, world: dict[str, Any]) -> None:
    _measure(world["bea"], world["kpi"], "2026-01", "99.1", document_id=world["report"])
    _measure(world["bea"], world["kpi"], "2026-02", "97", penalty_amount=Decimal("2500"))
    client = app.test_client(user=world["reader"])
    page = client.get("/dossiers/2025-017/performance")
    assert page.status_code == 200
    assert "Beschikbaarheid" in page.text and "badge-rag-red" in page.text
    assert "2.500,00" in page.text
    assert "Prestaties" in client.get("/dossiers/2025-017").text
    kpi_page = client.get(f"/dossiers/2025-017/performance/{world['kpi'].id}")
    assert kpi_page.status_code == 200
    assert "<svg" in kpi_page.text and "chart-point chart-amber" in kpi_page.text
    assert "chart-point chart-red" in kpi_page.text and "chart-norm" in kpi_page.text
    assert "norm 99,5 %" in kpi_page.text
    # A phone gets a narrower twin of the chart, so its labels keep their size.
    assert 'class="chart trend chart-narrow"' in kpi_page.text
    assert 'viewBox="0 0 360 220"' in kpi_page.text
    assert "rapportage-januari" in kpi_page.text
    assert 'action="/dossiers/2025-017/performance' not in kpi_page.text  # a reader records nothing
    scorecard = client.get("/performance")
    assert scorecard.status_code == 200 and "Conduction B.V." in scorecard.text


def test_recording_through_the_form(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client(user=world["manager"])
    url = f"/dossiers/2025-017/performance/{world['kpi'].id}/measurements"
    bad = client.post(url, data={"period": "januari", "value": "99,x", "penalty_amount": "veel"})
    assert bad.status_code == 400
    assert "2026-03" in bad.text and "januari" in bad.text and "99,x" in bad.text
    good = client.post(
        url,
        data={
            "period": "2026-01",
            "value": "99,2",
            "document_id": str(world["report"]),
            "penalty_amount": "1.250,00",
            "penalty_note": "art. 12.3",
        },
    )
    assert good.status_code == 302
    (measurement,) = world["kpi"].measurements
    assert measurement.value == Decimal("99.2") and measurement.penalty_amount == Decimal("1250")
    assert measurement.document_id == world["report"]
    # The manager may record, not agree KPIs; a portfolio user or reader neither.
    create = {"name": "Nieuw", "norm": "1", "direction": "lower", "period": "year"}
    assert client.post("/dossiers/2025-017/performance", data=create).status_code == 403
    for who in ("portfolio", "reader"):
        other = app.test_client(user=world[who])
        assert other.post(url, data={"period": "2026-02", "value": "1"}).status_code == 403
        assert other.post("/dossiers/2025-017/performance", data=create).status_code == 403
    assert len(world["kpi"].measurements) == 1
    outsider = app.test_client(user=world["outsider"])
    assert outsider.get("/dossiers/2025-017/performance").status_code == 404
    assert outsider.post(url, data={"period": "2026-02", "value": "1"}).status_code == 404


def test_defining_a_kpi_through_the_form(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client(user=world["bea"])
    bad = client.post(
        "/dossiers/2025-017/performance",
        data={"name": "Reactietijd <b>", "norm": "vier", "direction": "lower", "period": "month"},
    )
    assert bad.status_code == 400 and "Reactietijd &lt;b&gt;" in bad.text
    made = client.post(
        "/dossiers/2025-017/performance",
        data={
            "name": "Reactietijd <b>",
            "norm": "4",
            "unit": "uur",
            "direction": "lower",
            "period": "quarter",
            "tolerance": "1,5",
        },
    )
    assert made.status_code == 302
    kpi = db.session.scalar(sa.select(Kpi).where(Kpi.name == "Reactietijd <b>"))
    assert (kpi.norm, kpi.tolerance, kpi.period) == (Decimal(4), Decimal("1.5"), KpiPeriod.QUARTER)
    changed = client.post(
        f"/dossiers/2025-017/performance/{kpi.id}",
        data={"name": "Reactietijd", "norm": "8", "unit": "uur", "direction": "lower"},
    )
    assert changed.status_code == 302
    db.session.refresh(kpi)
    assert kpi.norm == Decimal(8) and kpi.tolerance == 0
    # Nothing measured yet: no "€ 0,00 penalties" as if it had been measured and met.
    kpi_page = client.get(f"/dossiers/2025-017/performance/{kpi.id}").text
    assert "nog niets gemeten" in kpi_page and "€ 0,00" not in kpi_page
    (event,) = _events("kpi.update")
    assert event.before == {"norm": "4", "tolerance": "1.5", "name": "Reactietijd <b>"}
    assert event.after == {"norm": "8", "tolerance": "0", "name": "Reactietijd"}


def test_trend_chart_escapes_and_keeps_the_latest_periods() -> None:
    columns = [(f"2026-{i:02d}<", float(i), f"{i} %", "green") for i in range(1, 41)]
    svg = str(trend_chart("<script>", columns, 5.0, "norm 5 %"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<circle") == 36 and "2026-40&lt;" in svg and "2026-04&lt;" not in svg


# Exports and the CLI


def _xlsx(data: bytes, tmp_path: Any) -> list[tuple[Any, ...]]:
    path = tmp_path / "export.xlsx"
    path.write_bytes(data)
    workbook = load_workbook(path, read_only=True)
    rows = [tuple(row) for sheet in workbook for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def test_exports_name_a_confidential_report_only_to_those_who_read_it(
    app: Flask, world: dict[str, Any], tmp_path: Any
) -> None:
    _measure(world["bea"], world["kpi"], "2026-01", "98", document_id=world["secret"])
    _measure(world["bea"], world["kpi"], "2026-02", "99.9", document_id=world["report"])
    for who, sees in (("bea", True), ("reader", False), ("portfolio", False)):
        client = app.test_client(user=world[who])
        csv = client.get("/dossiers/2025-017/performance/export.csv")
        assert csv.status_code == 200 and csv.headers["Cache-Control"] == "no-store"
        text = csv.data.decode("utf-8-sig")
        assert ("geheimzinnig" in text) is sees, who
        assert "rapportage-januari" in text and "Beschikbaarheid" in text
        page = client.get(f"/dossiers/2025-017/performance/{world['kpi'].id}").text
        assert ("geheimzinnig" in page) is sees, who
    xlsx = app.test_client(user=world["reader"]).get("/dossiers/2025-017/performance/export.xlsx")
    rows = _xlsx(xlsx.data, tmp_path)
    assert rows[0][:2] == ("Kenmerk", "KPI") and len(rows) == 3
    assert rows[1][4:7] == ("2026-01", 98, "Rood (norm niet gehaald)")


def test_report_exports_of_kpis_and_scorecard(
    app: Flask, world: dict[str, Any], tmp_path: Any
) -> None:
    _measure(world["bea"], world["kpi"], "2026-01", "99", penalty_amount=Decimal("10"))
    client = app.test_client(user=world["reader"])
    kpis = client.get("/reports/export/kpis.csv").data.decode("utf-8-sig")
    assert "2025-017;" in kpis and "Oranje" in kpis and "10,00" in kpis
    rows = _xlsx(client.get("/reports/export/scorecard.xlsx").data, tmp_path)
    assert rows[1][0] == "Conduction B.V." and rows[1][2:4] == (1, 0)
    assert (
        app.test_client(user=world["outsider"])
        .get("/reports/export/kpis.csv")
        .data.decode("utf-8-sig")
        .count("\n")
        == 1
    )  # the header only


def test_cli_report_kpis_as_json(app: Flask, world: dict[str, Any]) -> None:
    _measure(world["bea"], world["kpi"], "2026-01", "98.5", penalty_amount=Decimal("99.95"))
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["report", "kpis", "--as", "portfolio@example.org", "--json"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)
    assert record["reference"] == "2025-017" and record["rag_status"] == "red"
    assert record["last_period"] == "2026-01" and record["penalties"] == "99.95"
    assert record["rag_status_label"] == "Red (norm not met)"
    dutch = runner.invoke(
        cli, ["report", "kpis", "--as", "reader@example.org", "--json", "--lang", "nl"]
    )
    (labelled,) = json.loads(dutch.output)
    assert labelled["rag_status_label"] == "Rood (norm niet gehaald)"
    assert labelled["kpi_direction_label"] == "Hoger is beter"
    scores = runner.invoke(cli, ["report", "scorecard", "--as", "reader@example.org", "--json"])
    assert scores.exit_code == 0, scores.output
    (score,) = json.loads(scores.output)
    assert score["supplier"] == "Conduction B.V." and score["red"] == 1
    nothing = runner.invoke(cli, ["report", "kpis", "--as", "outsider@example.org", "--json"])
    assert json.loads(nothing.output) == []


def test_the_audit_trail_names_kpi_events_and_english_is_available(
    app: Flask, world: dict[str, Any]
) -> None:
    _measure(world["bea"], world["kpi"], "2026-01", "99.1", penalty_amount=Decimal("10"))
    client = app.test_client(user=world["bea"])
    trail = client.get("/dossiers/2025-017/audit")
    assert trail.status_code == 200
    assert "KPI-meting vastgelegd" in trail.text and "KPI afgesproken" in trail.text
    # Named and labelled as the pages name them: no internal field names, the measured value
    # is no amount of money, the penalty is.
    text = " ".join(re.sub(r"<[^>]+>", " ", trail.text).split())
    assert "KPI: Beschikbaarheid" in text and "kpi " not in text
    assert "Boete of malus (euro)" in text and "€ 10,00" in text and "penalty_amount" not in text
    assert "€ 99,10" not in text and "99.1" in text
    assert "Periode" in text and "Oranje" in text
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    page = client.get("/dossiers/2025-017/performance").text
    assert "Service levels and KPIs" in page and "Amber (within tolerance)" in page
    assert "Record a period" in client.get(f"/dossiers/2025-017/performance/{world['kpi'].id}").text


def test_numbers_too_large_for_their_column_are_refused(app: Flask, world: dict[str, Any]) -> None:
    client = app.test_client(user=world["bea"])
    url = f"/dossiers/2025-017/performance/{world['kpi'].id}/measurements"
    huge = client.post(url, data={"period": "2026-01", "value": "1", "penalty_amount": "9" * 15})
    assert huge.status_code == 400 and "Dit bedrag is te groot" in huge.text
    assert client.post(url, data={"period": "2026-01", "value": "9" * 12}).status_code == 400
    assert world["kpi"].measurements == []
