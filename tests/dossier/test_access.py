"""`dossier/access.py`, the access policy as the web applies it: deny by default (every route is
named by the policy, an unnamed one is refused, anonymous users are sent to log in); a dossier
the user may not see is 404 everywhere, a forbidden action on a visible one 403 with a page that
names the missing role; a confidential document is invisible to a reader and to an
administrator without a role in its dossier, while auditors read it (audited) and change
nothing. The full role × endpoint matrix is in test_access_matrix.py."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import access, documents, indexing, memberships
from dossier.extensions import db
from dossier.models import Confidentiality, DocumentKind, Dossier, GlobalRole, MemberRole, User
from tests.dossier.helpers import _events


def test_every_endpoint_is_named_by_the_policy(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - access.ENDPOINTS.keys())
    assert missing == [], f"endpoints without an access rule: {missing}"
    stale = sorted(access.ENDPOINTS.keys() - endpoints)
    assert stale == [], f"policy names endpoints that do not exist: {stale}"


def test_an_endpoint_the_policy_does_not_name_is_refused(app: Flask, admin: User) -> None:
    app.add_url_rule("/sneaky", "sneaky", lambda: "secret")
    response = app.test_client(user=admin).get("/sneaky")
    assert response.status_code == 404 and "secret" not in response.text


def _sample(rule: Any, name: str) -> str:
    """A value the rule's converter accepts: one of its words for any(...), else "1"."""
    words = getattr(rule._converters.get(name), "items", None)
    return sorted(words)[0] if words else "1"


def test_every_non_public_get_route_sends_anonymous_users_to_login(app: Flask) -> None:
    """...and every API route asks them for a bearer token (401), sending nobody anywhere."""
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if access.ENDPOINTS[rule.endpoint] == access.PUBLIC or "GET" not in rule.methods:
            continue
        url = rule.build({name: _sample(rule, name) for name in rule.arguments})[1]
        response = client.get(url)
        if access.ENDPOINTS[rule.endpoint] == access.TOKEN:
            assert response.status_code == 401, url
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), url
            continue
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


# Hidden is 404, forbidden is 403, and the 403 page names the role that is missing.


def test_a_global_page_refused_for_a_missing_role_names_the_role(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., object]
) -> None:
    response = app.test_client(user=admin).get("/audit")  # an admin is not an auditor
    assert response.status_code == 403
    assert "rol auditor" in response.text
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
    assert refused.status_code == 403 and "voor auditors" in refused.text
    english = app.test_client(user=admin)
    english.post("/language", data={"lang": "en"})
    assert "auditor role" in english.get("/audit").text


