"""The web UI: one blueprint per area."""

from __future__ import annotations

from flask import Flask, current_app, send_from_directory
from werkzeug.wrappers import Response


def register_blueprints(app: Flask) -> None:
    from dossier.web import (
        admin,
        audit_trail,
        auth,
        documents,
        dossiers,
        members,
        register,
        reports,
        search,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(register.bp)
    app.register_blueprint(dossiers.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit_trail.bp)
    app.add_url_rule("/favicon.ico", "favicon", favicon)


def favicon() -> Response:
    """The site icon, at the address every browser asks for whatever the page links to."""
    return send_from_directory(
        current_app.static_folder or "",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=7 * 24 * 3600,
    )
