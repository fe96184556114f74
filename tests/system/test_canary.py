"""R5: a canary word planted in a dossier a user may not read appears nowhere for that user, on
every surface this application has (register page, both search tabs with their counts, facets
and snippets, `dossier search --as`, `dossier register export --as` as CSV and XLSX, the
dossier and member pages, the audit viewer, the dashboard, every report page and report export
as CSV and XLSX, `dossier report --as` in every format, the daily digest and the personal
iCalendar feed, the performance pages, scorecard and exports), and it disappears at once after
a revoke. The portfolio role (contractmanagement) sees every dossier's canary but never the
confidential one.

Each check is paired with a positive control: the same surface shows the canary to someone who
may read it, so an empty page cannot pass for a safe one."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from openpyxl import load_workbook

from dossier import (
    access,
    calendar_feed,
    digest,
    documents,
    dossiers,
    indexing,
    memberships,
    performance,
    reports,
)
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    Category,
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    DossierStatus,
    GlobalRole,
    Kpi,
    MemberRole,
    NoticeUnit,
    User,
)
from tests.conftest import PASSWORD

CANARY = "zwartekraai"  # in the forbidden dossier: title, supplier, tag, text, clause, filename
SECRET = "blauwereiger"  # in a confidential document of the open dossier
TODAY = date(2026, 1, 15)  # reports, digest and feed are computed as of this day


def _contract(end_on: date) -> dict[str, Any]:
    """Contract data that gives deadlines in every report: an end within the digest window, a
    missed notice deadline, reviews, and a value that needs a new European tender."""
    return {
        "status": DossierStatus.ACTIVE,
        "start_on": date(2024, 2, 1),
        "end_on": end_on,
        "notice_value": 1,
        "notice_unit": NoticeUnit.MONTHS,
        "value": Decimal("500000.00"),
        "annual_value": Decimal("125000.00"),
        "category": Category.SERVICES,
        "review_months": 6,
    }


def _file(actor: User, dossier: Dossier, name: str, text: str, **options: Any) -> None:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        documents.file_document(actor, dossier, upload, kind=DocumentKind.CONTRACT, **options)


@pytest.fixture
def world(app: Flask, make_user: Callable[..., User]) -> dict[str, Any]:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    people = {
        "bea": make_user("bea@example.org", GlobalRole.BEHEERDER),
        "keeper": make_user("keeper@example.org", GlobalRole.BEHEERDER),
        "reader": make_user("reader@example.org"),
        "owner": make_user("owner@example.org"),
        "plain": make_user("plain@example.org"),
        "admin": make_user("root@example.org", GlobalRole.ADMIN),
        "auditor": make_user("auditor@example.org", GlobalRole.AUDITOR),
        "portfolio": make_user("portfolio@example.org", GlobalRole.PORTFOLIO),
    }
    open_dossier = dossiers.create_dossier(
        people["bea"],
        {
            "reference": "2025-017",
            "title": "Schoonmaak",
            "supplier": "Conduction",
            **_contract(date(2026, 2, 20)),
        },
    )
    for role in ("reader", "owner"):
        memberships.set_role(people["bea"], open_dossier, people[role], MemberRole(role))
    hidden = dossiers.create_dossier(
        people["keeper"],
        {
            "reference": "2025-099",
            "title": f"Project {CANARY.capitalize()}",
            "description": f"Over {CANARY}",
            "supplier": f"{CANARY.capitalize()} B.V.",
            "tags": [CANARY],
            **_contract(date(2026, 2, 10)),
        },
    )
    _file(
        people["bea"],
        open_dossier,
        "overeenkomst.txt",
        "Artikel 1 Looptijd\nDe overeenkomst loopt een jaar.\n",
    )
    _file(
        people["bea"],
        open_dossier,
        f"prijzen-{SECRET}.txt",
        f"Artikel 1 Prijzen\nDe prijs {SECRET} is geheim.\n",
        confidentiality=Confidentiality.CONFIDENTIAL,
        title=f"Prijsblad {SECRET}",
    )
    _kpis(people, open_dossier, hidden)
    _file(
        people["keeper"],
        hidden,
        f"{CANARY}.txt",
        f"Artikel 1 {CANARY.capitalize()}\nDe overeenkomst over {CANARY} loopt een jaar.\n",
        title=f"Overeenkomst {CANARY}",
    )
    db.session.commit()
    indexing.drain()
    return {**people, "open": open_dossier, "hidden": hidden}


def _kpis(people: dict[str, User], open_dossier: Dossier, hidden: Dossier) -> None:
    """A KPI in each dossier: the open one measured from the confidential price sheet (whose
    title holds SECRET), the hidden one named after the canary."""
    values = {"norm": Decimal("99.5"), "direction": "higher", "period": "month"}
    mine = performance.create_kpi(
        people["bea"], open_dossier, {"name": "Beschikbaarheid", **values}
    )
    secret = db.session.scalar(sa.select(Document).where(Document.title.contains(SECRET)))
    performance.record_measurement(
        people["bea"],
        mine,
        {"period": "2026-01", "value": Decimal("98"), "document_id": secret.id},
    )
    theirs = performance.create_kpi(people["keeper"], hidden, {"name": f"{CANARY} KPI", **values})
    performance.record_measurement(
        people["keeper"],
        theirs,
        {"period": "2026-01", "value": Decimal("99"), "penalty_amount": Decimal("100")},
    )


def _cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _xlsx_text(path: Path) -> str:
    workbook = load_workbook(path, read_only=True)
    cells = [str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row]
    workbook.close()
    return " ".join(cells)


def surfaces(
    app: Flask, user: User, word: str, tmp_path: Path, feed_token: str | None = None
) -> dict[str, str]:
    """Everything `user` can see that might carry `word`, surface by surface. Queries use a
    prefix of the word, so a page that repeats the query back does not count as a leak."""
    client = app.test_client(user=user)
    prefix = word[:-2]
    word = prefix + "*"
    texts = {
        "register": client.get("/").text,
        "register filtered": client.get("/", query_string={"q": prefix}).text,
        "open dossier page": client.get("/dossiers/2025-017").text,
    }
    for mode in ("documents", "clauses"):
        texts[f"search {mode}"] = client.get("/search", query_string={"q": word, "mode": mode}).text
        # A word every dossier shares: facets and snippets of the other hits must not leak.
        texts[f"search {mode} facets"] = client.get(
            "/search", query_string={"q": "overeenkomst", "mode": mode}
        ).text
        texts[f"search {mode} supplier filter"] = client.get(
            "/search",
            query_string={
                "q": "overeenkomst",
                "mode": mode,
                "supplier": f"{CANARY.capitalize()} B.V.",
            },
        ).text
    texts["search in dossier"] = client.get(
        "/search", query_string={"q": word, "dossier": "2025-099"}
    ).text
    for flags in ([], ["--clauses"]):
        texts[f"cli search {flags}"] = _cli(
            app, "search", word, "--as", user.email, "--json", *flags
        )
    for suffix in ("csv", "xlsx"):
        path = tmp_path / f"{user.id}-register.{suffix}"
        _cli(app, "register", "export", str(path), "--as", user.email)
        texts[f"register export {suffix}"] = (
            path.read_text(encoding="utf-8-sig") if suffix == "csv" else _xlsx_text(path)
        )
    for url in (
        "/audit",
        "/audit/export.csv",
        "/dossiers/2025-017/audit",
        "/dossiers/2025-017/members",
    ):
        response = client.get(url)
        texts[url] = response.text if response.status_code == 200 else ""
    texts.update(performance_surfaces(app, user))
    texts.update(report_surfaces(app, user, tmp_path, feed_token))
    return texts


def performance_surfaces(app: Flask, user: User) -> dict[str, str]:
    """Both dossiers' performance pages, every KPI page, the dossier exports, the scorecard."""
    client = app.test_client(user=user)
    texts = {}
    urls = ["/performance", "/performance?supplier=1", "/performance?supplier=2"]
    for reference in ("2025-017", "2025-099"):
        urls += [
            f"/dossiers/{reference}/performance",
            f"/dossiers/{reference}/performance/export.csv",
        ]
    for kpi in db.session.scalars(sa.select(Kpi)):
        urls.append(f"/dossiers/{kpi.dossier.reference}/performance/{kpi.id}")
    for url in urls:
        response = client.get(url)
        texts[url] = response.get_data(as_text=True) if response.status_code == 200 else ""
    return texts


