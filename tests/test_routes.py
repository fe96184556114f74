"""Deny by default: every route is named by the access policy, and unnamed ones are refused."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask import Flask

from dossier import access
from dossier.models import Dossier, User
from dossier.web import RowIdConverter


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


def test_every_non_public_get_route_sends_anonymous_users_to_login(app: Flask) -> None:
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if access.ENDPOINTS[rule.endpoint] == access.PUBLIC or "GET" not in rule.methods:
            continue
        url = rule.build({name: "1" for name in rule.arguments})[1]
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_number_too_large_for_any_row_id_is_not_found_on_every_route(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """A 19-digit id overflowed inside the database driver (500); it is a 404 like any unknown
    id, and a huge version or page number in the query string is ignored."""
    dossier = make_dossier()
    client = app.test_client(user=admin)
    huge = str(2**63)
    checked = 0
    for rule in app.url_map.iter_rules():
        numbers = [name for name, c in rule._converters.items() if isinstance(c, RowIdConverter)]
        if "GET" not in rule.methods or not numbers:
            continue
        values = {name: huge if name in numbers else dossier.reference for name in rule.arguments}
        url = "/" + rule.rule.lstrip("/")
        for name, value in values.items():
            url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
        assert client.get(url).status_code == 404, url
        checked += 1
    assert checked >= 5
    for query in ("/?page=" + huge, "/audit?page=" + huge):
        assert client.get(query).status_code in (200, 403), query  # the audit needs an auditor


def test_a_huge_version_number_in_the_query_string_is_no_500(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    client = app.test_client(user=admin)
    with io.BytesIO(b"Artikel 1 Levering\nDe levering.\n") as data:
        page = client.post(
            f"/dossiers/{dossier.reference}/documents/new",
            data={
                "file": (data, "brief.txt"),
                "kind": "correspondence",
                "confidentiality": "normal",
            },
            content_type="multipart/form-data",
        )
    document = page.headers["Location"].rstrip("/")
    huge = str(2**63)
    for path in (f"{document}?version={huge}", f"{document}/compare?new={huge}&old={huge}"):
        assert client.get(path).status_code in (200, 404), path
