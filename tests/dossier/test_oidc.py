"""Single sign-on (dossier/oidc.py, dossier/web/sso.py) against a real OpenID provider: Node's
`oidc-provider` started from tests/oidc, its log-in page driven over HTTP. The provider signs
every token with its own key; the bad-token cases come from test-only clients of that provider
(tests/oidc/provider.mjs) or from a request altered on its way, and are refused by Dossier's
own checks (Authlib against the provider's JWKS)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import create_app, groups, memberships, throttling
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Dossier,
    GlobalRole,
    Group,
    MemberRole,
    User,
    UserIdentity,
)
from tests.conftest import PASSWORD, _app, _backends, _config, need
from tests.oidc import provider as op

CALLBACK = "http://localhost/sso/callback"
AFTER_LOGOUT = "http://localhost/login"
# Client ids of the provider; the test-only ones change the ID token they receive.
MODES = {
    "dossier-tampered": "tamper",
    "dossier-wrong-audience": "wrong_audience",
    "dossier-expired": "expired",
    "dossier-unsigned": "unsigned",
}
ALICE = {
    "email": "alice@example.org",
    "name": "Alice Inkoop",
    "groups": ["inkoop", "dossier-admins"],
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[op.OpenIdProvider]:
    missing = op.missing_tools()
    need(missing is None, missing or "")
    try:
        op.install()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        need(False, f"npm ci of tests/oidc failed: {error}")
    clients = [op.client(c, CALLBACK, AFTER_LOGOUT) for c in ("dossier", *MODES)]
    started = op.OpenIdProvider(tmp_path_factory.mktemp("provider"), clients, MODES)
    yield started
    started.stop()


@pytest.fixture
def settings() -> dict[str, Any]:
    """Per-test single sign-on settings (tests parametrize this)."""
    return {}


def _sso_config(issuer: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": "dossier",
        "OIDC_CLIENT_SECRET": op.CLIENT_SECRET,
        "OIDC_SCOPES": "openid email profile groups",
        "OIDC_ROLE_MAPPING": {"dossier-admins": "admin", "dossier-audit": "auditor"},
        "OIDC_GROUP_MAPPING": {"inkoop": ["Inkoop"]},
    } | settings


@pytest.fixture(params=_backends())
def app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    provider: op.OpenIdProvider,
    settings: dict[str, Any],
) -> Iterator[Flask]:
    """The usual test application, with single sign-on at the module's provider."""
    provider.users({"alice": ALICE})
    yield from _app(request, tmp_path, request.param, _sso_config(provider.issuer, settings))


def _start(client: FlaskClient) -> str:
    """Dossier's redirect to the provider."""
    response = client.get("/sso/login")
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def sso_log_in(
    client: FlaskClient,
    login: str = "alice",
    browser: requests.Session | None = None,
    alter: Callable[[str], str] = lambda url: url,
) -> Any:
    """Log in through the provider's pages; Dossier's answer to the provider's redirect."""
    browser = browser or requests.Session()
    callback = op.log_in(browser, alter(_start(client)), login, CALLBACK)
    return client.get(callback)


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def _logged_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


# A full log-in


def test_full_log_in_through_the_provider_creates_the_user_with_mapped_role_and_group(
    app: Flask, provider: op.OpenIdProvider
) -> None:
    client = app.test_client()
    authorize = urlsplit(_start(client))
    params = parse_qs(authorize.query)
    assert authorize.netloc == urlsplit(provider.issuer).netloc
    assert params["code_challenge_method"] == ["S256"] and params["code_challenge"]
    assert params["nonce"] and params["state"] and params["response_type"] == ["code"]

    response = sso_log_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "Alice Inkoop" in page.text

    user = _user("alice@example.org")
    assert user is not None and user.name == "Alice Inkoop"
    assert user.global_role == GlobalRole.ADMIN and not user.must_change_password
    assert [g.name for g in user.groups] == ["Inkoop"]
    identity = db.session.scalar(sa.select(UserIdentity).where(UserIdentity.user_id == user.id))
    assert identity.issuer == provider.issuer and identity.subject == "alice"
    (created,) = _events("user.create")
    assert created.after["via"] == "oidc" and created.after["subject"] == "alice"
    assert _events("user.role_change")[-1].after == {"email": user.email, "role": "admin"}
    assert _events("group.member_add")[-1].after["members"] == ["alice@example.org"]
    # The local password page is no way in: nobody knows the generated password.
    assert (
        app.test_client()
        .post("/login", data={"email": "alice@example.org", "password": PASSWORD})
        .status_code
        == 400
    )


