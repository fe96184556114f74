"""Log-in sessions, CSRF, security headers and error pages that show nothing internal."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix

from dossier import access, database, throttling
from dossier.api import problems
from dossier.errors import IntegrityFailure
from dossier.extensions import csrf, db, limiter, login_manager
from dossier.models import User

log = logging.getLogger(__name__)
_PROXY_NOTICED = "dossier.untrusted_proxy_noticed"

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Wire log-in, CSRF, headers and error handlers into `app`."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    csrf.init_app(app)
    limiter.init_app(app)
    throttling.init_app(app)
    _trust_proxies(app)
    app.before_request(_enforce_endpoint_policy)
    app.after_request(_add_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(IntegrityFailure, _integrity_error)
    app.register_error_handler(sa.exc.OperationalError, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies, take the client's address and scheme from the headers they
    set (so per-address limits, logs and Secure cookies see the real client); otherwise
    ignore those headers, which any client can send."""
    count = app.config["TRUSTED_PROXIES"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"TRUSTED_PROXIES must be a whole number 0 or more, not {count!r}")
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    else:
        app.before_request(_notice_an_untrusted_proxy)


def _notice_an_untrusted_proxy() -> None:
    """Say once that requests come through a proxy nobody told us about: every client then has
    the proxy's address, so one address's log-in limit would close log-in for everybody."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if "X-Forwarded-For" in request.headers and not app.extensions.get(_PROXY_NOTICED):
        app.extensions[_PROXY_NOTICED] = True
        log_event(
            "config.untrusted_proxy",
            advice="requests carry X-Forwarded-For but DOSSIER_TRUSTED_PROXIES is 0: set it to "
            "the number of reverse proxies in front, or per-address log-in limits count the "
            "proxy's address for every client",
        )


def log_event(event: str, level: int = logging.WARNING, **fields: Any) -> None:
    """One JSON line for a security event (failed log-in, throttle, denial), with the request's
    address, method, path and user, for whoever watches the logs. JSON escapes control
    characters, so nothing typed by a client can forge a line."""
    record: dict[str, Any] = {"event": event}
    if has_request_context():
        record |= {
            "address": request.remote_addr,
            "method": request.method,
            "path": request.path[:500],
            "user_id": current_user.id if current_user.is_authenticated else None,
        }
    record |= fields
    log.log(level, json.dumps(record, sort_keys=True, default=str))


def load_user(cookie_id: str) -> User | None:
    """The user a session or remember-me cookie names, if its token is still current.

    Loaded in a short session of its own and detached, so a request holds no database
    transaction while it receives an upload.
    """
    user_id, _, token = cookie_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    with database.read_only(), Session(db.engine, expire_on_commit=False) as session:
        user = session.scalar(
            sa.select(User).where(User.id == int(user_id), User.is_enabled.is_(True))
        )
        if user is None or not secrets.compare_digest(user.session_token, token):
            return None
        session.expunge(user)
    return user


def _enforce_endpoint_policy() -> Response | None:
    """Deny by default: unknown endpoints are 404, non-public ones need a logged-in user."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404 or 405 itself
    rule = access.endpoint_rule(request.endpoint)
    if rule is None:
        abort(404)
    if rule == access.TOKEN:
        return None  # the API authenticates its bearer token itself (dossier/api/auth.py)
    if rule != access.PUBLIC and not current_user.is_authenticated:
        return login_manager.unauthorized()
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS
    ):
        return redirect(url_for("auth.password"))  # type: ignore[return-value]
    return None


# What a user with a one-time password may still reach: nothing else until it is replaced.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"static", "auth.password", "auth.password_submit", "auth.logout", "auth.language"}
)


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    seconds = current_app.config["HSTS_SECONDS"]
    if seconds and request.is_secure:  # browsers ignore it over http (RFC 6797 section 8.1)
        subdomains = "; includeSubDomains" if current_app.config["HSTS_INCLUDE_SUBDOMAINS"] else ""
        response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}{subdomains}")
    return response


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    log_event("request.csrf_failed")
    return _error_page(400, "csrf")


def _integrity_error(error: IntegrityFailure) -> tuple[str, int]:
    error_id = secrets.token_hex(6)
    log.critical("integrity failure %s on %s: %s", error_id, request.path, error)
    db.session.rollback()
    return _error_page(500, "integrity", error_id)


# Seconds a client is asked to wait after a 503 for lock contention.
RETRY_AFTER_SECONDS = 5


def _database_error(error: sa.exc.OperationalError) -> tuple[str, int, dict[str, str]]:
    """Lock contention (another writer held the database too long) is a 503 with Retry-After:
    nothing was changed and the same request succeeds a moment later. Anything else is a 500."""
    if not database.is_contention(error):
        return (*_unexpected_error(error), {})
    log.warning("database busy on %s %s: %s", request.method, request.path, error.orig)
    db.session.rollback()
    return (*_error_page(503, "busy"), {"Retry-After": str(RETRY_AFTER_SECONDS)})


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    if error.code is None or error.code < 400:
        return error.get_response()
    db.session.rollback()
    _log_denial(error.code)
    if problems.is_api_request():
        return problems.from_http_exception(error)
    return _error_page(error.code, getattr(error, "reason", None))


def _log_denial(code: int) -> None:
    """Log refusals; a 404 (also what an invisible object gives) at INFO, as scanners make many."""
    if code in (401, 403):
        log_event("access.denied", status=code, endpoint=request.endpoint)
    elif code == 404:
        log_event("access.not_found", logging.INFO, status=code, endpoint=request.endpoint)
    elif code == 429:
        log_event("request.throttled", status=code, endpoint=request.endpoint)


def _error_page(
    code: int, reason: str | None = None, error_id: str | None = None
) -> tuple[str, int]:
    """The friendly error page; plain text if even that cannot be rendered. Under /api:
    problem details (RFC 9457), with the reference of a logged error and nothing more."""
    if problems.is_api_request():
        return problems.response(code, reason=reason, error_id=error_id), code  # type: ignore[return-value]
    try:
        return render_template(
            "errors/error.html", code=code, reason=reason, error_id=error_id
        ), code
    except Exception:
        log.exception("error page could not be rendered (%s)", error_id)
        return f"Error {code}" + (f" (reference {error_id})" if error_id else ""), code


def _unexpected_error(error: Exception) -> tuple[str, int]:
    """Log the stack trace under an id and show the user only that id."""
    if isinstance(error, HTTPException):
        return _http_error(error)  # type: ignore[return-value]
    error_id = secrets.token_hex(6)
    log.error("unhandled error %s on %s %s", error_id, request.method, request.path, exc_info=error)
    db.session.rollback()
    return _error_page(InternalServerError.code, None, error_id)
