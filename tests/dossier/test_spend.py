"""`dossier/spend_import.py` and `dossier/spend.py`: importing spend from the financial system
(Dutch and English files, CSV and XLSX, bad rows refused whole, re-imports idempotent), mapping
unknown suppliers, and the figures against the ceiling, all with hand-computed expectations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import Workbook

from dossier import dossiers, spend, spend_files, spend_import, spend_matching
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Dossier,
    GlobalRole,
    MemberRole,
    SpendAttribution,
    SpendLine,
    User,
)

D = Decimal
HEADER = (
    "Leverancier;KvK-nummer;Crediteurnummer;Contractnummer;Factuurnummer;Factuurdatum;"
    "Bedrag excl. btw\n"
)
# Hand-computed below: 2026-101 gets F-1..F-4 (30.000 + 25.000 - 1.000 + 10.000 = 64.000 of
# 100.000 = 64 %; in 2026 34.000 of an annual 40.000 = 85 %: the 80 % warning). 2026-102 gets
# G-1 (45.000 of 50.000 = 90 %: the 80 % warning). Kantoor & Co (creditor 9001) is unknown:
# 12.500,50 + 7.499,50 = 20.000,00 without contract.
LEDGER = HEADER + (
    "Schoon BV;12345678;1001;2026-101;F-1;15-03-2025;30.000,00\n"
    "Schoon BV;12345678;1001;;F-2;10-02-2026;25.000,00\n"
    "Schoon BV;12345678;1001;;F-3;11-02-2026;-1.000,00\n"
    "Schoon BV;12345678;1001;;F-4;01-03-2026;10.000,00\n"
    "Groen BV;87654321;1002;2026-102;G-1;01-04-2026;45.000,00\n"
    "Kantoor & Co;;9001;;K-1;05-05-2026;12.500,50\n"
    "Kantoor & Co;;9001;;K-2;06-06-2026;7.499,50\n"
)
TODAY = date(2026, 7, 1)


@pytest.fixture
def portfolio(app: Flask, make_dossier: Callable[..., Dossier]) -> dict[str, Dossier]:
    common = {"status": "active", "start_on": date(2025, 1, 1), "end_on": date(2027, 12, 31)}
    return {
        "a": make_dossier(
            "2026-101",
            supplier="Schoon BV",
            supplier_kvk="12345678",
            value=D("100000.00"),
            annual_value=D("40000.00"),
            **common,
        ),
        "b": make_dossier(
            "2026-102", supplier="Groen BV", supplier_kvk="87654321", value=D("50000.00"), **common
        ),
        "c": make_dossier(
            "2026-103", supplier="Kantoor & Co Leveringen BV", value=D("15000.00"), **common
        ),
    }


@pytest.fixture
def importer(make_user: Callable[..., User]) -> User:
    return make_user("fin@example.org", GlobalRole.BEHEERDER, "Fien Financiën")


def _write(tmp_path: Path, text: str, name: str = "grootboek.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _import(actor: User, path: Path, source: str = "finance") -> spend_import.Preview:
    preview = spend_import.preview(actor, path, source)
    if preview.can_commit:
        spend_import.commit(actor, preview.spend_import)
    db.session.commit()
    return preview


def _lines() -> list[SpendLine]:
    return list(db.session.scalars(sa.select(SpendLine).order_by(SpendLine.invoice_number)))


def test_a_dutch_ledger_is_booked_on_the_right_contracts(
    portfolio: dict[str, Dossier], importer: User, tmp_path: Path
) -> None:
    preview = _import(importer, _write(tmp_path, LEDGER))
    assert preview.errors == []
    assert (preview.spend_import.row_count, preview.spend_import.new_count) == (7, 7)
    by_number = {line.invoice_number: line for line in _lines()}
    assert by_number["F-1"].attribution == SpendAttribution.REFERENCE
    assert by_number["F-2"].attribution == SpendAttribution.ONLY_CONTRACT
    assert by_number["F-3"].amount == D("-1000.00")  # a credit note
    assert by_number["F-3"].dossier_id == portfolio["a"].id
    assert by_number["K-1"].dossier_id is None and by_number["K-1"].party_id is None
    assert by_number["K-1"].amount == D("12500.50")
    a = spend.dossier_spend(importer, portfolio["a"], TODAY)
    assert a.total == D("64000.00") and a.percent == D("64.0") and a.warning is None
    assert [(y.year, y.amount) for y in a.years] == [(2025, D("30000.00")), (2026, D("34000.00"))]
    assert a.this_year.percent == D("85.0") and a.this_year.warning == 80
    b = spend.dossier_spend(importer, portfolio["b"], TODAY)
    assert (b.total, b.percent, b.warning) == (D("45000.00"), D("90.0"), 80)
    warnings = spend.warnings(portfolio.values(), TODAY)
    assert [(w.dossier.reference, w.kind, w.threshold) for w in warnings] == [
        ("2026-102", "ceiling", 80),
        ("2026-101", "annual", 80),
    ]
    [unknown] = spend.without_contract()
    assert (unknown.supplier, unknown.count, unknown.total) == ("Kantoor & Co", 2, D("20000.00"))
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.SPEND_IMPORT)
    )
    assert event.after["rows"] == 7 and event.after["new"] == 7
    assert event.after["already_imported"] == 0


def test_the_same_file_twice_changes_nothing_and_an_overlap_books_only_the_new(
    portfolio: dict[str, Dossier], importer: User, tmp_path: Path
) -> None:
    path = _write(tmp_path, LEDGER)
    _import(importer, path)
    again = _import(importer, path)
    assert (again.spend_import.new_count, again.spend_import.known_count) == (0, 7)
    assert len(_lines()) == 7
    assert spend.dossier_spend(importer, portfolio["a"], TODAY).total == D("64000.00")
    # The next month's export repeats F-4 (with English headers and decimal points) and adds F-5.
    overlap = _write(
        tmp_path,
        "Supplier,KvK number,Creditor number,Contract reference,Invoice number,Invoice date,"
        "Amount\n"
        "Schoon BV,12345678,1001,,F-4,2026-03-01,10000.00\n"
        "Schoon BV,12345678,1001,,F-5,2026-07-01,6000.00\n",
        "export-july.csv",
    )
    later = _import(importer, overlap)
    assert (later.spend_import.new_count, later.spend_import.known_count) == (1, 1)
    a = spend.dossier_spend(importer, portfolio["a"], TODAY)
    assert a.total == D("70000.00") and a.this_year.amount == D("40000.00")
    assert a.this_year.warning == 100
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.SPEND_IMPORT)
    ).all()
    assert [(e.after["new"], e.after["already_imported"]) for e in events] == [
        (7, 0),
        (0, 7),
        (1, 1),
    ]


def test_identical_lines_of_one_file_are_two_lines_and_stay_two(
    portfolio: dict[str, Dossier], importer: User, tmp_path: Path
) -> None:
    # One invoice booked on two cost centres for the same amount.
    text = HEADER + "Groen BV;87654321;1002;;G-9;01-05-2026;500,00\n" * 2
    path = _write(tmp_path, text)
    _import(importer, path)
    _import(importer, path)
    assert len(_lines()) == 2
    assert spend.dossier_spend(importer, portfolio["b"], TODAY).total == D("1000.00")


def test_a_file_with_bad_rows_books_nothing_and_names_every_row(
    portfolio: dict[str, Dossier], importer: User, tmp_path: Path
) -> None:
    text = HEADER + (
        "Schoon BV;12345678;1001;;F-1;15-03-2026;1.234\n"  # ambiguous
        "Schoon BV;12345678;1001;;F-2;31-02-2026;100,00\n"  # no such date
        "Schoon BV;12345678;1001;;;15-03-2026;100,00\n"  # no invoice number
        "Schoon BV;1234;1001;;F-4;15-03-2026;100,00\n"  # KvK too short is padded: fine
        ";;;;F-5;15-03-2026;100,00\n"  # no supplier
        "Schoon BV;12345678;1001;;F-6;15-03-2026;12,345\n"  # three decimals
        "Schoon BV;12345678;1001;;F-7;15-03-2026;100,00\n"
    )
    preview = _import(importer, _write(tmp_path, text))
    assert [n for n, _m in preview.errors] == [2, 3, 4, 6, 7]
    messages = dict(preview.errors)
    assert "ambiguous" in messages[2]
    assert "not a date" in messages[3]
    assert "invoice number" in messages[4]
    assert "no supplier" in messages[6]
    assert "ambiguous" in messages[7] or "decimals" in messages[7]
    assert not preview.can_commit
    with pytest.raises(DomainError):
        spend_import.commit(importer, preview.spend_import)
    assert _lines() == []


def test_a_file_without_the_required_columns_is_refused(
    app: Flask, importer: User, tmp_path: Path
) -> None:
    with pytest.raises(DomainError, match="invoice_date"):
        spend_import.preview(importer, _write(tmp_path, "Leverancier;Bedrag\nX;1,00\n"), "f")


def test_an_excel_export_reads_numbers_dates_and_lost_leading_zeros(
    app: Flask, make_dossier: Callable[..., Dossier], importer: User, tmp_path: Path
) -> None:
    dossier = make_dossier(
        "2026-201", supplier="Nul BV", supplier_kvk="01234567", value=D("1000.00"), status="active"
    )
    book = Workbook()
    sheet = book.active
    sheet.append(["Crediteur", "KvK", "Factuurnummer", "Factuurdatum", "Bedrag"])
    sheet.append(["Nul B.V.", 1234567, 2026001, datetime(2026, 2, 3), 250.5])
    sheet.append(["Nul B.V.", 1234567, 2026002, date(2026, 3, 4), 149])
    path = tmp_path / "export.xlsx"
    book.save(path)
    preview = _import(importer, path)
    assert preview.errors == []
    lines = _lines()
    assert [(x.invoice_number, x.kvk_number, x.amount) for x in lines] == [
        ("2026001", "01234567", D("250.50")),
        ("2026002", "01234567", D("149.00")),
    ]
    assert {x.dossier_id for x in lines} == {dossier.id}  # matched by KvK, the only contract
    assert spend.dossier_spend(importer, dossier, TODAY).percent == D("40.0")


def test_an_unknown_supplier_mapped_by_hand_is_remembered(
    portfolio: dict[str, Dossier], importer: User, tmp_path: Path
) -> None:
    _import(importer, _write(tmp_path, LEDGER))
    [unknown] = spend_matching.unknown_suppliers()
    assert (unknown.creditor_number, unknown.count, unknown.total) == ("9001", 2, D("20000.00"))
    party = portfolio["c"].supplier
    matched = spend_matching.map_supplier(importer, party, "finance", "9001", "", "Kantoor & Co")
    db.session.commit()
    assert matched == 2
    assert spend_matching.unknown_suppliers() == [] and spend.without_contract() == []
    c = spend.dossier_spend(importer, portfolio["c"], TODAY)
    assert (c.total, c.percent, c.warning) == (D("20000.00"), D("133.3"), 100)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.SPEND_SUPPLIER_MAP)
    )
    assert event.after["lines_matched"] == 2 and event.after["lines_to_contract"] == 2
    # The next export's line of creditor 9001 finds its party and contract by itself.
    later = _write(tmp_path, HEADER + "Kantoor en Co;;9001;;K-3;07-06-2026;100,00\n", "b.csv")
    _import(importer, later)
    k3 = db.session.scalar(sa.select(SpendLine).where(SpendLine.invoice_number == "K-3"))
    assert (k3.party_id, k3.dossier_id) == (party.id, portfolio["c"].id)
    # Creditor numbers belong to their source: another system's 9001 is someone else.
    other = _write(tmp_path, HEADER + "Ander;;9001;;Z-1;07-06-2026;5,00\n", "c.csv")
    _import(importer, other, source="other system")
    z1 = db.session.scalar(sa.select(SpendLine).where(SpendLine.invoice_number == "Z-1"))
    assert z1.party_id is None


def test_a_supplier_with_two_running_contracts_leaves_lines_without_contract(
    app: Flask, make_dossier: Callable[..., Dossier], importer: User, tmp_path: Path
) -> None:
    make_dossier("2026-301", supplier="Dubbel BV", status="active")
    make_dossier("2026-302", supplier="Dubbel BV", status="active")
    make_dossier("2026-303", supplier="Dubbel BV", status="draft")
    _import(importer, _write(tmp_path, HEADER + "Dubbel BV;;;;D-1;01-01-2026;10,00\n"))
    [line] = _lines()
    assert line.party_id is not None and line.dossier_id is None
    [group] = spend.without_contract()
    assert group.supplier == "Dubbel BV" and group.party is not None


def test_a_contract_that_ended_before_the_invoice_takes_none_of_it(
    app: Flask, make_dossier: Callable[..., Dossier], importer: User, tmp_path: Path
) -> None:
    old = make_dossier(
        "2026-401",
        supplier="Oud BV",
        status="ended",
        start_on=date(2020, 1, 1),
        end_on=date(2024, 12, 31),
    )
    new = make_dossier("2026-402", supplier="Oud BV", status="active", start_on=date(2025, 1, 1))
    text = HEADER + "Oud BV;;;;O-1;01-06-2024;10,00\nOud BV;;;;O-2;01-06-2025;20,00\n"
    _import(importer, _write(tmp_path, text))
    assert {x.invoice_number: x.dossier_id for x in _lines()} == {"O-1": old.id, "O-2": new.id}


def test_filed_invoices_are_shown_beside_the_spend_not_added_to_it(
    portfolio: dict[str, Dossier], importer: User, admin: User, tmp_path: Path
) -> None:
    from dossier.models import Document, DocumentKind

    db.session.add(
        Document(
            dossier_id=portfolio["b"].id,
            kind=DocumentKind.INVOICE,
            title="Factuur G-1",
            invoice_amount=D("45000.00"),
        )
    )
    db.session.commit()
    _import(importer, _write(tmp_path, LEDGER))
    b = spend.dossier_spend(admin, portfolio["b"], TODAY)
    assert (b.total, b.invoices_filed, b.invoice_count) == (D("45000.00"), D("45000.00"), 1)


def test_a_large_file_costs_queries_per_supplier_not_per_line(
    portfolio: dict[str, Dossier], importer: User, tmp_path: Path
) -> None:
    rows = "".join(
        f"Schoon BV;12345678;1001;;L-{n};{1 + n % 28:02d}-02-2026;1,00\n" for n in range(600)
    )
    path = _write(tmp_path, HEADER + rows)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        preview = spend_import.preview(importer, path, "finance")
        spend_import.commit(importer, preview.spend_import)
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert spend.dossier_spend(importer, portfolio["a"], TODAY).this_year.amount == D("600.00")
    lookups = [s for s in statements if "FROM party" in s or "FROM dossier" in s]
    assert len(lookups) < 120, len(lookups)  # 28 invoice dates × a few, never 600 × a few


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.234,56", D("1234.56")),
        ("1234.56", D("1234.56")),
        ("1,234.56", D("1234.56")),
        ("€ 2.500,00", D("2500.00")),
        ("2500", D("2500.00")),
        ("-12,5", D("-12.50")),
        ("1.234.567", D("1234567.00")),
        (99.9, D("99.90")),
    ],
)
def test_amounts_are_read_the_dutch_and_the_english_way(raw: object, expected: Decimal) -> None:
    assert spend_files.parse_amount(raw) == expected


@pytest.mark.parametrize("raw", ["1.234", "1,234", "12,345", "abc", "NaN", "", None, 0.125])
def test_ambiguous_or_wrong_amounts_are_refused(raw: object) -> None:
    with pytest.raises(spend_files.RowError):
        spend_files.parse_amount(raw)


def test_the_ceiling_is_the_current_contract_value(
    portfolio: dict[str, Dossier], make_user: Callable[..., User]
) -> None:
    """The initial 100,000 plus an approved amendment of 20,000; a proposed one of 5,000 does
    not count until the owner approves it."""
    from dossier import amendments

    assert spend.ceiling(portfolio["a"]) == D("100000.00")
    owner = make_user("owner@example.org")
    beheerder = make_user("bea@example.org")
    dossiers.grant(None, portfolio["a"], owner, MemberRole.OWNER)
    dossiers.grant(None, portfolio["a"], beheerder, MemberRole.BEHEERDER)
    for change in ("20000", "5000"):
        amendments.propose(
            beheerder,
            portfolio["a"],
            {
                "amended_on": date(2026, 1, 10),
                "description": f"Meerwerk {change}",
                "value_change": D(change),
                "legal_ground": "2.163b",
            },
        )
    amendments.decide(owner, amendments.of_dossier(portfolio["a"])[0], approve=True)
    db.session.commit()
    assert spend.ceiling(portfolio["a"]) == D("120000.00")