def test_a_second_log_in_finds_the_same_user_by_issuer_and_subject(
    app: Flask, provider: op.OpenIdProvider
) -> None:
    sso_log_in(app.test_client())
    provider.users({"alice": ALICE | {"email": "alice.new@example.org", "name": "Alice Nieuw"}})
    assert sso_log_in(app.test_client()).status_code == 302
    assert _user("alice@example.org") is None
    user = _user("alice.new@example.org")
    assert user is not None and user.name == "Alice Nieuw"
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    (update,) = _events("user.update")
    assert update.before["email"] == "alice@example.org"
    assert update.after == {"email": "alice.new@example.org", "name": "Alice Nieuw"}


def test_the_mapping_is_applied_again_at_every_log_in_for_mapped_groups_only(
    app: Flask, provider: op.OpenIdProvider, make_dossier: Callable[..., Dossier], admin: User
) -> None:
    """The provider's group gives a Dossier group, and the group a dossier; when the provider
    drops it, both go at the next log-in. A group and a role no mapping names stay."""
    inkoop = groups.create_group(admin, "Inkoop")
    manual = groups.create_group(admin, "Handmatig")
    dossier = make_dossier("2026-101")
    memberships.set_role(admin, dossier, inkoop, MemberRole.READER)
    db.session.commit()
    client = app.test_client()
    sso_log_in(client)
    assert client.get("/dossiers/2026-101").status_code == 200
    alice = _user("alice@example.org")
    groups.add_member(admin, db.session.get(Group, manual.id), alice)
    db.session.commit()

    provider.users({"alice": ALICE | {"groups": ["dossier-audit"]}})
    client = app.test_client()
    sso_log_in(client)
    alice = _user("alice@example.org")
    assert [g.name for g in alice.groups] == ["Handmatig"]
    assert alice.global_role == GlobalRole.AUDITOR
    assert _events("group.member_remove")[-1].before["members"] == ["alice@example.org"]

    provider.users({"alice": ALICE | {"groups": []}})
    sso_log_in(client := app.test_client())
    alice = _user("alice@example.org")
    assert alice.global_role is None, "a mapped role the provider no longer gives is taken away"
    assert client.get("/dossiers/2026-101").status_code == 404
    with app.app_context():
        alice.global_role = GlobalRole.ARCHIVIST  # set by an administrator, mapped by nobody
        db.session.commit()
    sso_log_in(app.test_client())
    assert _user("alice@example.org").global_role == GlobalRole.ARCHIVIST


# A group that grants nothing


def test_groups_that_grant_nothing_log_in_and_see_no_dossier(
    app: Flask, provider: op.OpenIdProvider, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2026-102")
    provider.users({"alice": ALICE | {"groups": ["kantine"]}})
    client = app.test_client()
    assert sso_log_in(client).status_code == 302
    register = client.get("/")
    assert register.status_code == 200 and "2026-102" not in register.text
    assert client.get("/dossiers/2026-102").status_code == 404
    user = _user("alice@example.org")
    assert user.global_role is None and user.groups == []


@pytest.mark.parametrize("settings", [{"OIDC_REQUIRE_MAPPED_GROUP": True}])
def test_groups_that_grant_nothing_are_refused_when_so_configured(
    app: Flask, provider: op.OpenIdProvider
) -> None:
    provider.users({"alice": ALICE | {"groups": ["kantine"]}})
    client = app.test_client()
    response = sso_log_in(client)
    assert response.status_code == 403
    assert "geven geen toegang tot Dossier" in response.text
    assert _user("alice@example.org") is None, "nobody is created for nothing"
    (refused,) = _events("login.refused")
    assert refused.after["reason"] == "no_access" and refused.actor_label == "anonymous"
    assert not _logged_in(client)

    # Someone who had a mapped group and lost it is refused too, and loses it here.
    provider.users({"alice": ALICE})
    assert sso_log_in(app.test_client()).status_code == 302
    provider.users({"alice": ALICE | {"groups": ["kantine"]}})
    assert sso_log_in(app.test_client()).status_code == 403
    alice = _user("alice@example.org")
    assert alice.groups == [] and alice.global_role is None


# Tokens that fail Dossier's checks


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"OIDC_CLIENT_ID": "dossier-tampered"}, "BadSignatureError"),
        ({"OIDC_CLIENT_ID": "dossier-wrong-audience"}, "InvalidClaimError"),
        ({"OIDC_CLIENT_ID": "dossier-expired"}, "ExpiredTokenError"),
        ({"OIDC_CLIENT_ID": "dossier-unsigned"}, "UnsupportedAlgorithmError"),
    ],
    ids=["signature-broken", "wrong-audience", "expired", "unsigned"],
)
def test_an_id_token_that_fails_the_checks_is_refused_with_401(
    app: Flask, provider: op.OpenIdProvider, reason: str
) -> None:
    client = app.test_client()
    response = sso_log_in(client)
    assert response.status_code == 401
    assert "kon niet worden gecontroleerd" in response.text
    assert "Traceback" not in response.text
    assert not _logged_in(client)
    assert _user("alice@example.org") is None
    (failed,) = _events("login.failed")
    assert failed.after["via"] == "oidc" and failed.after["reason"] == reason, failed.after