def report_surfaces(
    app: Flask, user: User, tmp_path: Path, feed_token: str | None = None
) -> dict[str, str]:
    """The dashboard, reports, report exports (web and CLI), digest and calendar feed (through
    `feed_token`, else a new token of `user`)."""
    client = app.test_client(user=user)
    texts = {}
    for url in (
        "/overview",
        "/reports/deadlines",
        "/reports/tenders",
        "/reports/value",
        "/reports/completeness",
        "/reports/activity",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        texts[url] = response.text
    for name in reports.TABLE_NAMES:
        for kind in ("csv", "xlsx"):
            response = client.get(f"/reports/export/{name}.{kind}")
            if name == "spend_without_contract" and not access.can_view_unattributed_spend(
                db.session.get(User, user.id)
            ):
                # Only the portfolio roles have it (tests/dossier/web/test_spend.py).
                assert response.status_code == 404, (name, kind)
                continue
            assert response.status_code == 200, (name, kind)
            if kind == "csv":
                texts[f"export {name}.csv"] = response.data.decode("utf-8-sig")
            else:
                path = tmp_path / f"{user.id}-{name}.xlsx"
                path.write_bytes(response.data)
                texts[f"export {name}.xlsx"] = _xlsx_text(path)
    for name in ("deadlines", "tenders", "value", "completeness", "kpis", "scorecard"):
        for fmt in ("csv", "json"):
            texts[f"cli report {name} {fmt}"] = _cli(
                app, "report", name, "--as", user.email, "--format", fmt
            )
        path = tmp_path / f"{user.id}-report-{name}.xlsx"
        _cli(app, "report", name, "--as", user.email, "--format", "xlsx", "--output", str(path))
        texts[f"cli report {name} xlsx"] = _xlsx_text(path)
    texts["digest"] = digest.render_text(digest.compose(user, TODAY))
    texts["cli digest"] = _digest_of(_cli(app, "digest", "--date", TODAY.isoformat()), user)
    if feed_token is None:
        feed_token = calendar_feed.create_token(db.session.get(User, user.id))
        db.session.commit()
    texts["calendar feed"] = _feed(app, feed_token)
    return texts


def _digest_of(output: str, user: User) -> str:
    """The part of `dossier digest` output addressed to `user` (empty when none is)."""
    parts = re.split(r"^To: ", output, flags=re.MULTILINE)
    return "".join(p for p in parts if p.startswith(f"{user.email}\n"))


def _feed(app: Flask, token: str) -> str:
    """The iCalendar feed behind `token` (no session needed), its folded lines unfolded."""
    response = app.test_client().get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return response.data.decode().replace("\r\n ", "")


def _leaks(texts: dict[str, str], word: str) -> list[str]:
    """The surfaces that show `word`, apart from the page's own address echoed back for the
    language switch (it holds the query the user typed, not anything found)."""
    return [name for name, text in texts.items() if word in _without_echo(text).lower()]


def _without_echo(text: str) -> str:
    return re.sub(r'name="next" value="[^"]*"', "", text)


def test_canary_of_a_forbidden_dossier_is_nowhere(app: Flask, world: dict, tmp_path: Path) -> None:
    for who in ("reader", "owner", "plain", "bea"):
        texts = surfaces(app, world[who], CANARY, tmp_path)
        assert _leaks(texts, CANARY) == [], who
        assert _leaks(texts, "2025-099") == [], who
    control = surfaces(app, world["keeper"], CANARY, tmp_path)
    assert {
        "register",
        "search documents",
        "search clauses",
        "cli search []",
        "cli search ['--clauses']",
        "register export csv",
        "register export xlsx",
        *REPORT_SURFACES,
    } <= set(_leaks(control, CANARY))


# The report surfaces that carry a dossier's title or supplier: each must show the canary to
# someone who may read the dossier, or it proves nothing for those who may not.
REPORT_SURFACES = {
    "/overview",
    "/reports/deadlines",
    "/reports/tenders",
    "/reports/value",
    "/reports/completeness",
    *(f"export {n}.{k}" for n in ("deadlines", "tenders", "completeness") for k in ("csv", "xlsx")),
    *(
        f"export {n}.{k}"
        for n in ("value", "value_supplier", "top_suppliers")
        for k in ("csv", "xlsx")
    ),
    *(
        f"cli report {n} {f}"
        for n in ("deadlines", "tenders", "completeness")
        for f in ("csv", "json", "xlsx")
    ),
    *(f"cli report value {f}" for f in ("csv", "json", "xlsx")),
    *(f"export {n}.{k}" for n in ("kpis", "scorecard") for k in ("csv", "xlsx")),
    *(f"cli report {n} {f}" for n in ("kpis", "scorecard") for f in ("csv", "json", "xlsx")),
    "digest",
    "cli digest",
    "calendar feed",
}


def test_confidential_canary_only_for_confidential_roles(
    app: Flask, world: dict, tmp_path: Path
) -> None:
    # admin: not a reader of confidential documents; portfolio: reads every dossier, no
    # confidential document (the KPI measured from the price sheet does not name it either).
    for who in ("reader", "plain", "admin", "portfolio"):
        assert _leaks(surfaces(app, world[who], SECRET, tmp_path), SECRET) == [], who
    for who in ("owner", "bea", "auditor"):
        leaks = set(_leaks(surfaces(app, world[who], SECRET, tmp_path), SECRET))
        assert {"search documents", "search clauses", "open dossier page"} <= leaks, who


def test_canary_disappears_at_once_after_revoke(app: Flask, world: dict, tmp_path: Path) -> None:
    reader = world["reader"]
    token = calendar_feed.create_token(reader)  # made before the grant, kept after the revoke
    db.session.commit()
    _cli(app, "grant", reader.email, "2025-099", "manager")  # a manager also gets the digest
    granted = set(_leaks(surfaces(app, reader, CANARY, tmp_path, token), CANARY))
    assert {
        "register",
        "search documents",
        "cli search []",
        "register export csv",
        *REPORT_SURFACES,
    } <= granted
    keeper = app.test_client(user=world["keeper"])
    membership = memberships.membership_of(world["hidden"], reader)
    assert keeper.post(f"/dossiers/2025-099/members/{membership.id}/remove").status_code == 302
    assert _leaks(surfaces(app, reader, CANARY, tmp_path, token), CANARY) == []
    assert app.test_client(user=reader).get("/dossiers/2025-099").status_code == 404


def test_login_and_language_next_stay_on_this_site(app: Flask, world: dict) -> None:
    for target in (
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
        "//evil.example/%2F..",
    ):
        response = app.test_client().post(
            "/login",
            query_string={"next": target},
            data={"email": "reader@example.org", "password": PASSWORD},
        )
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"], target
        language = app.test_client().post("/language", data={"lang": "en", "next": target})
        assert "evil" not in language.headers["Location"], target


def test_mass_assignment_in_forms_is_ignored(app: Flask, world: dict) -> None:
    reader, bea = world["reader"], world["bea"]
    reader_client = app.test_client(user=reader)
    new = "another long passphrase"
    reader_client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
            "is_admin": "true",
            "global_role": "admin",
        },
    )
    assert (
        app.test_client(user=bea)
        .post(
            "/dossiers/2025-017/members",
            data={
                "principal": "plain@example.org",
                "role": "reader",
                "global_role": "admin",
                "is_admin": "true",
            },
        )
        .status_code
        == 302
    )
    bea_client = app.test_client(user=bea)
    bea_client.post(
        "/dossiers/2025-017/edit",
        data={
            "reference": "2025-017",
            "title": "Schoonmaak",
            "status": "active",
            "confidentiality": "normal",
            "global_role": "admin",
            "is_admin": "true",
        },
    )
    db.session.expire_all()
    for user in (reader, bea, world["plain"]):
        refreshed = db.session.get(User, user.id)
        assert not refreshed.is_admin, user.email
    assert app.test_client(user=reader).get("/admin/users").status_code == 403


