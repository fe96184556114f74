"""The register sorts on the derived dates and filters on more than status; the filters stay in
the links (sort, pages) and in the export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date

import sqlalchemy as sa
from flask import Flask

from dossier.extensions import db
from dossier.models import (
    Category,
    Dossier,
    DossierStatus,
    GlobalRole,
    MemberRole,
    NoticeUnit,
    Procedure,
    User,
)

TODAY = date(2026, 1, 15)


def _world(app: Flask, make_user: Callable[..., User], make: Callable[..., Dossier]) -> User:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    mia = make_user("mia@example.org", GlobalRole.BEHEERDER, name="Mia Manager")
    # Notice deadlines exist only for contracts that renew automatically.
    active = {"status": DossierStatus.ACTIVE, "auto_renewal": True}
    # Notice deadlines: A 2026-03-31 (3 months), B 2026-01-31 (1 month), C 2026-06-29 (2 days).
    # Maximum end dates: A 2026-06-30, B 2028-02-29 (two options of a year), C 2026-07-01.
    make("2026-A", end_on=date(2026, 6, 30), notice_value=3, notice_unit=NoticeUnit.MONTHS,
         supplier="Acme B.V.", procedure=Procedure.NATIONAL, category=Category.SERVICES,
         manager=mia.email, **active)  # fmt: skip
    make("2026-B", end_on=date(2026, 2, 28), notice_value=1, notice_unit=NoticeUnit.MONTHS,
         option_count=2, option_months=12, supplier="Bouw B.V.", procedure=Procedure.EU_OPEN,
         category=Category.WORKS, **active)  # fmt: skip
    make("2026-C", end_on=date(2026, 7, 1), notice_value=2, notice_unit=NoticeUnit.DAYS,
         supplier="Acme B.V.", procedure=Procedure.EU_OPEN, category=Category.SERVICES,
         **active)  # fmt: skip
    make("2026-D", supplier="Zonder Datum", **active)
    return mia


def _order(page: str) -> list[str]:
    return re.findall(r'<td><a href="/dossiers/[^"]+">(2026-[A-D])</a></td>', page)


def test_register_sorts_on_notice_deadline_and_maximum_end_date(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    _world(app, make_user, make_dossier)
    client = app.test_client(user=admin)
    # A dossier without the date comes last either way.
    assert _order(client.get("/?sort=notice_deadline").text) == ["2026-B", "2026-A", "2026-C", "2026-D"]  # fmt: skip  # noqa: E501
    assert _order(client.get("/?sort=-notice_deadline").text) == ["2026-C", "2026-A", "2026-B", "2026-D"]  # fmt: skip  # noqa: E501
    assert _order(client.get("/?sort=max_end_on").text) == ["2026-A", "2026-C", "2026-B", "2026-D"]  # fmt: skip  # noqa: E501
    page = client.get("/?sort=max_end_on").text
    assert 'href="/?sort=-max_end_on"' in page and 'href="/?sort=notice_deadline"' in page


def test_register_filters_on_supplier_procedure_category_person_and_end(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    mia = _world(app, make_user, make_dossier)
    client = app.test_client(user=admin)
    assert _order(client.get("/?supplier=acme").text) == ["2026-A", "2026-C"]
    assert _order(client.get("/?procedure=eu_open").text) == ["2026-B", "2026-C"]
    assert _order(client.get("/?category=works").text) == ["2026-B"]
    assert _order(client.get(f"/?person={mia.id}").text) == ["2026-A"]
    assert _order(client.get("/?ends_within=60").text) == ["2026-B"]
    assert _order(client.get("/?ends_within=200").text) == ["2026-A", "2026-B", "2026-C"]
    combined = client.get("/?supplier=acme&procedure=eu_open&sort=-end_on").text
    assert _order(combined) == ["2026-C"]
    # The filters stay in the sort links and in the export links.
    assert 'href="/?supplier=acme&amp;procedure=eu_open&amp;sort=end_on"' in combined
    assert "/register/export.csv?supplier=acme&amp;procedure=eu_open&amp;sort=-end_on" in combined
    assert 'value="acme"' in combined and '<option value="eu_open" selected>' in combined
    assert _order(client.get("/?procedure=nonsense&ends_within=-3").text) == [
        "2026-A", "2026-B", "2026-C", "2026-D"
    ]  # fmt: skip


def test_register_export_holds_the_selection_in_its_order(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    _world(app, make_user, make_dossier)
    client = app.test_client(user=admin)
    response = client.get("/register/export.csv?supplier=acme&sort=-notice_deadline")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text.split("\n")[0] else ","))
    references = [row[0] for row in rows[1:]]
    assert references == ["2026-C", "2026-A"]
    assert rows[0][-3:-1] == ["Uiterste opzegdatum", "Maximale einddatum"]  # labels, in Dutch
    assert rows[0][-1].startswith("Huidige waarde")
    assert client.get("/register/export.pdf").status_code == 404


def test_odd_numbers_in_the_filters_are_ignored_not_a_500(app: Flask, admin: User) -> None:
    client = app.test_client(user=admin)
    for query in ("person=%C2%B2", "ends_within=%C2%B2", "ends_within=" + "9" * 5000, "person=-1"):
        assert client.get(f"/?{query}").status_code == 200, query
        assert client.get(f"/register/export.csv?{query}").status_code == 200, query
    # A dropped "ends within" is said, not silently ignored (a trial took the list as filtered).
    for days in ("abc", "-5", "1e400", "99999"):
        assert "dat filter is niet toegepast" in client.get(f"/?ends_within={days}").text, days
    for days in ("", "30"):
        assert "niet toegepast" not in client.get(f"/?ends_within={days}").text, days


def test_the_register_export_reads_the_people_in_bulk(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    manager = make_user("mia@example.org")
    client = app.test_client(user=admin)

    def queries(count: int) -> int:
        for number in range(count):
            make_dossier(f"2027-{count}-{number}", members={manager: MemberRole.MANAGER})
        statements: list[str] = []
        listener = lambda *args, **kwargs: statements.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/register/export.csv").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = queries(2)
    many = queries(20)  # 22 dossiers now: the count must not grow with them
    assert many - few <= 2, (few, many)


def test_a_contract_that_renewed_by_itself_shows_its_running_term_everywhere(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    app.config["REPORT_DATE"] = "2026-12-05"
    make_dossier(
        "2026-SCH-001",
        status=DossierStatus.ACTIVE,
        end_on=date(2026, 3, 31),
        auto_renewal=True,
        option_months=12,
        notice_value=1,
        notice_unit=NoticeUnit.MONTHS,
    )
    client = app.test_client(user=admin)
    register = client.get("/").text
    assert "31 maart 2027" in register and "28 februari 2027" in register
    assert "2026" not in register.split("2026-SCH-001")[2].split("</tr>")[0]
    page = client.get("/dossiers/2026-SCH-001").text
    assert "de lopende termijn eindigt op 31 maart 2027" in page
    assert "28 februari 2027" in page and "28 februari 2026" not in page
    export = client.get("/register/export.csv").get_data(as_text=True)
    assert "2027-02-28" in export.replace("28-02-2027", "2027-02-28")


def test_ends_within_and_the_end_sort_use_the_running_term_of_a_tacit_renewal(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    app.config["REPORT_DATE"] = TODAY.isoformat()  # 2026-01-15
    renewing = {"status": DossierStatus.ACTIVE, "auto_renewal": True}
    # Recorded end in 2025, renewed by itself each year: the running term ends 2026-03-31.
    make_dossier("2026-R", end_on=date(2025, 3, 31), option_months=12, **renewing)
    # A fixed term that ended in 2025 ends within no horizon.
    make_dossier("2026-F", end_on=date(2025, 3, 31), status=DossierStatus.ACTIVE)
    make_dossier("2026-G", end_on=date(2026, 2, 15), status=DossierStatus.ACTIVE)
    make_dossier("2026-H", end_on=date(2026, 6, 1), status=DossierStatus.ACTIVE)
    client = app.test_client(user=admin)

    def order(query: str) -> list[str]:
        return re.findall(r'<td><a href="/dossiers/[^"]+">(2026-[A-Z])</a></td>', client.get(query).text)  # fmt: skip  # noqa: E501

    assert order("/?ends_within=90") == ["2026-G", "2026-R"]
    assert order("/?ends_within=75") == ["2026-G", "2026-R"]  # 2026-03-31 is day 75
    assert order("/?ends_within=74") == ["2026-G"]
    # The end column shows the running term; the sort orders by what it shows.
    assert order("/?sort=end_on") == ["2026-F", "2026-G", "2026-R", "2026-H"]
    assert order("/?sort=-end_on") == ["2026-H", "2026-R", "2026-G", "2026-F"]
    export = client.get("/register/export.csv?ends_within=90&sort=-end_on").get_data(as_text=True)
    assert [line.split(";")[0].split(",")[0] for line in export.splitlines()[1:]] == [
        "2026-R", "2026-G"
    ]  # fmt: skip


def test_the_running_end_in_sql_is_the_one_python_derives(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """Filter bounds and sort order from SQL agree with `deadlines.current_end`, also where a
    day is clamped to a shorter month (31 January + 1 month) and across leap days."""
    from dossier import deadlines, register

    ends = [
        (date(2025, 1, 31), 1),
        (date(2024, 2, 29), 12),
        (date(2025, 8, 31), 6),
        (date(2025, 12, 30), 2),
        (date(2023, 5, 15), None),  # the default renewal length
        (date(2025, 11, 28), 3),
        (date(2026, 3, 1), 1),  # not yet rolled
        (date(2025, 10, 31), 0),  # no length: the default, as in Python
    ]
    made = [
        make_dossier(f"2026-S{n}", end_on=end, option_months=months, auto_renewal=True)
        for n, (end, months) in enumerate(ends)
    ]
    for today in (date(2026, 1, 15), date(2026, 2, 28), date(2028, 2, 28), date(2026, 1, 31)):
        expected = {d.reference: deadlines.current_end(d, today) for d in made}
        for reference, end in expected.items():
            days = (end - today).days

            def found(within: int, today: date = today) -> set[str]:
                selection = register.Selection(ends_within=within)
                rows = db.session.scalars(register.query(admin, selection, today)).unique()
                return {d.reference for d in rows}

            assert reference in found(days), (today, reference, end)
            if days > 0:
                assert reference not in found(days - 1), (today, reference, end)
        for sort in ("end_on", "-end_on"):
            rows = register.sorted_all(admin, register.Selection(sort=sort), today)
            dates = [deadlines.current_end(d, today) for d in rows]
            assert dates == sorted(dates, reverse=sort.startswith("-")), (today, sort)


def test_the_person_filter_finds_roles_held_through_a_group(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    from dossier import groups, memberships

    gert = make_user("gert@example.org", name="Gert Groep")
    make_user("lid@example.org", name="Alleen Lezer")
    inkoop = groups.create_group(admin, "Inkoop", [gert])
    lezers = groups.create_group(admin, "Lezers", [])
    held = make_dossier("2026-G1")
    memberships.set_role(admin, held, inkoop, MemberRole.MANAGER)
    read = make_dossier("2026-G2")
    memberships.set_role(admin, read, lezers, MemberRole.READER)
    groups.add_member(admin, lezers, gert)
    make_dossier("2026-G3")
    db.session.commit()
    client = app.test_client(user=admin)
    page = client.get(f"/?person={gert.id}").text
    assert re.findall(r'<td><a href="/dossiers/[^"]+">(2026-G\d)</a></td>', page) == ["2026-G1"]
    # The filter offers the person, who holds the role only through the group.
    assert f'<option value="{gert.id}" selected>Gert Groep</option>' in page
    assert "Alleen Lezer" not in page


# Pages of the register.


def test_register_pages_keep_filters_and_sort(app: Flask, admin: User) -> None:
    from dossier import dossiers
    from dossier.extensions import db

    for i in range(1, 103):
        status = "active" if i % 2 else "draft"
        dossiers.create_dossier(
            admin, {"reference": f"2024-{i:03d}", "title": f"Contract {i}", "status": status}
        )
    db.session.commit()
    client = app.test_client(user=admin)
    first = client.get("/?sort=-reference").text
    assert "102 dossiers" in first and "Pagina 1 van 2" in first
    assert "2024-102" in first and "2024-002<" not in first
    assert 'href="/?sort=-reference&amp;page=2"' in first
    second = client.get("/?sort=-reference&page=2").text
    assert "2024-002<" in second and "2024-001<" in second and "2024-102<" not in second
    active = client.get("/?status=active&page=9").text  # beyond the end: the last page
    assert "51 dossiers" in active and "2024-001<" in active and "Pagina" not in active
