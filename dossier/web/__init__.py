"""The web UI: one blueprint per area."""

from __future__ import annotations

from flask import Flask


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
