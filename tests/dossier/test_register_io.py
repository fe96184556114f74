"""`dossier register import/export`: the contract register as CSV and XLSX, through the CLI."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from dossier import dossiers, memberships
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Category,
    Confidentiality,
    Dossier,
    DossierStatus,
    GlobalRole,
    MemberRole,
    Membership,
    NoticeUnit,
    Party,
    Procedure,
    User,
)

DUTCH_HEADER = [
    "Kenmerk",
    "Titel",
    "Omschrijving",
    "Leverancier",
    "KvK-nummer",
    "Afdeling",
    "Contracteigenaar",
    "Contractmanager",
    "Contractbeheerder",
    "Status",
    "Ondertekend",
    "Ingangsdatum",
    "Einddatum",
    "Opties",
    "Optieduur",
    "Opzegtermijn",
    "Eenheid opzegtermijn",
    "Stilzwijgende verlenging",
    "Contractwaarde",
    "Jaarwaarde",
    "Procedure",
    "Aanbestedingskenmerk",
    "CPV",
    "Categorie",
    "Vertrouwelijkheid",
    "Bewaartermijn",
    "Labels",
]
FORMULAS = ['=HYPERLINK("http://x")', "+cmd", "-1+1", "@SUM(1)"]


@pytest.fixture
def people(app: Flask, admin: User, make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "admin": admin,
        "owner": make_user("eigenaar@example.org", name="Eva Eigenaar"),
        "manager": make_user("manager@example.org", name="Mo Manager"),
        "beheerder": make_user("beheerder@example.org", GlobalRole.BEHEERDER, "Bo Beheerder"),
    }


@pytest.fixture
def invoke(app: Flask) -> Callable[..., Result]:
    runner = app.test_cli_runner()

    def run(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


def _row(**values: Any) -> list[Any]:
    """A full Dutch register row; keyword arguments override by Dutch header."""
    row: dict[str, Any] = {
        "Kenmerk": "2025-001",
        "Titel": "Vernieuwen Softwarecatalogus",
        "Omschrijving": "Bouw en beheer van de Softwarecatalogus",
        "Leverancier": "Acme Software B.V.",
        "KvK-nummer": "12345678",
        "Afdeling": "Informatievoorziening",
        "Contracteigenaar": "eigenaar@example.org",
        "Contractmanager": "manager@example.org",
        "Contractbeheerder": "beheerder@example.org",
        "Status": "actief",
        "Ondertekend": "15-01-2025",
        "Ingangsdatum": "2025-02-01",
        "Einddatum": "31-01-2029",
        "Opties": "2",
        "Optieduur": "12",
        "Opzegtermijn": "3",
        "Eenheid opzegtermijn": "maanden",
        "Stilzwijgende verlenging": "ja",
        "Contractwaarde": "1.234.567,89",
        "Jaarwaarde": "308.641,97",
        "Procedure": "eu_open",
        "Aanbestedingskenmerk": "VNG-2025-01",
        "CPV": "72000000-5",
        "Categorie": "services",
        "Vertrouwelijkheid": "vertrouwelijk",
        "Bewaartermijn": "7",
        "Labels": "ICT, SaaS",
    }
    unknown = set(values) - set(row)
    assert not unknown, unknown
    row.update(values)
    return [row[h] for h in DUTCH_HEADER]


def _second_row() -> list[Any]:
    return _row(
        Kenmerk="2025-002",
        Titel="Schoonmaak kantoren",
        Omschrijving="",
        Leverancier="Schoon & Co",
        **{"KvK-nummer": ""},
        Afdeling="Facilitair",
        Contracteigenaar="",
        Contractmanager="",
        Contractbeheerder="",
        Status="concept",
        Ondertekend="",
        Ingangsdatum="01-01-2025",
        Einddatum="2025-12-31",
        Opties="",
        Optieduur="",
        Opzegtermijn="30",
        **{"Eenheid opzegtermijn": "dagen", "Stilzwijgende verlenging": "nee"},
        Contractwaarde="€ 50.000",
        Jaarwaarde="50000",
        Procedure="",
        Aanbestedingskenmerk="",
        CPV="",
        Categorie="",
        Vertrouwelijkheid="normaal",
        Bewaartermijn="",
        Labels="",
    )


def _write_csv(
    path: Path,
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = DUTCH_HEADER,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _write_xlsx(
    path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = DUTCH_HEADER
) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def _dossier(reference: str) -> Dossier:
    db.session.expire_all()
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == reference))
    assert dossier is not None, reference
    return dossier


def _import(invoke: Callable[..., Result], path: Path, *extra: str) -> dict[str, Any]:
    result = invoke("register", "import", str(path), "--json", *extra)
    report = json.loads(result.stdout)
    assert result.exit_code == (2 if report["errors"] else 0), result.output
    return report


def _assert_first_row(dossier: Dossier, people: dict[str, User]) -> None:
    assert dossier.title == "Vernieuwen Softwarecatalogus"
    assert dossier.description == "Bouw en beheer van de Softwarecatalogus"
    assert dossier.supplier is not None
    assert (dossier.supplier.name, dossier.supplier.kvk_number) == (
        "Acme Software B.V.",
        "12345678",
    )
    assert dossier.client_department == "Informatievoorziening"
    assert dossiers.people(dossier, MemberRole.OWNER) == [people["owner"]]
    assert dossiers.people(dossier, MemberRole.MANAGER) == [people["manager"]]
    assert dossiers.people(dossier, MemberRole.BEHEERDER) == [people["beheerder"]]
    assert dossier.status == DossierStatus.ACTIVE
    assert dossier.signed_on == date(2025, 1, 15)
    assert dossier.start_on == date(2025, 2, 1)
    assert dossier.end_on == date(2029, 1, 31)
    assert (dossier.option_count, dossier.option_months) == (2, 12)
    assert (dossier.notice_value, dossier.notice_unit) == (3, NoticeUnit.MONTHS)
    assert dossier.auto_renewal is True
    assert dossier.value == Decimal("1234567.89")
    assert dossier.annual_value == Decimal("308641.97")
    assert dossier.procedure == Procedure.EU_OPEN
    assert dossier.tender_reference == "VNG-2025-01"
    assert dossier.cpv_code == "72000000-5"
    assert dossier.category == Category.SERVICES
    assert dossier.confidentiality == Confidentiality.CONFIDENTIAL
    assert dossier.retention_years == 7
    assert dossier.tag_names == ["ICT", "SaaS"]
    derived = dossiers.derived_dates(dossier)
    assert derived.notice_deadline == date(2028, 10, 31)
    assert derived.max_end_on == date(2031, 1, 31)
    roles = dict(
        db.session.execute(
            sa.select(Membership.user_id, Membership.role).where(
                Membership.dossier_id == dossier.id
            )
        ).all()
    )
    assert roles[people["owner"].id] == MemberRole.OWNER
    assert roles[people["manager"].id] == MemberRole.MANAGER
    assert roles[people["beheerder"].id] == MemberRole.BEHEERDER


def _assert_second_row(dossier: Dossier, people: dict[str, User]) -> None:
    assert dossier.title == "Schoonmaak kantoren"
    assert dossier.supplier is not None and dossier.supplier.name == "Schoon & Co"
    assert dossier.supplier.kvk_number is None
    assert dossier.status == DossierStatus.DRAFT
    assert dossier.signed_on is None
    assert (dossier.start_on, dossier.end_on) == (date(2025, 1, 1), date(2025, 12, 31))
    assert (dossier.option_count, dossier.option_months) == (0, None)
    assert (dossier.notice_value, dossier.notice_unit) == (30, NoticeUnit.DAYS)
    assert dossier.auto_renewal is False
    assert dossier.value == Decimal("50000.00")
    assert dossier.annual_value == Decimal("50000.00")
    assert dossier.procedure is None and dossier.category is None
    assert dossier.confidentiality == Confidentiality.NORMAL
    assert dossiers.people(dossier, MemberRole.OWNER) == []
    assert dossiers.people(dossier, MemberRole.MANAGER) == []
    # Without a named beheerder, the importing user becomes the beheerder.
    assert dossiers.people(dossier, MemberRole.BEHEERDER) == [people["admin"]]


def test_csv_import_creates_dossiers_with_every_field(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "register.csv", [_row(), _second_row()])
    report = _import(invoke, path)
    assert report == {
        "created": ["2025-001", "2025-002"],
        "updated": [],
        "unchanged": [],
        "errors": [],
    }
    _assert_first_row(_dossier("2025-001"), people)
    _assert_second_row(_dossier("2025-002"), people)
    creations = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "dossier.create")
    )
    assert creations == 2


def test_semicolon_csv_from_dutch_excel_in_windows_1252(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    rows = [_row(Leverancier="Coöperatie Zorg U.A."), _second_row()]
    path = _write_csv(tmp_path / "register.csv", rows, delimiter=";", encoding="cp1252")
    report = _import(invoke, path)
    assert report["created"] == ["2025-001", "2025-002"]
    dossier = _dossier("2025-001")
    assert dossier.supplier is not None and dossier.supplier.name == "Coöperatie Zorg U.A."
    assert dossier.value == Decimal("1234567.89")


def test_xlsx_import_with_typed_cells(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    typed = _row(
        Ondertekend=datetime(2025, 1, 15),
        Ingangsdatum=date(2025, 2, 1),
        Einddatum="31-01-2029",
        Opties=2,
        Optieduur=12.0,
        Opzegtermijn=3,
        **{"Stilzwijgende verlenging": True},
        Contractwaarde=1234567.89,
        Jaarwaarde="308.641,97",
        Bewaartermijn=7,
    )
    path = _write_xlsx(tmp_path / "register.xlsx", [typed, _second_row()])
    report = _import(invoke, path)
    assert report["created"] == ["2025-001", "2025-002"]
    _assert_first_row(_dossier("2025-001"), people)
    _assert_second_row(_dossier("2025-002"), people)


def test_english_field_names_are_read_too(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    header = ["reference", "Title", "supplier", "Start On", "end_on", "value", "status", "x"]
    rows = [["2025-010", "Printers", "HP", "2025-01-01", "2026-01-01", "1,234.50", "active", "?"]]
    report = _import(invoke, _write_csv(tmp_path / "r.csv", rows, header))
    assert report["created"] == ["2025-010"]
    dossier = _dossier("2025-010")
    assert dossier.value == Decimal("1234.50")
    assert dossier.status == DossierStatus.ACTIVE


def test_second_import_updates_changed_rows(
    people: dict[str, User],
    make_user: Callable[..., User],
    invoke: Callable[..., Result],
    tmp_path: Path,
) -> None:
    _import(invoke, _write_csv(tmp_path / "v1.csv", [_row(), _second_row()]))
    successor = make_user("opvolger@example.org")
    changed = _row(
        Einddatum="31-01-2030",
        Contractwaarde="1.500.000,00",
        Status="opgezegd",
        Labels="ICT",
        Contractmanager="opvolger@example.org",
    )
    report = _import(invoke, _write_csv(tmp_path / "v2.csv", [changed, _second_row()]))
    assert report == {
        "created": [],
        "updated": ["2025-001"],
        "unchanged": ["2025-002"],
        "errors": [],
    }
    dossier = _dossier("2025-001")
    assert dossier.end_on == date(2030, 1, 31)
    assert dossier.value == Decimal("1500000.00")
    assert dossier.status == DossierStatus.TERMINATED
    assert dossier.tag_names == ["ICT"]
    # The register's manager is a view of the memberships: the successor holds the role, the
    # former manager stays on as a reader.
    assert dossiers.people(dossier, MemberRole.MANAGER) == [successor]
    former = memberships.membership_of(dossier, people["manager"])
    assert former is not None and former.role == MemberRole.READER
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "dossier.update", AuditEvent.object_id == dossier.id)
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None and event.after is not None and event.before is not None
    assert event.after["end_on"] == "2030-01-31" and event.before["end_on"] == "2029-01-31"
    assert set(event.after) == {"end_on", "value", "status", "tags", "manager"}


def test_text_output_and_exit_status(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    path = _write_csv(tmp_path / "r.csv", [_row(), _row(Kenmerk="2025-002", Status="onbekend")])
    result = invoke("register", "import", str(path))
    assert result.exit_code == 2
    assert "1 created, 0 updated, 0 unchanged, 1 rows with errors" in result.stdout
    assert "row 3: Status: 'onbekend' is not one of:" in result.stdout


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_rows_with_errors_are_reported_and_leave_nothing(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path, suffix: str
) -> None:
    ghost = {"Leverancier": "Spookleverancier B.V.", "Labels": "spook"}
    rows = [
        _row(),  # row 2
        _row(Kenmerk="2025-003", Ingangsdatum="2025-06-01", Einddatum="01-01-2025", **ghost),
        _row(Kenmerk="2025-004", Contractwaarde="-1.000,00", **ghost),
        _second_row(),  # row 5
        _row(Kenmerk="2025-005", CPV="7200000", **ghost),
        _row(Kenmerk="2025-006", Status="lopend-ish", **ghost),
        _row(Kenmerk="2025-007", Contractbeheerder="niemand@example.org", **ghost),
        _row(Kenmerk="2025-008", Einddatum="31-02-2029", **ghost),
        _row(Kenmerk="2025-009", Opties="twee", **ghost),
        _row(Kenmerk="", **ghost),
        _row(Kenmerk="2025-010", Contractwaarde="NaN", **ghost),
        _row(Kenmerk="2025-011", Jaarwaarde="1.000.000.000.000,00", **ghost),
    ]
    write = _write_csv if suffix == ".csv" else _write_xlsx
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    report = _import(invoke, write(tmp_path / f"register{suffix}", rows))
    assert report["created"] == ["2025-001", "2025-002"]
    errors = {number: message for number, message in report["errors"]}
    assert sorted(errors) == [3, 4, 6, 7, 8, 9, 10, 11, 12, 13]
    assert "end date lies before the start date" in errors[3]
    assert "cannot be negative" in errors[4]
    assert "CPV code" in errors[6]
    assert "lopend-ish" in errors[7] and "Status" in errors[7]
    assert "niemand@example.org" in errors[8]
    assert "31-02-2029" in errors[9] and "not a date" in errors[9]
    assert "twee" in errors[10]
    assert "NaN" in errors[12] and "amount" in errors[12]
    assert "at most" in errors[13]
    assert "reference" in errors[11]
    references = db.session.scalars(sa.select(Dossier.reference).order_by(Dossier.reference))
    assert list(references) == ["2025-001", "2025-002"]
    assert db.session.scalar(sa.select(Party).where(Party.name.like("Spook%"))) is None
    # The audit trail holds the two creations and their grants, nothing of the refused rows.
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()[events_before:]
    assert [e.action for e in events].count("dossier.create") == 2
    assert {e.dossier_id for e in events} == {_dossier("2025-001").id, _dossier("2025-002").id}
    assert not [e for e in events if "Spook" in json.dumps(e.after)]
    memberships = db.session.scalars(sa.select(Membership.dossier_id).distinct()).all()
    assert sorted(memberships) == sorted([_dossier("2025-001").id, _dossier("2025-002").id])
    _assert_first_row(_dossier("2025-001"), people)


def test_an_error_in_an_update_row_leaves_the_dossier_as_it_was(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    _import(invoke, _write_csv(tmp_path / "v1.csv", [_row()]))
    bad = _row(Titel="Nieuwe titel", Leverancier="Nieuwe B.V.", CPV="72-5")
    report = _import(invoke, _write_csv(tmp_path / "v2.csv", [bad]))
    assert [number for number, _ in report["errors"]] == [2]
    dossier = _dossier("2025-001")
    assert dossier.title == "Vernieuwen Softwarecatalogus"
    assert dossier.supplier is not None and dossier.supplier.name == "Acme Software B.V."
    assert db.session.scalar(sa.select(Party).where(Party.name == "Nieuwe B.V.")) is None


def test_a_too_long_value_is_a_row_error_not_a_crash(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    rows = [
        _row(),
        _row(Kenmerk="2025-002", Aanbestedingskenmerk="T" * 100),
        _row(Kenmerk="2025-003", Contractwaarde="1" * 20),
        _row(Kenmerk="2025-004", Optieduur="99999999999"),
    ]
    result = invoke("register", "import", str(_write_csv(tmp_path / "r.csv", rows)), "--json")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    report = json.loads(result.stdout)
    assert report["created"][0] == "2025-001"
    assert _dossier("2025-001").title == "Vernieuwen Softwarecatalogus"
    errors = dict(report["errors"])
    # An option of 99,999,999,999 months and an amount of twenty digits are refused by the
    # register's own rules on every database.
    assert "option_months" in errors.pop(5) and "2025-004" not in report["created"]
    assert "at most" in errors.pop(4) and "2025-003" not in report["created"]
    if db.engine.dialect.name == "postgresql":
        assert report["created"] == ["2025-001"]
        assert sorted(errors) == [3]
        assert all("database refused" in message for message in errors.values())
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 1
    else:  # SQLite does not enforce lengths: the long text is stored whole
        assert errors == {}
        assert report["created"] == ["2025-001", "2025-002"]


def test_the_reference_is_matched_ignoring_case(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    _import(invoke, _write_csv(tmp_path / "v1.csv", [_row(Kenmerk="ABC-1")]))
    report = _import(invoke, _write_csv(tmp_path / "v2.csv", [_row(Kenmerk="abc-1", Opties="1")]))
    assert report["errors"] == []
    assert report["updated"] == ["abc-1"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 1


def test_a_user_without_rights_cannot_create_or_change(
    people: dict[str, User],
    make_user: Callable[..., User],
    invoke: Callable[..., Result],
    tmp_path: Path,
) -> None:
    _import(invoke, _write_csv(tmp_path / "v1.csv", [_row()]))
    make_user("lezer@example.org")
    rows = [_row(Titel="Gewijzigd"), _second_row()]
    report = _import(invoke, _write_csv(tmp_path / "v2.csv", rows), "--as", "lezer@example.org")
    assert report["created"] == report["updated"] == []
    assert [number for number, _ in report["errors"]] == [2, 3]
    assert _dossier("2025-001").title == "Vernieuwen Softwarecatalogus"


def test_a_beheerder_updates_their_own_dossier(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    _import(invoke, _write_csv(tmp_path / "v1.csv", [_row()]))
    report = _import(
        invoke,
        _write_csv(tmp_path / "v2.csv", [_row(Titel="Gewijzigd")]),
        "--as",
        "beheerder@example.org",
    )
    assert report["updated"] == ["2025-001"]


def test_an_empty_or_unknown_file_is_refused(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    empty = _write_csv(tmp_path / "leeg.csv", [])
    result = invoke("register", "import", str(empty))
    assert result.exit_code == 1 and "no rows" in result.stderr
    other = tmp_path / "register.ods"
    other.write_bytes(b"PK\x03\x04")
    result = invoke("register", "import", str(other))
    assert result.exit_code == 1 and ".csv or .xlsx" in result.stderr
    result = invoke("register", "export", str(tmp_path / "out.ods"))
    assert result.exit_code == 1 and ".csv or .xlsx" in result.stderr


@pytest.mark.parametrize("content", ["docx", "zip"])
def test_a_zip_that_is_no_workbook_is_refused(
    people: dict[str, User],
    invoke: Callable[..., Result],
    tmp_path: Path,
    corpus: Path,
    content: str,
) -> None:
    renamed = tmp_path / "register.xlsx"
    if content == "docx":  # a Word document renamed
        renamed.write_bytes(sorted((corpus / "docx").glob("*.docx"))[0].read_bytes())
    else:  # a zip of something else
        with zipfile.ZipFile(renamed, "w") as archive:
            archive.writestr("register.csv", "Kenmerk,Titel\n2025-001,x\n")
    result = invoke("register", "import", str(renamed))
    assert result.exit_code == 1, result.output
    assert "register.xlsx is not an Excel workbook" in result.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Dossier)) == 0


# Export


def test_export_to_a_folder_that_does_not_exist(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    result = invoke("register", "export", str(tmp_path / "bestaat-niet" / "register.csv"))
    assert result.exit_code == 1
    assert "cannot write" in result.stderr and "No such file or directory" in result.stderr


def _full_register(people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path) -> None:
    rows = [
        _row(),
        _second_row(),
        _row(
            Kenmerk="2025-020",
            Titel=FORMULAS[0],
            Omschrijving='Zegt "hallo", met komma\'s; en\neen nieuwe regel',
            Leverancier="=Evil B.V.",
            Labels="-min, +plus, gewoon",
        ),
        _row(Kenmerk="2025-021", Titel=FORMULAS[1], Omschrijving="@SUM(A1:A9)"),
        _row(Kenmerk="2025-022", Titel=FORMULAS[2], Afdeling="-Facilitair"),
        _row(Kenmerk="2025-023", Titel=FORMULAS[3], Status="gearchiveerd"),
    ]
    report = _import(invoke, _write_csv(tmp_path / "bron.csv", rows))
    assert report["errors"] == [] and len(report["created"]) == 6


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def _read_xlsx(path: Path) -> list[list[Any]]:
    workbook = load_workbook(path)
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate  # no formula cells at all
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_changes_nothing(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path, suffix: str
) -> None:
    _full_register(people, invoke, tmp_path)
    before = {d.reference: dossiers.snapshot(d) for d in db.session.scalars(sa.select(Dossier))}
    out = tmp_path / f"out{suffix}"
    result = invoke("register", "export", str(out))
    assert result.exit_code == 0, result.output
    assert f"6 dossiers written to {out}" in result.stdout
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    report = _import(invoke, out)
    assert report["errors"] == []
    assert report["created"] == report["updated"] == []
    assert sorted(report["unchanged"]) == sorted(before)
    after = {d.reference: dossiers.snapshot(d) for d in db.session.scalars(sa.select(Dossier))}
    assert after == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    assert _dossier("2025-020").title == FORMULAS[0]
    assert _dossier("2025-020").tag_names == ["+plus", "-min", "gewoon"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_has_every_field_and_the_derived_dates(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path, suffix: str
) -> None:
    _import(invoke, _write_csv(tmp_path / "bron.csv", [_row(), _second_row()]))
    out = tmp_path / f"out{suffix}"
    assert invoke("register", "export", str(out)).exit_code == 0
    table = _read_csv(out) if suffix == ".csv" else _read_xlsx(out)
    header, first = table[0], dict(zip(table[0], table[1], strict=True))
    assert header == [*dossiers.FIELDS, "notice_deadline", "max_end_on", "current_value"]
    assert first["reference"] == "2025-001"
    assert first["beheerder"] == "beheerder@example.org"
    assert first["supplier_kvk"] == "12345678"
    assert first["tags"] == "ICT, SaaS"
    if suffix == ".csv":
        assert first["value"] == "1234567.89"
        assert (first["end_on"], first["notice_deadline"]) == ("2029-01-31", "2028-10-31")
        assert first["max_end_on"] == "2031-01-31"
    else:
        assert Decimal(str(first["value"])) == Decimal("1234567.89")
        assert first["end_on"] == datetime(2029, 1, 31)
        assert first["max_end_on"] == datetime(2031, 1, 31)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_escapes_formulas(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path, suffix: str
) -> None:
    _full_register(people, invoke, tmp_path)
    out = tmp_path / f"out{suffix}"
    assert invoke("register", "export", str(out)).exit_code == 0
    table = _read_csv(out) if suffix == ".csv" else _read_xlsx(out)
    rows = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    titles = {rows[ref]["title"] for ref in ("2025-020", "2025-021", "2025-022", "2025-023")}
    assert titles == {"'" + f for f in FORMULAS}
    assert rows["2025-020"]["supplier"] == "'=Evil B.V."
    assert rows["2025-020"]["tags"] == "'+plus, -min, gewoon"
    assert rows["2025-021"]["description"] == "'@SUM(A1:A9)"
    assert rows["2025-022"]["client_department"] == "'-Facilitair"
    # Nothing else is touched: plain text, e-mail addresses, dates, amounts.
    assert rows["2025-001"]["title"] == "Vernieuwen Softwarecatalogus"
    assert rows["2025-001"]["owner"] == "eigenaar@example.org"
    for row in rows.values():
        for name, value in row.items():
            if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
                # A leading minus is only allowed on a real date or number, never on text.
                pytest.fail(f"{row['reference']} {name}: {value!r} is not escaped")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_as_a_user_shows_only_their_dossiers(
    people: dict[str, User],
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    invoke: Callable[..., Result],
    tmp_path: Path,
    suffix: str,
) -> None:
    reader = make_user("lezer@example.org")
    group_less = make_user("niets@example.org")
    make_dossier("2025-031", members={reader: MemberRole.READER})
    hidden = make_dossier("2025-032", confidentiality=Confidentiality.CONFIDENTIAL)
    make_dossier("2025-033", members={reader: MemberRole.MANAGER})
    dossiers.grant(people["admin"], hidden, people["manager"], MemberRole.OWNER)
    db.session.commit()

    def exported(*extra: str) -> list[str]:
        out = tmp_path / f"out-{len(extra)}-{extra[-1] if extra else 'all'}{suffix}"
        result = invoke("register", "export", str(out), *extra)
        assert result.exit_code == 0, result.output
        table = _read_csv(out) if suffix == ".csv" else _read_xlsx(out)
        return [row[0] for row in table[1:]]

    assert exported("--as", reader.email) == ["2025-031", "2025-033"]
    assert exported("--as", "manager@example.org") == ["2025-032"]
    assert exported("--as", group_less.email) == []
    assert exported() == ["2025-031", "2025-032", "2025-033"]
    result = invoke("register", "export", str(tmp_path / f"x{suffix}"), "--as", "nobody@x.org")
    assert result.exit_code == 1 and "no enabled user" in result.stderr


def test_dutch_csv_export_uses_semicolons_and_decimal_commas_and_reads_back(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    _full_register(people, invoke, tmp_path)
    before = {d.reference: dossiers.snapshot(d) for d in db.session.scalars(sa.select(Dossier))}
    out = tmp_path / "nl.csv"
    assert invoke("register", "export", str(out), "--lang", "nl").exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    rows = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert rows["2025-001"]["value"] == "1234567,89"
    assert rows["2025-020"]["title"] == "'" + FORMULAS[0]  # formula escaping kept
    report = _import(invoke, out)
    assert report["errors"] == [] and sorted(report["unchanged"]) == sorted(before)
    english = tmp_path / "en.csv"
    assert invoke("register", "export", str(english)).exit_code == 0
    header = english.read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header.startswith("reference,")


def test_a_row_naming_one_person_in_two_roles_is_refused(
    people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    _import(invoke, _write_csv(tmp_path / "v1.csv", [_row()]))
    both = _row(Contractmanager="eigenaar@example.org", Einddatum="31-01-2030")
    report = _import(invoke, _write_csv(tmp_path / "v2.csv", [both]))
    assert report["updated"] == [] and len(report["errors"]) == 1
    assert "eigenaar@example.org" in report["errors"][0][1]
    assert "one role per dossier" in report["errors"][0][1]
    dossier = _dossier("2025-001")
    assert dossier.end_on == date(2029, 1, 31)  # the row changed nothing
    assert dossiers.people(dossier, MemberRole.OWNER) == [people["owner"]]
    assert dossiers.people(dossier, MemberRole.MANAGER) == [people["manager"]]


def _english_ui(client: Any) -> None:
    assert client.post("/language", data={"lang": "en"}).status_code == 302


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_web_export_is_headed_in_the_users_language_and_imports_back_unchanged(
    app: Flask,
    people: dict[str, User],
    invoke: Callable[..., Result],
    tmp_path: Path,
    suffix: str,
) -> None:
    _full_register(people, invoke, tmp_path)
    before = {d.reference: dossiers.snapshot(d) for d in db.session.scalars(sa.select(Dossier))}
    client = app.test_client(user=people["admin"])
    for language, first, derived in (
        (
            "nl",
            ["Kenmerk", "Titel"],
            [
                "Uiterste opzegdatum",
                "Maximale einddatum",
                "Huidige waarde (EUR, excl. btw, met goedgekeurde wijzigingen)",
            ],
        ),
        (
            "en",
            ["Reference", "Title"],
            [
                "Notice deadline",
                "Maximum end date",
                "Current value (EUR, excl. VAT, with approved amendments)",
            ],
        ),
    ):
        if language == "en":
            _english_ui(client)
        response = client.get(f"/register/export.{suffix}")
        assert response.status_code == 200
        out = tmp_path / f"web-{language}.{suffix}"
        out.write_bytes(response.get_data())
        if suffix == "csv":
            text = out.read_bytes().decode("utf-8-sig")
            table = list(csv.reader(io.StringIO(text), delimiter=";" if language == "nl" else ","))
        else:
            table = _read_xlsx(out)
        assert table[0][:2] == first and table[0][-3:] == derived, table[0]
        assert "cpv_code" not in table[0]
        report = _import(invoke, out)
        assert report["errors"] == [], report
        assert report["created"] == report["updated"] == []
        assert sorted(report["unchanged"]) == sorted(before)
    after = {d.reference: dossiers.snapshot(d) for d in db.session.scalars(sa.select(Dossier))}
    assert after == before


def test_import_reads_the_key_the_english_and_the_dutch_label_of_each_column(
    app: Flask, people: dict[str, User], invoke: Callable[..., Result], tmp_path: Path
) -> None:
    from dossier import register_io

    values = {
        "reference": "2025-050",
        "title": "Printers",
        "cpv_code": "30232110-8",
        "end_on": "2026-12-31",
        "value": "1000",
        "tender_reference": "EU-17",
    }
    spellings = {
        "key": {
            "reference": "REFERENCE", "title": "title", "cpv_code": "Cpv_Code",
            "end_on": "end on", "value": "value", "tender_reference": "tender_reference",
        },
        "english": {
            "reference": "reference", "title": "TITLE", "cpv_code": "cpv code",
            "end_on": "End Date", "value": "contract value (eur, excl. vat)",
            "tender_reference": "Tender  reference",
        },
        "dutch": {
            "reference": "KENMERK", "title": "titel", "cpv_code": "cpv-code",
            "end_on": "einddatum", "value": "Contractwaarde (EUR, excl. BTW)",
            "tender_reference": "kenmerk aanbesteding",
        },
    }  # fmt: skip
    for number, (style, headers) in enumerate(spellings.items()):
        row = {**values, "reference": f"2025-05{number}", "title": f"Printers {style}"}
        path = _write_csv(
            tmp_path / f"{style}.csv", [[row[k] for k in values]], [headers[k] for k in values]
        )
        report = _import(invoke, path)
        assert report["created"] == [row["reference"]], (style, report)
        dossier = _dossier(row["reference"])
        assert dossier.cpv_code == "30232110-8" and dossier.tender_reference == "EU-17", style
        assert dossier.end_on == date(2026, 12, 31) and dossier.value == Decimal("1000"), style
    # No label, in any language, names a second column.
    names = register_io.header_names()
    for column, label in register_io.LABELS.items():
        for language in ("en", "nl"):
            with force_locale(language):
                assert names[register_io._header_key(str(label))] == column, (column, language)
