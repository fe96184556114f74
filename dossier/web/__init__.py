"""The web UI: one blueprint per area."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, send_from_directory
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

# The largest id an INTEGER column holds on PostgreSQL (SQLite's are larger).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route, bounded by the largest row id: a larger number is a 404 like
    any unknown id, instead of an overflow inside the database driver (a 500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def int_arg(name: str, default: int | None = None) -> int | None:
    """A whole-number query argument from 0 to MAX_ROW_ID, else `default` (a 30-digit page or
    version number is no number to look up, not an overflow)."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= MAX_ROW_ID else default


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    from dossier.web import (
        admin,
        amendments,
        audit_trail,
        auth,
        contacts,
        documents,
        dossiers,
        intake,
        management,
        members,
        notices,
        performance,
        plans,
        records,
        register,
        reports,
        search,
        second_factor,
        spend,
        sso,
        terms,
        tokens,
        transfer,
        webhooks,
        woo,
        woo_items,  # noqa: F401  (adds the document pages to woo.bp before it is registered)
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(dossiers.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(performance.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit_trail.bp)
    app.register_blueprint(management.bp)
    app.register_blueprint(contacts.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(spend.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(terms.bp)
    app.register_blueprint(amendments.bp)
    app.register_blueprint(intake.bp)
    transfer.init_app(app)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(sso.bp)
    app.register_blueprint(second_factor.bp)
    app.register_blueprint(woo.bp)
    app.add_url_rule("/favicon.ico", "favicon", favicon)


def favicon() -> Response:
    """The site icon, at the address every browser asks for whatever the page links to."""
    return send_from_directory(
        current_app.static_folder or "",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=7 * 24 * 3600,
    )
