"""Two-step verification through the pages: enrolment with a code computed from the secret the
page shows, the second log-in step, the half-logged-in state, throttling, the administrator's
reset, and the setting that requires it of administrators and auditors."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import second_factor, throttling
from dossier.extensions import db
from dossier.models import AuditEvent, GlobalRole, SecondFactor, User
from tests.conftest import PASSWORD
from tests.dossier.test_second_factor import age_pending, enrol

STEP = second_factor.STEP_SECONDS
# Pages and forms a half-logged-in visitor (right password, no code yet) must not reach.
BLOCKED_GETS = ["/", "/admin/users", "/search?q=x", "/reports/deadlines", "/account/two-step"]
BLOCKED_POSTS = ["/admin/users", "/dossiers/new", "/account/password"]


def _secret_on(page: str) -> str:
    match = re.search(r'<code class="secret-key" id="secret-key">([A-Z2-7 ]+)</code>', page)
    assert match, "the enrolment page shows the key as text"
    return match.group(1).replace(" ", "")


def _codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)


def _password_step(client: FlaskClient, user: User, next_url: str = "") -> str:
    url = f"/login?next={next_url}" if next_url else "/login"
    response = client.post(url, data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    return response.location


def _later_code(secret: str, steps: int = 1) -> str:
    """A code for a later step than any used so far (the enrolment used the current one)."""
    return pyotp.TOTP(secret).at(time.time() + steps * STEP)


def _count(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_enrolment_on_the_page_with_the_key_shown_as_text(
    app: Flask, make_user: Callable[..., User], client_for: Callable[..., FlaskClient]
) -> None:
    user = make_user()
    client = client_for(user)
    page = client.get("/account/two-step")
    assert page.status_code == 200
    assert "Tweestapsverificatie" in page.text and "<svg" in page.text  # the inline QR code
    assert "otpauth" not in page.text  # the QR code is drawn, not linked to an image service
    secret = _secret_on(page.text)
    wrong = client.post("/account/two-step/confirm", data={"code": "123 45x"})
    assert wrong.status_code == 400 and "Traceback" not in wrong.text
    assert _secret_on(wrong.text) == secret  # the same key, to try again
    done = client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = _codes_on(done.text)
    assert len(codes) == 10
    assert "alleen deze ene keer" in done.text  # shown once, and it says so
    status = client.get("/account/two-step")
    assert status.status_code == 200
    assert secret not in status.text.replace(" ", "") and not _codes_on(status.text)
    assert "Herstelcodes over" in status.text


def test_the_enrolment_page_is_never_cached_and_an_old_key_is_replaced(
    app: Flask, make_user: Callable[..., User], client_for: Callable[..., FlaskClient]
) -> None:
    user = make_user()
    client = client_for(user)
    page = client.get("/account/two-step")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.mimetype == "text/html"  # a page, not its source as plain text
    secret = _secret_on(page.text)
    age_pending(user, app.config["SECOND_FACTOR_ENROLMENT_SECONDS"] + 1)
    late = client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert late.status_code == 400 and late.headers["Cache-Control"] == "no-store"
    assert late.mimetype == "text/html"
    assert "duurde te lang" in late.text
    fresh = _secret_on(late.text)
    assert fresh != secret and not second_factor.is_enabled(user.id)
    done = client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(fresh).now()})
    assert done.status_code == 200 and second_factor.is_enabled(user.id)


def test_log_in_takes_a_second_step_and_nothing_is_reachable_before_it(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    client = app.test_client()
    location = _password_step(client, user, "/reports/deadlines")
    assert location.endswith("/login/code")
    assert client.get_cookie("remember_token") is None  # no remember-me before the code
    for url in BLOCKED_GETS:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location, url
        assert not response.location.endswith("/login/code"), url
    for url in BLOCKED_POSTS:
        response = client.post(url, data={"email": "sneaky@example.org", "reference": "X-9"})
        assert response.status_code == 302 and "/login" in response.location, url
    assert db.session.scalar(sa.select(User).where(User.email == "sneaky@example.org")) is None
    page = client.get("/login/code")
    assert page.status_code == 200 and "Verificatiecode" in page.text
    done = client.post("/login/code", data={"code": _later_code(secret)})
    assert done.status_code == 302 and done.location.endswith("/reports/deadlines")
    assert client.get_cookie("remember_token") is not None
    assert client.get("/").status_code == 200
    assert client.get("/login/code").status_code == 302  # the pending log-in is gone


def test_a_code_cannot_be_replayed_at_the_next_log_in(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    code = _later_code(secret)
    first = app.test_client()
    _password_step(first, user)
    assert first.post("/login/code", data={"code": code}).status_code == 302
    second = app.test_client()
    _password_step(second, user)
    replay = second.post("/login/code", data={"code": code})
    assert replay.status_code == 400
    assert "al gebruikt" in html.unescape(replay.text)
    assert second.get("/").status_code == 302
    assert _count("second_factor.failed") == 1


def test_a_recovery_code_logs_in_once_and_says_how_many_are_left(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    _secret, codes = enrol(user)
    client = app.test_client()
    _password_step(client, user)
    response = client.post("/login/code", data={"code": codes[3]}, follow_redirects=True)
    assert response.status_code == 200
    assert "Nog 9 herstelcodes over" in html.unescape(response.text)
    again = app.test_client()
    _password_step(again, user)
    assert again.post("/login/code", data={"code": codes[3]}).status_code == 400
    assert _count("second_factor.recovery_used") == 1


def test_wrong_codes_are_throttled_and_audited(app: Flask, make_user: Callable[..., User]) -> None:
    app.config.update(RATELIMIT_ENABLED=True, SECOND_FACTOR_LIMITS="3 per minute")
    throttling.init_app(app)
    user = make_user()
    secret, _codes = enrol(user)
    client = app.test_client()
    _password_step(client, user)
    statuses = [client.post("/login/code", data={"code": "000000x"}).status_code for _ in "abc"]
    assert statuses == [400, 400, 400]
    refused = client.post("/login/code", data={"code": _later_code(secret)})
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "verificatiecode" in refused.text
    assert client.get("/").status_code == 302
    assert _count("second_factor.failed") == 3
    locked = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login.locked"))
    assert locked.after["scope"] == "second_factor" and locked.object_id == user.id
    # The refused code was not spent: it still works once the limit is lifted.
    app.extensions.pop("dossier.throttling")
    assert client.post("/login/code", data={"code": _later_code(secret)}).status_code == 302


def test_the_pending_log_in_expires_and_ends_with_the_users_sessions(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    client = app.test_client()
    _password_step(client, user)
    user.session_token = "rotated-by-a-password-reset"
    db.session.commit()
    ended = client.post("/login/code", data={"code": _later_code(secret)})
    assert ended.status_code == 302 and ended.location.endswith("/login")
    app.config["SECOND_FACTOR_PENDING_SECONDS"] = 0
    _password_step(client, user)
    expired = client.post("/login/code", data={"code": _later_code(secret, 2)})
    assert expired.status_code == 302 and expired.location.endswith("/login")
    assert client.get("/").status_code == 302


def test_an_unreadable_secret_is_a_clear_message(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    client = app.test_client()
    _password_step(client, user)
    app.config["SECOND_FACTOR_KEY"] = "a key that was changed"
    response = client.post("/login/code", data={"code": _later_code(secret)})
    assert response.status_code == 400 and "beheerder" in response.text
    assert "Traceback" not in response.text


def test_users_without_a_factor_log_in_with_the_password_alone(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    client = app.test_client()
    assert _password_step(client, user).endswith("/")
    assert client.get("/").status_code == 200


def test_an_administrator_resets_the_factor_and_the_user_enrols_again(
    app: Flask, admin: User, make_user: Callable[..., User], client_for: Callable[..., FlaskClient]
) -> None:
    user = make_user(role=GlobalRole.AUDITOR)
    enrol(user)
    app.config["SECOND_FACTOR_REQUIRED_ROLES"] = ["admin", "auditor"]
    enrol(admin)
    admin_client = client_for(admin)
    page = admin_client.get(f"/admin/users/{user.id}")
    assert "Tweestapsverificatie" in page.text and "/two-step/reset" in page.text
    response = admin_client.post(f"/admin/users/{user.id}/two-step/reset")
    assert response.status_code == 302
    assert db.session.get(SecondFactor, user.id) is None
    assert _count("second_factor.reset") == 1
    client = app.test_client()
    assert _password_step(client, user).endswith("/")  # no second step any more...
    forced = client.get("/")
    assert forced.status_code == 302 and forced.location.endswith("/account/two-step")  # ...but
    assert client.get("/account/two-step").status_code == 200  # enrolment first
    refused = client_for(make_user()).post(f"/admin/users/{admin.id}/two-step/reset")
    assert refused.status_code == 403 and second_factor.is_enabled(admin.id)


def test_switching_off_on_the_page_needs_password_and_code(
    app: Flask, make_user: Callable[..., User], client_for: Callable[..., FlaskClient]
) -> None:
    user = make_user()
    secret, _codes = enrol(user)
    client = client_for(user)
    code = _later_code(secret)
    wrong = client.post(
        "/account/two-step/disable", data={"disable-password": "wrong!", "disable-code": code}
    )
    assert wrong.status_code == 400 and second_factor.is_enabled(user.id)
    done = client.post(
        "/account/two-step/disable", data={"disable-password": PASSWORD, "disable-code": code}
    )
    assert done.status_code == 302 and not second_factor.is_enabled(user.id)
    assert _count("second_factor.disable") == 1


def test_renewing_recovery_codes_on_the_page(
    app: Flask, make_user: Callable[..., User], client_for: Callable[..., FlaskClient]
) -> None:
    user = make_user()
    secret, old = enrol(user)
    client = client_for(user)
    response = client.post(
        "/account/two-step/recovery-codes", data={"renew-code": _later_code(secret)}
    )
    assert response.status_code == 200
    fresh = _codes_on(response.text)
    assert len(fresh) == 10 and not set(fresh) & set(old)
    assert second_factor.use_recovery_code(user, old[0]) is None


@pytest.mark.parametrize("role", [GlobalRole.ADMIN, GlobalRole.AUDITOR])
def test_a_required_role_is_led_to_enrolment_on_every_page(
    app: Flask,
    make_user: Callable[..., User],
    client_for: Callable[..., FlaskClient],
    role: GlobalRole,
) -> None:
    app.config["SECOND_FACTOR_REQUIRED_ROLES"] = ["admin", "auditor"]
    user = make_user(role=role)
    client = client_for(user)
    for url in ["/", "/admin/users", "/audit", "/search?q=x", "/reports/deadlines"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.endswith("/account/two-step"), url
    sneaky = client.post("/admin/users", data={"email": "sneaky@example.org"})
    assert sneaky.status_code == 302 and sneaky.location.endswith("/account/two-step")
    assert db.session.scalar(sa.select(User).where(User.email == "sneaky@example.org")) is None
    page = client.get("/account/two-step")
    assert page.status_code == 200 and "Uw rol vereist tweestapsverificatie" in page.text
    # No menu of pages that would all lead back here; logging out stays.
    assert "Contractregister" not in page.text and "Uitloggen" in page.text
    password_page = client.get("/account/password")  # reachable, and it leads nowhere else either
    assert password_page.status_code == 200 and "Contractregister" not in password_page.text
    secret = _secret_on(page.text)
    client.post("/account/two-step/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/").status_code == 200
    assert "Contractregister" in client.get("/account/two-step").text  # the menu is back
    plain = client_for(make_user())
    assert plain.get("/").status_code == 200  # other roles are not required


def test_a_one_time_password_is_replaced_before_the_enrolment(
    app: Flask, make_user: Callable[..., User], client_for: Callable[..., FlaskClient]
) -> None:
    app.config["SECOND_FACTOR_REQUIRED_ROLES"] = ["admin"]
    user = make_user(role=GlobalRole.ADMIN)
    user.must_change_password = True
    db.session.commit()
    client = client_for(user)
    first = client.get("/")
    assert first.status_code == 302 and first.location.endswith("/account/password")
    assert client.get("/account/two-step").location.endswith("/account/password")


def test_a_single_sign_on_session_is_not_led_to_enrolment(
    app: Flask, make_user: Callable[..., User], client_for: Callable[..., FlaskClient]
) -> None:
    from dossier.web.second_factor import SSO_SESSION

    app.config["SECOND_FACTOR_REQUIRED_ROLES"] = ["admin"]
    client = client_for(make_user(role=GlobalRole.ADMIN))
    assert client.get("/").location.endswith("/account/two-step")
    with client.session_transaction() as session:
        session[SSO_SESSION] = True  # what the single sign-on view marks its sessions with
    assert client.get("/").status_code == 200
    # Setting up a factor is a choice then, not a page that must be finished: the menu stays.
    assert "Contractregister" in client.get("/account/two-step").text
