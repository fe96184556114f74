"""Deny by default: every route is named by the access policy, and unnamed ones are refused."""

from __future__ import annotations

from flask import Flask

from dossier import access
from dossier.models import User


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
