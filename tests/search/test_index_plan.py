"""Every search has a bounded cost: few wildcards per query, a cap on what each wildcard and
the whole query expand to, a time limit on matching, and a per-user rate limit on wildcard
searches that holds across web processes (Redis)."""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_login import FlaskLoginClient

from dossier import create_app
from dossier.extensions import db
from dossier.models import User
from search.index import QueryRefused, SearchIndex, SearchRequest, validate_query
from search.index_plan import MAX_EXPANSION, MAX_QUERY_EXPANSION
from search.query import MAX_WILDCARDS
from tests.conftest import _PASSWORD_HASH, _config, need
from tests.search.test_index import documents, unit


def _words(prefix: str, count: int) -> list[str]:
    """`count` distinct made-up words starting with `prefix` (stemming leaves them whole)."""
    letters = "bdfgklmnprstvz"
    return [
        f"{prefix}{a}{b}ok" for a, b in itertools.islice(itertools.product(letters, letters), count)
    ]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    created = SearchIndex(tmp_path / "index", lock_timeout=2.0)
    created.create()
    yield created
    created.close()


def _fill(index: SearchIndex, prefixes: dict[str, int]) -> None:
    """One document per prefix holding that many distinct words with it."""
    index.apply(
        [
            (number, [unit(number, 0, " ".join(_words(prefix, count)) + ".")])
            for number, (prefix, count) in enumerate(prefixes.items(), start=1)
        ]
    )


def _search(index: SearchIndex, text: str, **options: object):
    return index.search(SearchRequest(text, frozenset({1}), **options))  # type: ignore[arg-type]


def test_a_query_holds_at_most_a_few_wildcards() -> None:
    validate_query(" ".join(f"wor{letter}*" for letter in "abcd"[:MAX_WILDCARDS]))
    # The query: 24 three-letter wildcards.
    for text in (" ".join(["abc*"] * 24), " ".join(f"wor{c}*" for c in "abcde")):
        with pytest.raises(QueryRefused) as refused:
            validate_query(text)
        assert refused.value.code == "too_many_wildcards"


def test_a_wildcard_matching_too_many_words_is_refused_not_cut_off(index: SearchIndex) -> None:
    _fill(index, {"zor": MAX_EXPANSION + 1, "kal": MAX_EXPANSION})
    with pytest.raises(QueryRefused) as refused:
        _search(index, "zor*")
    assert refused.value.code == "too_broad" and "type more letters" in str(refused.value)
    assert documents(_search(index, "kal*")) == [2]  # exactly at the cap: searched
    assert documents(_search(index, "zorbb*")) == [1]  # narrower: searched


def test_the_wildcards_of_one_query_share_one_expansion_budget(index: SearchIndex) -> None:
    each = MAX_QUERY_EXPANSION // 3 - 1  # three fit, four do not
    assert each <= MAX_EXPANSION and 4 * each > MAX_QUERY_EXPANSION
    _fill(index, {prefix: each for prefix in ("kap", "kep", "kip", "kop")})
    assert _search(index, "kap* kep* kip*").total == 0  # searched: no unit has all three
    assert sorted(documents(_search(index, "kap*"))) == [1]
    with pytest.raises(QueryRefused) as refused:
        _search(index, "kap* kep* kip* kop*")
    assert refused.value.code == "too_broad"


def test_matching_stops_at_the_time_limit(index: SearchIndex) -> None:
    _fill(index, {"kap": 3})
    with pytest.raises(QueryRefused) as refused:
        _search(index, "kapbbok", time_limit=0.0)
    assert refused.value.code == "too_slow"
    assert documents(_search(index, "kapbbok", time_limit=None)) == [1]


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