@pytest.mark.parametrize("settings", [{"OIDC_CLIENT_ID": "dossier-wrong-audience"}])
def test_a_wrong_audience_is_refused_for_its_audience(app: Flask) -> None:
    """The re-signed token differs from a good one in `aud` only: the audience check, not
    another, refuses it."""
    sso_log_in(app.test_client())
    (failed,) = _events("login.failed")
    assert "aud" in failed.after["detail"], failed.after


def _replace_nonce(url: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | {"nonce": "replayed-nonce"}
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_nonce_other_than_the_one_sent_is_refused(app: Flask) -> None:
    """The authorisation request altered on its way: the provider signs the altered nonce
    into a good token, and Dossier compares it with the one it keeps in the session."""
    client = app.test_client()
    response = sso_log_in(client, alter=_replace_nonce)
    assert response.status_code == 401
    assert not _logged_in(client)
    (failed,) = _events("login.failed")
    assert failed.after["reason"] == "InvalidClaimError" and "nonce" in failed.after["detail"]


def test_a_callback_without_its_state_is_refused(app: Flask) -> None:
    """The provider's answer replayed, or delivered to another browser: no state, no log-in."""
    client = app.test_client()
    callback = op.log_in(requests.Session(), _start(client), "alice", CALLBACK)
    assert app.test_client().get(callback).status_code == 400, "another browser"
    assert client.get(callback).status_code == 302
    again = app.test_client()
    again.get("/sso/login")
    replay = again.get(callback)
    assert replay.status_code == 400 and "verlopen of al gebruikt" in replay.text
    forged = again.get("/sso/callback?error=access_denied&state=made-up")
    assert forged.status_code == 400
    assert _events("login.failed") == [], "nothing a stranger can make audit events with"


@pytest.mark.parametrize(
    ("asked", "landed"),
    [("/dossiers/new", "/dossiers/new"), ("//evil.example/x", "/"), ("https://evil.example", "/")],
)
def test_after_log_in_only_a_local_page_follows(app: Flask, asked: str, landed: str) -> None:
    client = app.test_client()
    start = client.get("/sso/login?" + urlencode({"next": asked}))
    callback = op.log_in(requests.Session(), start.headers["Location"], "alice", CALLBACK)
    assert client.get(callback).headers["Location"] == landed


# Linking, disabled accounts


def test_an_existing_local_account_is_not_taken_over_by_its_address(
    app: Flask, make_user: Callable[..., User]
) -> None:
    local = make_user("alice@example.org", GlobalRole.BEHEERDER)
    response = sso_log_in(app.test_client())
    assert response.status_code == 403 and "bestaat al" in response.text
    assert db.session.scalar(sa.select(sa.func.count(UserIdentity.id))) == 0
    assert _events("login.refused")[0].after["reason"] == "email_taken"
    assert _user("alice@example.org").id == local.id


@pytest.mark.parametrize("settings", [{"OIDC_LINK_BY_EMAIL": True}])
def test_linking_by_a_verified_address_when_so_configured(
    app: Flask, provider: op.OpenIdProvider, make_user: Callable[..., User]
) -> None:
    local = make_user("alice@example.org", GlobalRole.BEHEERDER)
    provider.users({"alice": ALICE | {"email_verified": False}})
    assert sso_log_in(app.test_client()).status_code == 403, "an unverified address links nothing"
    provider.users({"alice": ALICE})
    client = app.test_client()
    assert sso_log_in(client).status_code == 302
    assert _user("alice@example.org").id == local.id
    (linked,) = _events("user.sso_link")
    assert linked.object_id == local.id and linked.after["subject"] == "alice"


@pytest.mark.parametrize(
    "settings", [{"OIDC_LINK_BY_EMAIL": True, "BREAK_GLASS_ACCOUNT": "alice@example.org"}]
)
def test_the_break_glass_account_is_never_linked(
    app: Flask, make_user: Callable[..., User]
) -> None:
    """It must work when the provider does not: nobody at the provider takes it over."""
    make_user("alice@example.org", GlobalRole.ADMIN)
    response = sso_log_in(app.test_client())
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(UserIdentity.id))) == 0
    assert _events("login.refused")[0].after["reason"] == "email_taken"


