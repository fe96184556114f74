"""The JSON API in process: tokens made on the account page, filing and finding a clause with
one, revocation, scope, problem details, ETags and optimistic locking, pagination, limits."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import indexing, memberships, throttling, tokens
from dossier.extensions import db
from dossier.models import (
    ApiToken,
    AuditEvent,
    Document,
    Dossier,
    GlobalRole,
    MemberRole,
    TokenScope,
    User,
    utcnow,
)

CONTRACT = (
    b"Overeenkomst schoonmaak kantoren\n\n"
    b"Artikel 1 Definities\n"
    b"In deze overeenkomst wordt verstaan onder opdrachtnemer: Schoon BV.\n\n"
    b"Artikel 12 Aansprakelijkheid\n"
    b"12.1 De aansprakelijkheid van opdrachtnemer is beperkt tot het bedrag van de opdracht.\n"
    b"12.2 Opdrachtnemer vrijwaart opdrachtgever tegen aanspraken van derden.\n\n"
    b"Artikel 13 Opzegging\n"
    b"Opdrachtgever kan de overeenkomst opzeggen met een termijn van drie maanden.\n"
)
TOKEN_RE = re.compile(r"dos_[A-Za-z0-9_-]{43}")


def make_token(app: Flask, user: User, scope: str = "read-write") -> str:
    """A token made as a user makes one: on the account page, read back from the page."""
    page = app.test_client(user=user).post(
        "/account/tokens", data={"name": "script", "scope": scope, "days": "30"}
    )
    assert page.status_code == 200, page.text
    assert page.headers["Cache-Control"] == "no-store"
    found = TOKEN_RE.findall(page.text)
    assert len(found) == 1
    return found[0]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def file_contract(client: FlaskClient, token: str, reference: str, **fields: str):
    return client.post(
        f"/api/v1/dossiers/{reference}/documents",
        data={"file": (io.BytesIO(CONTRACT), "overeenkomst.txt"), "kind": "contract", **fields},
        headers=bearer(token),
        content_type="multipart/form-data",
    )


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"] == "about:blank" and body["title"]
    assert "Traceback" not in response.text
    return body


def test_a_token_from_the_account_page_files_a_document_finds_its_clause_until_revoked(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    token = make_token(app, beheerder)
    api = app.test_client()  # no session: the token alone

    filed = file_contract(api, token, dossier.reference, title="Schoonmaakcontract")
    assert filed.status_code == 201, filed.text
    document = filed.get_json()
    assert document["title"] == "Schoonmaakcontract"
    assert document["versions"][0]["extraction_status"] == "pending"
    assert filed.headers["Location"].endswith(f"/documents/{document['id']}")
    assert "Set-Cookie" not in filed.headers  # a token request starts no browser session
    indexing.drain()

    status = api.get(
        f"/api/v1/dossiers/{dossier.reference}/documents/{document['id']}/versions/1",
        headers=bearer(token),
    )
    assert status.get_json()["extraction_status"] == "ok"
    found = api.get(
        "/api/v1/search",
        query_string={"q": "aansprakelijkheid beperkt", "mode": "clauses"},
        headers=bearer(token),
    )
    assert found.status_code == 200, found.text
    hits = found.get_json()["hits"]
    assert hits and hits[0]["document_id"] == document["id"]
    assert hits[0]["clause_number"].startswith("12")
    assert "beperkt tot het bedrag" in hits[0]["text"]
    download = api.get(
        f"/api/v1/dossiers/{dossier.reference}/documents/{document['id']}/versions/1/download",
        headers=bearer(token),
    )
    assert download.status_code == 200 and download.data == CONTRACT
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()

    row = db.session.scalar(sa.select(ApiToken))
    assert row.last_used_at is not None and token not in (row.token_hash, row.prefix)
    page = app.test_client(user=beheerder).post(f"/account/tokens/{row.id}/revoke")
    assert page.status_code == 302
    refused = api.get(
        "/api/v1/search", query_string={"q": "aansprakelijkheid"}, headers=bearer(token)
    )
    assert _problem(refused, 401)
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "api_token")
    )
    assert list(actions) == ["api_token.create", "api_token.revoke"]


def test_the_api_takes_only_bearer_tokens_not_a_session(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    with_session = app.test_client(user=beheerder)
    assert with_session.get("/dossiers/2025-010").status_code == 200
    _problem(with_session.get("/api/v1/dossiers/2025-010"), 401)
    _problem(with_session.post("/api/v1/dossiers", json={"reference": "x", "title": "y"}), 401)
    for header in ("Bearer", "Bearer dos_short", "Basic dXNlcjpwdw==", "Bearer " + "A" * 47):
        _problem(app.test_client().get("/api/v1/dossiers", headers={"Authorization": header}), 401)


def test_expired_disabled_and_read_only_tokens(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    reading = make_token(app, beheerder, "read")
    api = app.test_client()
    assert api.get("/api/v1/dossiers", headers=bearer(reading)).status_code == 200
    body = _problem(file_contract(api, reading, dossier.reference), 403)
    assert "read" in body["detail"]
    assert (
        'error="insufficient_scope"'
        in api.post("/api/v1/dossiers", json={}, headers=bearer(reading)).headers[
            "WWW-Authenticate"
        ]
    )

    writing = make_token(app, beheerder)
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.scope == TokenScope.READ_WRITE))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _problem(api.get("/api/v1/dossiers", headers=bearer(writing)), 401)

    beheerder.is_enabled = False
    db.session.commit()
    _problem(api.get("/api/v1/dossiers", headers=bearer(reading)), 401)


def test_tokens_are_stored_hashed_and_only_their_owner_revokes_them(
    app: Flask, beheerder: User, make_user: Callable[..., User]
) -> None:
    token = make_token(app, beheerder)
    row = db.session.scalar(sa.select(ApiToken))
    assert row.prefix == token[: tokens.PREFIX_LENGTH] and len(row.token_hash) == 64
    assert row.expires_at - utcnow() > timedelta(days=29)
    other = make_user("mallory@example.org")
    assert app.test_client(user=other).post(f"/account/tokens/{row.id}/revoke").status_code == 404
    assert tokens.authenticate(token) is not None
    page = app.test_client(user=beheerder).get("/account/tokens")
    assert row.prefix in page.text and token not in page.text
    bad = app.test_client(user=beheerder).post(
        "/account/tokens", data={"name": "", "scope": "admin", "days": "9999"}
    )
    assert bad.status_code == 400 and not TOKEN_RE.search(bad.text)


def test_register_data_with_etag_and_optimistic_locking(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    token = make_token(app, beheerder)
    api = app.test_client()
    url = f"/api/v1/dossiers/{dossier.reference}"
    read = api.get(url, headers=bearer(token))
    assert read.status_code == 200
    etag = read.headers["ETag"]
    body = read.get_json()
    assert body["beheerder"] == ["bea@example.org"]
    members = api.get(f"{url}/members", headers=bearer(token)).get_json()
    assert members == [
        {"role": "beheerder", "email": "bea@example.org", "name": "Bea Beheer", "group": False}
    ]
    assert api.get(url, headers={**bearer(token), "If-None-Match": etag}).status_code == 304

    change = {
        "title": "Schoonmaak 2026",
        "value": "450000.00",
        "end_on": "2027-12-31",
        "tender_lead_months": 18,
    }
    missing = _problem(api.patch(url, json=change, headers=bearer(token)), 428)
    assert "If-Match" in missing["detail"] and "ETag" in missing["detail"]
    stale = api.patch(url, json=change, headers={**bearer(token), "If-Match": '"stale"'})
    assert "lees ze opnieuw" in _problem(stale, 412)["detail"]  # in the token user's language
    changed = api.patch(url, json=change, headers={**bearer(token), "If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.get_json()["value"] == "450000.00"
    assert changed.get_json()["tender_lead_months"] == 18  # complex ICT: its own lead time
    assert changed.headers["ETag"] != etag
    # The same If-Match again: someone (we) changed it since.
    _problem(
        api.patch(url, json={"title": "Weer"}, headers={**bearer(token), "If-Match": etag}), 412
    )
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "dossier.update")
    ).one()
    assert event.after["title"] == "Schoonmaak 2026"

    fresh = changed.headers["ETag"]
    wrong = api.patch(
        url, json={"is_admin": True, "title": "x"}, headers={**bearer(token), "If-Match": fresh}
    )
    assert "is_admin" in _problem(wrong, 422)["errors"]["json"]
    rule = api.patch(
        url, json={"start_on": "2030-01-01"}, headers={**bearer(token), "If-Match": fresh}
    )
    assert "end_on" in _problem(rule, 422)["errors"]
    as_form = api.patch(url, data={"title": "x"}, headers={**bearer(token), "If-Match": fresh})
    _problem(as_form, 415)


def test_the_same_access_policy_as_the_pages(
    app: Flask, beheerder: User, dossier: Dossier, make_user: Callable[..., User]
) -> None:
    reader = make_user("rita@example.org")
    stranger = make_user("sam@example.org")
    memberships.set_role(beheerder, dossier, reader, MemberRole.READER)
    db.session.commit()
    filed = file_contract(app.test_client(), make_token(app, beheerder), dossier.reference)
    document_id = filed.get_json()["id"]
    api = app.test_client()
    reading, strange = make_token(app, reader), make_token(app, stranger)
    url = f"/api/v1/dossiers/{dossier.reference}"
    assert api.get(url, headers=bearer(reading)).status_code == 200
    _problem(api.get(f"{url}/members", headers=bearer(reading)), 403)  # as the members page
    _problem(api.get(url, headers=bearer(strange)), 404)  # invisible: as if missing
    _problem(file_contract(api, reading, dossier.reference), 403)  # visible, not allowed
    _problem(api.get(f"{url}/documents/{document_id}", headers=bearer(strange)), 404)
    listing = api.get("/api/v1/dossiers", headers=bearer(strange))
    assert listing.get_json() == []
    indexing.drain()
    query = {"q": "aansprakelijkheid", "mode": "clauses"}
    found = api.get("/api/v1/search", query_string=query, headers=bearer(reading)).get_json()
    assert found["total"] > 0
    hidden = api.get("/api/v1/search", query_string=query, headers=bearer(strange)).get_json()
    assert hidden["total"] == 0 and hidden["hits"] == []  # the same permission filter (R5)
    _problem(api.get("/api/v1/audit", headers=bearer(reading)), 403)
    _problem(
        api.post(
            "/api/v1/dossiers",
            json={"reference": "2025-099", "title": "x"},
            headers=bearer(reading),
        ),
        403,
    )


def test_pagination_and_filters(app: Flask, make_user: Callable[..., User]) -> None:
    admin = make_user("root@example.org", GlobalRole.ADMIN)
    from dossier import dossiers

    for number in range(1, 8):
        dossiers.create_dossier(admin, {"reference": f"2025-{number:03}", "title": f"C {number}"})
    db.session.commit()
    token = make_token(app, admin)
    api = app.test_client()
    page = api.get(
        "/api/v1/dossiers", query_string={"page": 2, "page_size": 3}, headers=bearer(token)
    )
    assert [d["reference"] for d in page.get_json()] == ["2025-004", "2025-005", "2025-006"]
    assert '"total": 7' in page.headers["X-Pagination"]
    only = api.get("/api/v1/dossiers", query_string={"q": "2025-007"}, headers=bearer(token))
    assert [d["reference"] for d in only.get_json()] == ["2025-007"]
    _problem(
        api.get("/api/v1/dossiers", query_string={"status": "gone"}, headers=bearer(token)), 422
    )


def test_errors_are_problem_details(app: Flask, beheerder: User, dossier: Dossier) -> None:
    token = make_token(app, beheerder)
    api = app.test_client()
    _problem(api.get("/api/v1/nothing-here", headers=bearer(token)), 404)
    not_allowed = _problem(api.delete("/api/v1/dossiers", headers=bearer(token)), 405)
    assert not_allowed["instance"] == "/api/v1/dossiers"
    refused = file_contract(api, token, dossier.reference, kind="poem")
    assert "kind" in _problem(refused, 422)["errors"]["form"]
    fake = api.post(
        f"/api/v1/dossiers/{dossier.reference}/documents",
        data={
            "file": (io.BytesIO(b"MZ\x90\x00" + b"\x00" * 200), "contract.pdf"),
            "kind": "contract",
        },
        headers=bearer(token),
        content_type="multipart/form-data",
    )
    assert "not filed" in _problem(fake, 422)["detail"]
    _problem(
        api.post(
            f"/api/v1/dossiers/{dossier.reference}/documents",
            json={"kind": "contract"},
            headers=bearer(token),
        ),
        422,
    )
    query = api.get("/api/v1/search", query_string={"q": "content:[a TO z]"}, headers=bearer(token))
    _problem(query, 400)


def test_a_token_is_rate_limited(app: Flask, beheerder: User) -> None:
    token = make_token(app, beheerder)
    app.config.update(RATELIMIT_ENABLED=True, API_RATE_LIMITS="3 per minute")
    throttling.init_app(app)
    api = app.test_client()
    assert [api.get("/api/v1/dossiers", headers=bearer(token)).status_code for _ in range(3)] == [
        200,
        200,
        200,
    ]
    limited = api.get("/api/v1/dossiers", headers=bearer(token))
    _problem(limited, 429)
    assert int(limited.headers["Retry-After"]) > 0
    other = make_token(app, beheerder)  # per user: another token buys no more requests
    assert api.get("/api/v1/dossiers", headers=bearer(other)).status_code == 429


@pytest.mark.any_database
def test_the_openapi_document_is_public_and_3_1(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/dossiers/{reference}/documents" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_a_nul_character_is_refused_not_a_database_error(
    app: Flask, beheerder: User, dossier: Dossier
) -> None:
    """Found by schemathesis on PostgreSQL, which cannot store or compare a NUL."""
    token = make_token(app, beheerder)
    api = app.test_client()
    listing = api.get("/api/v1/dossiers", query_string={"q": "a\x00b"}, headers=bearer(token))
    assert "q" in _problem(listing, 422)["errors"]["query"]
    search = api.get(
        "/api/v1/search", query_string={"q": "brief", "dossier": "\x00"}, headers=bearer(token)
    )
    assert "dossier" in _problem(search, 422)["errors"]["query"]
    page = app.test_client(user=beheerder).get(
        "/search", query_string={"q": "brief", "dossier": "\x00"}
    )
    assert page.status_code == 200  # the search page, through the same lookup, as well
    upload = file_contract(api, token, dossier.reference, title="Brief\x00")
    assert "title" in _problem(upload, 422)["errors"]["form"]


def test_a_file_over_the_limit_is_413(app: Flask, beheerder: User, dossier: Dossier) -> None:
    token = make_token(app, beheerder)
    app.config["MAX_UPLOAD_BYTES"] = 100  # the pipeline's own limit, inside the request limit
    over = file_contract(app.test_client(), token, dossier.reference)
    assert "MB" in _problem(over, 413)["detail"]  # the limit, in the user's language
    app.config["MAX_CONTENT_LENGTH"] = 200  # the request itself: refused before it is read
    _problem(file_contract(app.test_client(), token, dossier.reference), 413)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


def test_a_server_error_is_a_problem_with_a_reference_and_no_trace(
    app: Flask, beheerder: User, dossier: Dossier, caplog: pytest.LogCaptureFixture
) -> None:
    """A stored file that no longer matches its hash is never served (R3): a 500 whose body
    names only the reference under which the failure was logged."""
    token = make_token(app, beheerder)
    api = app.test_client()
    document = file_contract(api, token, dossier.reference).get_json()
    sha256 = document["versions"][0]["sha256"]
    blob = next(Path(app.config["BLOB_ROOT"]).rglob(sha256))
    blob.chmod(0o600)
    blob.write_bytes(b"X" + CONTRACT[1:])
    url = f"/api/v1/dossiers/{dossier.reference}/documents/{document['id']}/versions/1/download"
    body = _problem(api.get(url, headers=bearer(token)), 500)
    assert set(body) == {"type", "title", "status", "instance", "reason", "error_id"}
    assert body["reason"] == "integrity"
    assert body["error_id"] in caplog.text
