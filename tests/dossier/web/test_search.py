"""`dossier/web/search.py`: the search page's message for a refused query, and the per-user rate
limit on wildcard searches that holds across web processes (Redis)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from dossier.models import User


def test_a_query_of_only_operators_gets_an_accurate_message(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = app.test_client(user=make_user("reader@example.org"))
    response = client.get("/search", query_string={"q": "AND OR NOT"})
    assert response.status_code == 400
    assert "haakjes" not in response.text
    assert "alleen operatoren" in response.text
    response = client.get("/search", query_string={"q": "huur OR koop"})
    assert "haakjes" not in response.text and "-woord" in response.text
