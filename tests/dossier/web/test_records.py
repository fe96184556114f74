"""Records in the browser's requests and on the command line: the dossier page's retention
panel, the destruction list flow, holds from a selection, the document's category, and the
`import-selection-list`, `propose-disposal`, `purge-disposals` and `report disposal|holds`
commands."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from dossier import documents, records, verify
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    DisposalItemState,
    DisposalList,
    DisposalStatus,
    DocumentKind,
    Dossier,
    GlobalRole,
    MemberRole,
    User,
)
from dossier.services import blob_store


@pytest.fixture(autouse=True)
def shipped(app: Flask) -> None:
    records.ensure_shipped_list()
    db.session.commit()


@pytest.fixture
def archivist(make_user: Callable[..., User]) -> User:
    return make_user("archivaris@example.org", GlobalRole.ARCHIVIST, "Anna Archivaris")


@pytest.fixture
def invoke(app: Flask) -> Callable[..., Result]:
    runner: FlaskCliRunner = app.test_cli_runner()

    def run(*args: str) -> Result:
        result = runner.invoke(cli, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    return run


def _ended(
    make_dossier: Callable[..., Dossier], reference: str, end: date, **kw: object
) -> Dossier:
    return make_dossier(reference, status="ended", end_on=end, category="services", **kw)


def test_the_dossier_page_shows_category_disposal_date_and_hold(
    make_dossier: Callable[..., Dossier],
    make_user: Callable[..., User],
    archivist: User,
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    beheerder = make_user("b@example.org")
    dossier = _ended(
        make_dossier, "W-001", date(2012, 3, 31), members={beheerder: MemberRole.BEHEERDER}
    )
    page = client_for(beheerder).get("/dossiers/W-001").get_data(as_text=True)
    assert "<dd>16.1 · Overeenkomsten aangaan - Aangegaan (bijv." in page
    assert '<dd id="disposal-date"><strong>31 maart 2022</strong></dd>' in page
    client = client_for(beheerder)
    refused = client.post("/dossiers/W-001/retention", data={"category": "16.1.5", "reason": ""})
    assert refused.status_code == 302 and records.category_of(dossier)[0].code == "16.1"
    client.post("/dossiers/W-001/retention", data={"category": "16.1.5", "reason": "verzekering"})
    assert records.category_of(dossier) == (records.category_by_code("16.1.5"), False)
    assert client.post("/dossiers/W-001/hold", data={"reason": "x"}).status_code == 403
    client_for(archivist).post("/dossiers/W-001/hold", data={"reason": "Rechtszaak Jansen"})
    page = client_for(beheerder).get("/dossiers/W-001").get_data(as_text=True)
    assert "Rechtszaak Jansen" in page
    holds = client_for(archivist).get("/records/holds").get_data(as_text=True)
    assert "W-001" in holds and "Rechtszaak Jansen" in holds


def test_the_destruction_flow_through_the_pages(
    make_dossier: Callable[..., Dossier],
    make_user: Callable[..., User],
    admin: User,
    archivist: User,
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    for reference, end in (("W-010", date(2014, 1, 31)), ("W-011", date(2015, 5, 1))):
        dossier = _ended(make_dossier, reference, end)
        with documents.receive(io.BytesIO(f"contract {reference}\n".encode()), "c.txt") as up:
            documents.file_document(admin, dossier, up, kind=DocumentKind.CONTRACT)
    db.session.commit()
    second = make_user("archivaris2@example.org", GlobalRole.ARCHIVIST)
    proposer = client_for(archivist)
    response = proposer.post("/records/disposals")
    listing = db.session.scalars(sa.select(DisposalList)).one()
    assert response.headers["Location"].endswith(f"/records/disposals/{listing.id}")
    assert [i.reference for i in listing.items] == ["W-010", "W-011"]
    item = listing.items[1]
    # The proposer cannot approve their own list.
    proposer.post(f"/records/disposals/{listing.id}/approve")
    db.session.refresh(listing)
    assert listing.status == DisposalStatus.PROPOSED
    reviewer = client_for(second)
    reviewer.post(f"/records/disposals/{listing.id}/items/{item.id}/exclude", data={"reason": ""})
    db.session.refresh(item)
    assert item.state == DisposalItemState.PROPOSED
    reviewer.post(
        f"/records/disposals/{listing.id}/items/{item.id}/exclude", data={"reason": "in geschil"}
    )
    reviewer.post(f"/records/disposals/{listing.id}/approve")
    db.session.refresh(listing)
    assert listing.status == DisposalStatus.APPROVED
    assert [i.state for i in listing.items] == [
        DisposalItemState.QUARANTINED,
        DisposalItemState.EXCLUDED,
    ]
    page = reviewer.get(f"/records/disposals/{listing.id}").get_data(as_text=True)
    assert "in geschil" in page


def test_the_commands_import_propose_purge_and_report(
    make_dossier: Callable[..., Dossier],
    admin: User,
    archivist: User,
    invoke: Callable[..., Result],
    tmp_path: Path,
    app: Flask,
) -> None:
    csv = tmp_path / "lijst.csv"
    csv.write_text(
        "code;description;valuation;retention_years;trigger;for_documents\n"
        "EIGEN-3;Korte termijn;vernietigen;3;contract_end;nee\n",
        "utf-8",
    )
    assert "1 categories added" in invoke("import-selection-list", str(csv)).output
    bad = tmp_path / "fout.csv"
    bad.write_text("code;description;valuation;retention_years\nX;Y;weg;1\n", "utf-8")
    assert invoke("import-selection-list", str(bad)).exit_code == 1
    short = _ended(make_dossier, "W-020", date(2019, 6, 30))
    records.set_category(admin, short, records.category_by_code("EIGEN-3"), "kort")
    held = _ended(make_dossier, "W-021", date(2010, 1, 1))
    records.place_hold(archivist, held, "Woo-verzoek")
    with documents.receive(io.BytesIO(b"contract W-020\n"), "c.txt") as up:
        document = documents.file_document(admin, short, up, kind=DocumentKind.CONTRACT)
    db.session.commit()
    key = document.current_version.blob_key

    report = json.loads(
        invoke(
            "report", "disposal", "--as", archivist.email, "--json", "--date", "2022-07-01"
        ).output
    )
    assert [(r["reference"], r["disposal_on"]) for r in report] == [("W-020", "2022-06-30")]
    holds = json.loads(invoke("report", "holds", "--as", archivist.email, "--json").output)
    assert [(r["reference"], r["reason"]) for r in holds] == [("W-021", "Woo-verzoek")]

    outcome = json.loads(invoke("propose-disposal", "--date", "2022-07-01", "--json").output)
    assert outcome["proposed"] == ["W-020"]
    listing = db.session.get(DisposalList, outcome["proposed_list"])
    app.config["DISPOSAL_GRACE_DAYS"] = 0
    records.approve(archivist, listing)
    db.session.commit()
    assert json.loads(invoke("purge-disposals", "--json").output) == {
        "lists_destroyed": 1,
        "blobs_removed": 1,
    }
    assert not blob_store().exists(key)
    assert verify.run(blob_store()).problems == []
    result = invoke("verify")
    assert result.exit_code == 0, result.output
    assert "1 destroyed" in result.output


def test_the_register_list_holds_its_dossiers_all_or_nothing(
    make_dossier: Callable[..., Dossier],
    make_user: Callable[..., User],
    archivist: User,
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    make_dossier("W-030", title="Schoonmaak")
    make_dossier("W-031", title="Schoonmaak kantoor")
    client = client_for(archivist)
    page = client.get("/?q=Schoonmaak").get_data(as_text=True)
    assert 'name="references" value="W-030"' in page and 'value="W-031"' in page
    assert (
        client.post(
            "/records/holds", data={"references": ["W-030", "NOPE-1"], "reason": "onderzoek"}
        ).status_code
        == 404
    )
    assert records.holds() == []
    client.post("/records/holds", data={"references": ["W-030", "W-031"], "reason": "onderzoek"})
    assert sorted(h.dossier.reference for h in records.holds()) == ["W-030", "W-031"]
    plain = client_for(make_user("p@example.org")).get("/").get_data(as_text=True)
    assert 'name="references"' not in plain


def test_the_archivist_role_is_set_from_the_command_line_and_the_trail_names_the_objects(
    make_dossier: Callable[..., Dossier],
    make_user: Callable[..., User],
    archivist: User,
    admin: User,
    invoke: Callable[..., Result],
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    user = make_user("nieuw@example.org")
    assert invoke("set-role", user.email, "archivist", "--as", admin.email).exit_code == 0
    db.session.refresh(user)
    assert user.global_role == GlobalRole.ARCHIVIST
    dossier = make_dossier("W-040")
    records.place_hold(archivist, dossier, "onderzoek")
    db.session.commit()
    trail = client_for(make_user("audit@example.org", GlobalRole.AUDITOR)).get("/audit")
    assert "Juridische blokkade op W-040" in trail.get_data(as_text=True)


def test_a_document_gets_its_own_category_through_the_edit_form(
    make_dossier: Callable[..., Dossier],
    make_user: Callable[..., User],
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    beheerder = make_user("b@example.org")
    dossier = _ended(
        make_dossier, "W-050", date(2020, 1, 1), members={beheerder: MemberRole.BEHEERDER}
    )
    with documents.receive(io.BytesIO(b"factuur\n"), "factuur.txt") as up:
        document = documents.file_document(beheerder, dossier, up, kind=DocumentKind.INVOICE)
    db.session.commit()
    client = client_for(beheerder)
    url = f"/dossiers/W-050/documents/{document.id}"
    form = client.get(url + "/edit").get_data(as_text=True)
    assert 'value="18.1"' in form and 'value="16.1"' not in form
    token = documents.edit_token(document)
    values = {"token": token, "kind": "invoice", "title": "Factuur", "confidentiality": "normal"}
    refused = client.post(url + "/edit", data={**values, "retention_category": "16.1"})
    assert refused.status_code == 400 and records.document_category(document) is None
    values["document_date"] = "2021-05-17"
    client.post(url + "/edit", data={**values, "retention_category": "18.1"})
    assert records.document_category(document).code == "18.1"
    page = client.get(url).get_data(as_text=True)
    assert '<dd id="document-disposal-date">17 mei 2028</dd>' in page