# Every surface of every dossier that the portfolio role must see: each one that shows the
# hidden dossier's canary to its own keeper shows it to the portfolio user too.
PERFORMANCE_SURFACES = {
    "/performance",
    "/dossiers/2025-099/performance",
    "/dossiers/2025-099/performance/export.csv",
}


def test_the_portfolio_role_sees_every_dossier_without_being_a_member(
    app: Flask, world: dict, tmp_path: Path
) -> None:
    portfolio = world["portfolio"]
    seen = set(_leaks(surfaces(app, portfolio, CANARY, tmp_path), CANARY))
    assert {
        "register",
        "register filtered",
        "search documents",
        "search clauses",
        "search in dossier",
        "cli search []",
        "cli search ['--clauses']",
        "register export csv",
        "register export xlsx",
        "/reports/tenders",
        "/reports/value",
        "/reports/completeness",
        *(f"export {n}.{k}" for n in ("kpis", "scorecard", "tenders") for k in ("csv", "xlsx")),
        *(f"cli report {n} {f}" for n in ("kpis", "scorecard") for f in ("csv", "json", "xlsx")),
        *PERFORMANCE_SURFACES,
    } <= seen
    # Not the audit trail or the member list: those are the auditor's and the beheerder's.
    assert not {"/audit", "/audit/export.csv", "/dossiers/2025-017/audit"} & seen
    client = app.test_client(user=portfolio)
    assert client.get("/dossiers/2025-099").status_code == 200
    assert client.get("/dossiers/2025-099/members").status_code == 403
    control = set(_leaks(surfaces(app, world["keeper"], CANARY, tmp_path), CANARY))
    assert control >= PERFORMANCE_SURFACES