@pytest.fixture
def setting(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, object]:
    reader, outsider = make_user("reader@example.org"), make_user("outsider@example.org")
    dossier = make_dossier("2025-050", members={reader: MemberRole.READER})
    with documents.receive(io.BytesIO(b"open\n"), "open.txt") as upload:
        normal = documents.file_document(admin, dossier, upload, kind=DocumentKind.OTHER)
    with documents.receive(io.BytesIO(b"secret prices\n"), "prices.txt") as upload:
        secret = documents.file_document(
            admin,
            dossier,
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    return {"reader": reader, "outsider": outsider, "normal": normal.id, "secret": secret.id}


def test_outsider_gets_404_everywhere(app: Flask, setting: dict) -> None:
    client = app.test_client(user=setting["outsider"])
    for url in [
        "/dossiers/2025-050",
        "/dossiers/2025-050/edit",
        "/dossiers/2025-050/documents/new",
        f"/dossiers/2025-050/documents/{setting['normal']}",
        f"/dossiers/2025-050/documents/{setting['normal']}/versions/1/download",
        "/dossiers/does-not-exist",
    ]:
        assert client.get(url).status_code == 404, url
    assert "2025-050" not in client.get("/").text


def test_reader_reads_but_may_not_file_or_edit(app: Flask, setting: dict) -> None:
    client = app.test_client(user=setting["reader"])
    assert client.get("/dossiers/2025-050").status_code == 200
    assert client.get("/dossiers/2025-050/edit").status_code == 403
    assert client.get("/dossiers/2025-050/documents/new").status_code == 403
    response = client.post(
        "/dossiers/2025-050/documents/new",
        data={"file": (io.BytesIO(b"x\n"), "x.txt"), "kind": "other", "confidentiality": "normal"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403


def test_confidential_document_is_invisible_to_a_reader(app: Flask, setting: dict) -> None:
    client = app.test_client(user=setting["reader"])
    assert "prices.txt" not in client.get("/dossiers/2025-050").text
    base = f"/dossiers/2025-050/documents/{setting['secret']}"
    assert client.get(base).status_code == 404
    assert client.get(base + "/versions/1/download").status_code == 404


def test_document_of_another_dossier_is_not_reachable_through_this_one(
    app: Flask, admin: User, setting: dict, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-051", members={setting["reader"]: MemberRole.READER})
    client = app.test_client(user=setting["reader"])
    assert client.get(f"/dossiers/2025-051/documents/{setting['normal']}").status_code == 404


def test_anonymous_is_sent_to_login(app: Flask) -> None:
    response = app.test_client().get("/dossiers/2025-050")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# Admin is not a reader of confidential documents; auditors are, and their reads are logged


def test_admin_does_not_read_confidential_documents_unless_granted(
    app: Flask, admin: User, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    auditor = make_user("audit@example.org", GlobalRole.AUDITOR)
    with documents.receive(io.BytesIO(b"prijzen\n"), "prijzen.txt") as upload:
        secret = documents.file_document(
            beheerder,
            dossier,
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    indexing.drain()  # the text is extracted, so the document page shows it
    url = f"/dossiers/2025-010/documents/{secret.id}"
    admin_client = app.test_client(user=admin)
    assert admin_client.get("/dossiers/2025-010").status_code == 200
    assert "prijzen" not in admin_client.get("/dossiers/2025-010").text
    assert admin_client.get(url).status_code == 404
    assert admin_client.get(url + "/versions/1/download").status_code == 404

    reads = len(_events("version.read"))
    response = app.test_client(user=auditor).get(url + "/versions/1/download")
    assert response.status_code == 200
    response.close()
    read = _events("version.read")
    assert len(read) == reads + 1 and read[-1].actor_id == auditor.id

    shown = app.test_client(user=auditor).get(url)
    assert shown.status_code == 200 and "prijzen" in shown.text
    assert len(_events("version.read")) == reads + 2, "reading the text on the page is a read"
    compared = app.test_client(user=auditor).get(url + "/compare?old=1&new=1")
    assert compared.status_code == 200
    assert len(_events("version.read")) == reads + 3, "a comparison shows the text too"

    memberships.set_role(admin, dossier, admin, MemberRole.OWNER)
    db.session.commit()
    assert admin_client.get(url).status_code == 200


def test_an_auditor_changes_nothing_even_with_a_dossier_role(
    app: Flask, beheerder: User, make_user: Callable[..., User], dossier: Dossier
) -> None:
    auditor = make_user("audit@example.org", GlobalRole.AUDITOR)
    memberships.set_role(beheerder, dossier, auditor, MemberRole.BEHEERDER)
    db.session.commit()
    client = app.test_client(user=auditor)
    assert client.get("/dossiers/2025-010").status_code == 200
    assert client.get("/dossiers/2025-010/audit").status_code == 200
    for url in ("/dossiers/2025-010/edit", "/dossiers/2025-010/documents/new"):
        assert client.get(url).status_code == 403, url
    grant = client.post(
        "/dossiers/2025-010/members", data={"principal": auditor.email, "role": "reader"}
    )
    assert grant.status_code == 403
    assert memberships.membership_of(dossier, auditor).role == MemberRole.BEHEERDER


# The portfolio role (contractmanagement): every dossier's register data, reports and normal
# documents without a membership; never a confidential document; changes nothing.


@pytest.fixture
def portfolio(make_user: Callable[..., User]) -> User:
    return make_user("portfolio@example.org", GlobalRole.PORTFOLIO)


def test_portfolio_reads_every_dossier_but_no_confidential_document(
    app: Flask, setting: dict, portfolio: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-052", status="active")
    client = app.test_client(user=portfolio)
    register = client.get("/").text
    assert "2025-050" in register and "2025-052" in register
    page = client.get("/dossiers/2025-050")
    assert page.status_code == 200 and "open.txt" in page.text and "prices.txt" not in page.text
    normal = f"/dossiers/2025-050/documents/{setting['normal']}"
    assert client.get(normal).status_code == 200
    download = client.get(normal + "/versions/1/download")
    assert download.status_code == 200
    download.close()
    secret = f"/dossiers/2025-050/documents/{setting['secret']}"
    for url in (
        secret,
        secret + "/versions/1/download",
        secret + "/versions/1/view",
        secret + "/compare?old=1&new=1",
        secret + "/status",
    ):
        assert client.get(url).status_code == 404, url
    both = client.post(
        "/dossiers/2025-050/documents/download",
        data={"ids": [setting["normal"], setting["secret"]]},
    )
    assert both.status_code == 303 and both.mimetype != "application/zip"  # all or nothing
    assert not any(e.actor_id == portfolio.id for e in _events("version.read"))
    # Not the audit trail, the members or the administration: those are other roles'.
    assert client.get("/dossiers/2025-050/audit").status_code == 403
    assert client.get("/dossiers/2025-050/members").status_code == 403
    assert client.get("/audit").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert (
        access.visible_documents(portfolio).where(access.Document.id == setting["secret"]).exists()
        is not None
    )
    readable = {d.id for d in db.session.scalars(access.visible_documents(portfolio))}
    assert setting["normal"] in readable and setting["secret"] not in readable


def test_portfolio_changes_nothing(app: Flask, setting: dict, portfolio: User, admin: User) -> None:
    client = app.test_client(user=portfolio)
    for url in ("/dossiers/2025-050/edit", "/dossiers/2025-050/documents/new", "/dossiers/new"):
        assert client.get(url).status_code == 403, url
    posts = {
        "/dossiers/2025-050/edit": {"reference": "2025-050", "title": "Weg", "status": "active"},
        "/dossiers/2025-050/documents/new": {
            "file": (io.BytesIO(b"x\n"), "x.txt"),
            "kind": "correspondence",
            "confidentiality": "normal",
        },
        f"/dossiers/2025-050/documents/{setting['normal']}/withdraw": {"reason": "weg"},
        f"/dossiers/2025-050/documents/{setting['normal']}/edit": {"title": "Weg", "kind": "other"},
        "/dossiers/2025-050/members": {"principal": portfolio.email, "role": "beheerder"},
        "/dossiers/2025-050/performance": {
            "name": "Beschikbaarheid",
            "norm": "99",
            "direction": "higher",
            "period": "month",
        },
        "/dossiers/new": {"reference": "2025-099", "title": "Nieuw", "status": "draft"},
    }
    events = len(_events("dossier.update")) + len(_events("document.create"))
    for url, data in posts.items():
        response = client.post(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 403, url
    assert len(_events("dossier.update")) + len(_events("document.create")) == events
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == "2025-050"))
    assert memberships.membership_of(dossier, portfolio) is None
    assert dossier.title != "Weg" and not access.can_edit_dossier(portfolio, dossier)


def test_portfolio_with_a_membership_keeps_what_the_membership_gives(
    app: Flask, admin: User, setting: dict, portfolio: User, make_dossier: Callable[..., Dossier]
) -> None:
    """The role adds reading; a dossier role on top gives that dossier's rights, as for anyone."""
    owned = make_dossier("2025-053", members={portfolio: MemberRole.OWNER})
    with documents.receive(io.BytesIO(b"own secret\n"), "eigen.txt") as upload:
        mine = documents.file_document(
            admin,
            owned,
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    client = app.test_client(user=portfolio)
    assert client.get(f"/dossiers/2025-053/documents/{mine.id}").status_code == 200
    assert client.get(f"/dossiers/2025-050/documents/{setting['secret']}").status_code == 404


def test_the_portfolio_role_is_given_in_the_admin_pages_and_the_cli(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    manager = make_user("marieke@example.org")
    admin_client = app.test_client(user=admin)
    users_page = admin_client.get(f"/admin/users/{manager.id}").text
    assert 'value="portfolio"' in users_page and "Contractmanagement" in users_page
    set_role = admin_client.post(f"/admin/users/{manager.id}/role", data={"role": "portfolio"})
    assert set_role.status_code == 302
    db.session.refresh(manager)
    assert manager.global_role == GlobalRole.PORTFOLIO
    (event,) = [e for e in _events("user.role_change") if e.object_id == manager.id]
    assert event.after["role"] == "portfolio"
    runner = app.test_cli_runner()
    from dossier.cli import cli

    result = runner.invoke(cli, ["set-role", "marieke@example.org", "none"])
    assert result.exit_code == 0, result.output
    db.session.refresh(manager)
    assert manager.global_role is None
    made = runner.invoke(
        cli,
        ["create-user", "piet@example.org", "--role", "portfolio", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert made.exit_code == 0, made.output
    refused = runner.invoke(
        cli, ["set-role", "piet@example.org", "admin", "--as", "piet@example.org"]
    )
    assert refused.exit_code != 0 and "not an administrator" in refused.output
