"""`dossier/web/search.py`: the search page's message for a refused query, and the per-user rate
limit on wildcard searches that holds across web processes (Redis)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask_login import FlaskLoginClient

from dossier import create_app
from dossier.extensions import db
from dossier.models import User
from tests.conftest import _PASSWORD_HASH, _config, need


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


# The per-user rate limit on wildcard searches, through the web page.


def _throttled_app(tmp_path: Path, sqlite_template: Path, **config: object) -> Flask:
    target = tmp_path / "throttle.sqlite3"
    if not target.exists():
        shutil.copy(sqlite_template, target)
    settings = _config(tmp_path, f"sqlite:///{target}") | {
        "RATELIMIT_ENABLED": True,
        "SEARCH_WILDCARD_LIMITS": "2 per minute",
        **config,
    }
    app = create_app(settings)
    app.test_client_class = FlaskLoginClient
    return app


def _user(app: Flask, email: str) -> User:
    with app.app_context():
        user = User(email=email, name=email.split("@")[0], password_hash=_PASSWORD_HASH)
        db.session.add(user)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def test_wildcard_searches_are_rate_limited_per_user(tmp_path: Path, sqlite_template: Path) -> None:
    app = _throttled_app(tmp_path, sqlite_template, RATELIMIT_KEY_PREFIX=uuid.uuid4().hex)
    first = app.test_client(user=_user(app, "first@example.org"))
    codes = [first.get("/search?q=termin*").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    page = first.get("/search?q=opzeg*")
    assert page.status_code == 429
    assert "U hebt in korte tijd veel zoekopdrachten met een *-jokerteken gedaan." in page.text
    assert 'value="opzeg*"' in page.text  # the query is kept
    assert first.get("/search?q=opzegging").status_code == 200  # plain words are not limited
    other = app.test_client(user=_user(app, "other@example.org"))
    assert other.get("/search?q=termin*").status_code == 200


def test_the_wildcard_limit_is_shared_through_redis(tmp_path: Path, sqlite_template: Path) -> None:
    """Two app instances (two web processes) with one Redis count one budget per user."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        need(False, "no Redis at 127.0.0.1:6379")
    shared = {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": f"dossier-test-{uuid.uuid4().hex}",
    }
    one = _throttled_app(tmp_path, sqlite_template, **shared)
    user = _user(one, "searcher@example.org")
    assert one.test_client(user=user).get("/search?q=termin*").status_code == 200
    two = _throttled_app(tmp_path, sqlite_template, **shared)
    client = two.test_client(user=user)
    assert client.get("/search?q=termin*").status_code == 200
    assert client.get("/search?q=termin*").status_code == 429
