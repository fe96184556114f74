"""Single sign-on with OpenID Connect: the authorisation code flow with PKCE through Authlib,
the check of every answer against the provider's published keys, and log-out at the provider.

What a checked identity becomes here (a user, groups, a role) is dossier/oidc.py's business.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from dossier import oidc, throttling
from dossier.config import public_url
from dossier.extensions import db
from dossier.security import CSP, log_event
from dossier.web.auth import begin_session, safe_next
from dossier.web.forms import LoginForm
from dossier.web.second_factor import SSO_SESSION

bp = Blueprint("sso", __name__)

_EXTENSION = "dossier.oidc"
_NEXT = "sso_next"
_ID_TOKEN = "sso_id_token"
# An ID token larger than this is not kept for the log-out hint: the session is a cookie.
_MAX_KEPT_TOKEN = 2048
# Where the log-in page shows the password form although local accounts are off: the
# break-glass page, and the answer to a password posted from it.
_FORM_ENDPOINTS = frozenset({"sso.break_glass", "auth.login_submit"})


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = state.app
    oidc.check_settings(app.config)
    app.context_processor(_login_page)
    if oidc.enabled(app.config):
        app.extensions[_EXTENSION] = _register_client(app)
        app.after_request(_allow_forms_to_the_provider)


def _register_client(app: Flask) -> OAuth:
    """Authlib's client for this application's provider (one per app, not per process)."""
    config = app.config
    oauth = OAuth(app)
    oauth.register(
        "oidc",
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=_issuer(config) + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": config["OIDC_TIMEOUT"],
        },
    )
    return oauth


def _issuer(config: Any) -> str:
    return str(config["OIDC_ISSUER"]).rstrip("/")


def _client() -> Any:
    """The provider's client; 404 when single sign-on is not configured."""
    oauth = current_app.extensions.get(_EXTENSION)
    if oauth is None:
        abort(404)
    return oauth.create_client("oidc")


def _login_page() -> dict[str, Any]:
    """What the log-in page offers: the single sign-on button, the password form or both."""
    if not has_request_context():  # mails and PDFs rendered by commands
        return {}
    config = current_app.config
    name = config["OIDC_PROVIDER_NAME"] or _("single sign-on")
    local = bool(config["LOCAL_LOGIN"])
    return {
        "sso_login": {
            "enabled": oidc.enabled(config),
            "label": _("Log in with %(name)s", name=name),
            "show_form": local or request.endpoint in _FORM_ENDPOINTS,
        }
    }


def _allow_forms_to_the_provider(response: Response) -> Response:
    """Log-out posts a form whose answer redirects to the provider: the policy's form-action
    must name the provider's origin too, or the browser stops the redirect."""
    if "Content-Security-Policy" not in response.headers:
        parts = urlsplit(_issuer(current_app.config))
        origin = f"{parts.scheme}://{parts.netloc}"
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    return response


@bp.get("/sso/login")
def login() -> Response:
    """Send the browser to the provider with a fresh state, nonce and PKCE challenge."""
    client = _client()
    if current_user.is_authenticated:
        return redirect(url_for("register.index"))
    session[_NEXT] = safe_next(request.args.get("next"))
    try:
        _check_issuer(client)
        return client.authorize_redirect(_external("sso.callback"))
    except (requests.RequestException, ValueError) as error:
        return _unreachable(error)


def _external(endpoint: str) -> str:
    """An absolute address of ours, as the provider has it registered."""
    if current_app.config.get("BASE_URL"):
        return public_url(current_app.config) + url_for(endpoint)
    return url_for(endpoint, _external=True)


def _check_issuer(client: Any) -> None:
    """Discovery must describe the configured issuer (OpenID Connect Discovery 1.0, 4.3)."""
    metadata = client.load_server_metadata()
    if str(metadata.get("issuer", "")).rstrip("/") != _issuer(current_app.config):
        raise ValueError(f"discovery names issuer {metadata.get('issuer')!r}")


