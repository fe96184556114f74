"""RFC 9457 problem details: every error under /api is `application/problem+json`.

The app's error handlers (dossier/security.py) ask `is_api_request` first and answer with
`from_http_exception` or `response` here, so an API client never gets an HTML page, and never
a stack trace: a 500 carries only the reference under which the trace was logged.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, json, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"


def is_api_request() -> bool:
    return request.path.startswith(PREFIX)


def response(
    status: int,
    detail: str | None = None,
    *,
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem-details response: type about:blank with the status's own title."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body |= {key: value for key, value in extra.items() if value is not None}
    result = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in dict(headers or {}).items():
        result.headers[name] = value
    result.headers["Cache-Control"] = "no-store"
    return result


class Problem(HTTPException):
    """An HTTP error with a specific detail (and headers) for the API to raise."""

    def __init__(
        self,
        status: int,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.code = status
        self.problem_headers = headers or {}
        self.extra = extra


# flask-smorest answers a missing or stale If-Match with werkzeug's generic text: say what to do.
_LOCKING = {
    412: _l("The data changed since you read it: read it again and send its new ETag as If-Match."),
    428: _l("Send the ETag of what you read as If-Match, so nobody's change is overwritten."),
}


def from_http_exception(error: HTTPException) -> Response:
    """The problem for a werkzeug exception, keeping its headers (Allow, WWW-Authenticate,
    Retry-After) and the field errors of a request that did not validate (422)."""
    status = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if isinstance(error, Problem):
        return response(
            status,
            error.description,
            headers=headers + list(error.problem_headers.items()),
            **error.extra,
        )
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    headers += list((data.get("headers") or {}).items())
    detail = data.get("message") or (
        str(_LOCKING[status]) if status in _LOCKING else error.description
    )
    if errors is not None:
        detail = "The request does not match the API's schema; see errors."
    reason = getattr(error, "reason", None)
    return response(status, detail, headers=headers, errors=errors, reason=reason)
