"""The JSON API under /api/v1: personal access tokens, OpenAPI 3.1 generated from the code
(flask-smorest), RFC 9457 problem details, pagination, ETags and per-token rate limits.

The views call the same domain functions and the same access policy as the web pages; only
the input and output shapes differ.
"""

from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

PREFIX = "/api/v1"
TITLE = "Dossier API"
VERSION = "1"


class DossierApi(Api):
    """flask-smorest's Api with problem details for its documented error responses; the app's
    own error handlers (dossier/security.py) answer API errors, so it registers none."""

    def _register_error_handlers(self) -> None:
        pass

    def _register_responses(self) -> None:
        from dossier.api.problems import PROBLEM_JSON
        from dossier.api.schemas import ProblemSchema

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = ProblemSchema
                prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Problem details", "schema": ProblemSchema}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def _register_pagination_header(self) -> None:
        """X-Pagination is a JSON text in a header: documented as the string it is."""
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination as JSON: total, total_pages, first_page, last_page, "
                "page, previous_page, next_page",
                "schema": {"type": "string"},
            },
            lazy=True,
        )


def init_app(app: Flask) -> None:
    from dossier.api import audit, auth, documents, dossiers, reports, search
    from dossier.api.schemas import Amount
    from dossier.extensions import csrf

    app.config.update(
        API_TITLE=TITLE,
        API_VERSION=VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Contract dossiers, documents, search, deadlines, reports and "
                "the audit trail. Authenticate with a personal access token (your account's "
                "API tokens page): Authorization: Bearer <token>. Errors are RFC 9457 "
                "problem details."
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = DossierApi(app)  # one per application: its spec is built from that app's routes
    api.register_field(Amount, "string", "decimal")
    for module in (dossiers, documents, search, reports, audit):
        csrf.exempt(module.blp)  # tokens only: a browser's cookie does not open the API
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    app.before_request(auth.authenticate)