def test_a_disabled_account_is_refused(app: Flask) -> None:
    sso_log_in(app.test_client())
    alice = _user("alice@example.org")
    alice.is_enabled = False
    db.session.commit()
    client = app.test_client()
    response = sso_log_in(client)
    assert response.status_code == 403 and "uitgeschakeld" in response.text
    assert not _logged_in(client)


# Log-out


def test_log_out_ends_the_session_here_and_at_the_provider(
    app: Flask, provider: op.OpenIdProvider
) -> None:
    client, browser = app.test_client(), requests.Session()
    sso_log_in(client, browser=browser)
    session_cookie = client.get_cookie("dossier_session")
    response = client.post("/logout")
    assert response.status_code == 302
    end = urlsplit(response.headers["Location"])
    assert f"{end.scheme}://{end.netloc}" == provider.issuer
    params = parse_qs(end.query)
    assert params["post_logout_redirect_uri"] == [AFTER_LOGOUT] and params["id_token_hint"]
    assert not _logged_in(client), "the local session ends at once"
    stolen = app.test_client()
    stolen.set_cookie("dossier_session", session_cookie.value)
    assert not _logged_in(stolen), "the old session cookie opens nothing"

    # The provider asks for confirmation, then sends the browser back to Dossier's log-in.
    page = browser.get(response.headers["Location"], timeout=10)
    (form,) = op.forms(page.text)
    done = browser.post(
        requests.compat.urljoin(page.url, form["action"]),
        data={**form["fields"], "logout": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert done.headers["Location"].startswith(AFTER_LOGOUT)
    # The provider's session is gone too: the next single sign-on asks for the password.
    again = op.follow(browser, _start(app.test_client()), CALLBACK)
    assert not isinstance(again, str) and "Password" in again.text


def test_log_out_of_a_local_session_stays_local(app: Flask, admin: User) -> None:
    client = app.test_client()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"


def test_the_log_in_policy_lets_the_browser_post_to_the_provider(
    app: Flask, provider: op.OpenIdProvider
) -> None:
    """Log-out is a form whose answer redirects to the provider: form-action must allow it."""
    csp = app.test_client().get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer}" in csp


# Local accounts switched off


@pytest.mark.parametrize(
    "settings", [{"LOCAL_LOGIN": False, "BREAK_GLASS_ACCOUNT": "Admin@Example.org"}]
)
def test_local_log_in_off_except_for_the_break_glass_account(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    bea = make_user("bea@example.org", GlobalRole.BEHEERDER)
    page = app.test_client().get("/login")
    assert "Inloggen met single sign-on" in page.text
    assert 'name="password"' not in page.text and "/login/break-glass" in page.text

    client = app.test_client()
    refused = client.post("/login", data={"email": bea.email, "password": PASSWORD})
    assert refused.status_code == 403 and "single sign-on" in refused.text
    assert not _logged_in(client)

    glass = app.test_client()
    form = glass.get("/login/break-glass")
    assert form.status_code == 200 and 'name="password"' in form.text
    assert (
        glass.post("/login", data={"email": admin.email, "password": PASSWORD}).status_code == 302
    )
    assert _logged_in(glass)
    wrong = app.test_client().post("/login", data={"email": admin.email, "password": "x" * 14})
    assert wrong.status_code == 400 and 'name="password"' in wrong.text


@pytest.mark.parametrize(
    "settings", [{"LOCAL_LOGIN": False, "BREAK_GLASS_ACCOUNT": "alice@example.org"}]
)
def test_the_mapping_leaves_the_break_glass_accounts_role_alone(
    app: Flask, provider: op.OpenIdProvider
) -> None:
    provider.users({"alice": ALICE | {"groups": []}})
    sso_log_in(app.test_client())
    alice = _user("alice@example.org")
    alice.global_role = GlobalRole.ADMIN
    db.session.commit()
    sso_log_in(app.test_client())
    assert _user("alice@example.org").global_role == GlobalRole.ADMIN


# Trouble at the provider, and settings


@pytest.mark.parametrize("settings", [{"OIDC_ISSUER": "http://127.0.0.1:9"}])
def test_an_unreachable_provider_gives_a_message(app: Flask) -> None:
    response = app.test_client().get("/sso/login")
    assert response.status_code == 503
    assert "kan niet worden bereikt" in response.text and "Traceback" not in response.text


def test_the_provider_refusing_gives_a_message(app: Flask, provider: op.OpenIdProvider) -> None:
    """The provider sends the browser back with an error (the person declined, say) for a
    log-in this browser started: a 401 with a message, audited with the provider's reason."""
    client = app.test_client()
    start = _start(client)
    state = parse_qs(urlsplit(start).query)["state"][0]
    response = client.get("/sso/callback?" + urlencode({"error": "access_denied", "state": state}))
    assert response.status_code == 401
    assert _events("login.failed")[0].after["reason"] == "access_denied"


def _provider_error(client: FlaskClient, state: str, address: str = "192.0.2.1") -> Any:
    query = urlencode({"error": "access_denied", "state": state})
    return client.get(f"/sso/callback?{query}", environ_base={"REMOTE_ADDR": address})


def test_the_providers_error_answer_cannot_be_replayed(app: Flask) -> None:
    """Authlib keeps the state when the answer is an error: Dossier spends it, so replaying
    that answer is refused like any unsolicited callback, and audited once only."""
    client = app.test_client()
    state = parse_qs(urlsplit(_start(client)).query)["state"][0]
    assert _provider_error(client, state).status_code == 401
    replays = [_provider_error(client, state) for _ in range(3)]
    assert all(r.status_code == 400 and "verlopen of al gebruikt" in r.text for r in replays)
    assert len(_events("login.failed")) == 1


def test_failed_answers_from_one_address_are_audited_a_few_times_only(app: Flask) -> None:
    """Whoever starts log-ins and answers each with an error gets the message every time;
    the audit trail gets SSO_FAILURE_AUDIT_LIMITS of them per address, then only the log."""
    app.config.update(RATELIMIT_ENABLED=True, SSO_FAILURE_AUDIT_LIMITS="3 per minute")
    throttling.init_app(app)
    client = app.test_client()
    for _ in range(6):
        response = _provider_error(client, parse_qs(urlsplit(_start(client)).query)["state"][0])
        assert response.status_code == 401 and "kon niet worden gecontroleerd" in response.text
    assert len(_events("login.failed")) == 3
    other = _provider_error(
        client, parse_qs(urlsplit(_start(client)).query)["state"][0], "192.0.2.2"
    )
    assert other.status_code == 401
    assert len(_events("login.failed")) == 4, "another address is audited again"


@pytest.mark.any_database
@pytest.mark.parametrize(
    "wrong",
    [
        {"OIDC_ROLE_MAPPING": {"x": "superuser"}},
        {"OIDC_ROLE_MAPPING": "dossier-admins=admin"},
        {"OIDC_GROUP_MAPPING": {"x": [""]}},
        {"OIDC_CLIENT_ID": None},
        {"OIDC_SCOPES": "email profile"},
    ],
)
def test_wrong_settings_stop_the_start(tmp_path: Path, wrong: dict[str, Any]) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(ValueError):
        create_app(config | _sso_config("http://127.0.0.1:9", wrong))


@pytest.mark.parametrize("settings", [{"OIDC_LOGOUT_AT_PROVIDER": False}])
def test_log_out_without_the_provider_when_so_configured(app: Flask) -> None:
    client = app.test_client()
    sso_log_in(client)
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert not _logged_in(client)