@bp.get("/sso/callback")
def callback() -> str | Response | tuple[str, int]:
    """The provider's answer: exchange the code, check the ID token, then log in."""
    client = _client()
    try:
        # Only an answer to a log-in this browser started is looked at (and audited).
        if not client.framework.get_state_data(session, request.args.get("state", "")):
            raise MismatchingStateError()
        claims, id_token = _verified_claims(client)
    except MismatchingStateError:
        log_event("login.sso_state_mismatch")
        message = _("This log-in attempt has expired or was already used. Please log in again.")
        return _refused(400, message)
    except OAuthError as error:
        # Authlib keeps the state when the provider answers with an error: spend it here, so
        # the same answer cannot be replayed.
        client.framework.clear_state_data(session, request.args.get("state", ""))
        return _failed(error.error or "oauth_error", error.description or "")
    except requests.RequestException as error:
        return _unreachable(error)
    except (JoseError, ValueError, KeyError, TypeError) as error:
        return _failed(type(error).__name__, str(error))
    try:
        user = oidc.sign_in(current_app.config, claims)
    except oidc.Refusal as refusal:
        email = str(claims.get("email") or "")[:255] or None
        oidc.record_refusal(claims["iss"], claims["sub"], email, refusal.reason)
        db.session.commit()
        log_event("login.sso_refused", reason=refusal.reason, subject=claims["sub"])
        return _refused(403, refusal.message)
    db.session.commit()
    next_url = session.get(_NEXT)
    begin_session(user)
    session[SSO_SESSION] = True  # the provider asked for the second factor, not Dossier
    if len(id_token) <= _MAX_KEPT_TOKEN:
        session[_ID_TOKEN] = id_token
    return redirect(next_url or url_for("register.index"))


def _verified_claims(client: Any) -> tuple[dict[str, Any], str]:
    """The ID token's claims and the token itself, after Authlib's checks (signature against
    the provider's keys, issuer, audience, expiry, nonce, state and PKCE), with the userinfo
    of the same subject added."""
    config = current_app.config
    token = client.authorize_access_token(
        leeway=config["OIDC_CLOCK_SKEW_SECONDS"],
        claims_options={
            "iss": {"essential": True, "values": [_issuer(config)]},
            "aud": {"essential": True, "values": [client.client_id]},
            "sub": {"essential": True},
        },
    )
    if "id_token" not in token or not token.get("userinfo"):
        raise ValueError("the provider's answer holds no ID token")
    claims = dict(token["userinfo"])
    if client.load_server_metadata().get("userinfo_endpoint"):
        extra = dict(client.userinfo(token=token))
        if extra.get("sub") != claims["sub"]:
            raise ValueError("userinfo describes another subject than the ID token")
        claims = extra | claims  # what the signed token says wins
    return claims, token["id_token"]


def _failed(reason: str, detail: str) -> tuple[str, int]:
    """An answer that failed the checks: logged, a plain 401 for the person, and audited
    unless this address already had its share of audited failures (SSO_FAILURE_AUDIT_LIMITS)."""
    address = request.remote_addr or "-"
    throttled = throttling.spend("SSO_FAILURE_AUDIT_LIMITS", "sso-failure", address) > 0
    if not throttled:
        oidc.record_failure(reason, detail)
        db.session.commit()
    log_event("login.sso_failed", reason=reason, detail=detail[:300], audited=not throttled)
    message = _(
        "The identity provider's answer could not be verified, so you are not logged in. "
        "Please try again; if this keeps happening, tell the administrator."
    )
    return _refused(401, message)


def _unreachable(error: Exception) -> tuple[str, int]:
    log_event("login.sso_unreachable", detail=str(error)[:300])
    message = _("The identity provider cannot be reached. Please try again in a moment.")
    return _refused(503, message)


def _refused(status: int, message: str) -> tuple[str, int]:
    flash(message, "error")
    return render_template("auth/login.html", form=LoginForm(), next=None), status


@bp.get("/login/break-glass")
def break_glass() -> str | Response:
    """The password form for the break-glass account while local accounts are switched off."""
    if current_user.is_authenticated:
        return redirect(url_for("register.index"))
    return render_template("auth/login.html", form=LoginForm(), next=None)


def end_session_url() -> str | None:
    """Where log-out sends the browser to end the provider's session too (RP-initiated
    logout), when this session came from the provider and it offers an end-session endpoint.
    Read before the session is cleared; None on any trouble (the local session ends anyway)."""
    oauth = current_app.extensions.get(_EXTENSION)
    id_token = session.get(_ID_TOKEN)
    if oauth is None or not current_app.config["OIDC_LOGOUT_AT_PROVIDER"] or not id_token:
        return None
    client = oauth.create_client("oidc")
    try:
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        return client.create_logout_url(
            post_logout_redirect_uri=_external("auth.login"),
            id_token_hint=id_token,
            client_id=current_app.config["OIDC_CLIENT_ID"],
        )["url"]
    except (requests.RequestException, ValueError) as error:
        log_event("logout.sso_unreachable", detail=str(error)[:300])
        return None
