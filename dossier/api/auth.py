"""Bearer-token authentication of API requests, the token's scope, and its rate limit.

The API accepts personal access tokens only: a session cookie does not open it, so a browser
cannot be made to send a write (CSRF does not apply), and a token request never starts a
browser session. The token's user then meets the same access policy as on the web pages.
"""

from __future__ import annotations

from flask import g, request

from dossier import access, database, throttling, tokens
from dossier.api.problems import Problem
from dossier.models import TokenScope
from dossier.security import log_event

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = 'Bearer realm="dossier"' + (f', error="{error}"' if error else "")
    return Problem(401, detail, {"WWW-Authenticate": challenge})


def authenticate() -> None:
    """Before every API request: find the token's user, check scope and rate limit."""
    if access.endpoint_rule(request.endpoint) != access.TOKEN:
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthorized("Send a personal access token: Authorization: Bearer <token>.")
    with database.read_only():
        token = tokens.authenticate(secret.strip())
    if token is None or token.user.must_change_password:
        log_event("api.token_refused")
        raise _unauthorized(
            "The token is not valid: unknown, expired, revoked, or its user is disabled.",
            "invalid_token",
        )
    g._login_user = token.user  # Flask-Login's current_user for this request only
    g.api_token_id = token.id
    if request.method not in SAFE_METHODS and token.scope != TokenScope.READ_WRITE:
        log_event("api.scope_refused", token=token.prefix)
        raise Problem(
            403,
            "This token may only read; make a read-write token to change anything.",
            {"WWW-Authenticate": 'Bearer realm="dossier", error="insufficient_scope"'},
        )
    # Per user, not per token: making more tokens buys no more requests.
    wait = throttling.spend("API_RATE_LIMITS", "api-user", str(token.user_id))
    if wait:
        log_event("request.throttled", token=token.prefix)
        raise Problem(
            429, "Too many requests with this token; try again later.", {"Retry-After": str(wait)}
        )
    if tokens.needs_last_used(token):
        with database.writing():
            tokens.mark_used(token.id)
