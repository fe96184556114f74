"""Dossier: versioned contract dossiers for contract administration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent


def _template_folder() -> str:
    """Templates ship inside the package when installed, and sit at the top level in a checkout."""
    installed = PACKAGE_DIR / "templates"
    return str(installed if installed.is_dir() else PACKAGE_DIR.parent / "templates")


def _ignore_file_size_signal() -> None:
    """A write past RLIMIT_FSIZE then fails with EFBIG (a clear 507) instead of killing us."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, database, extensions, web, CLI."""
    from dossier import api, audit, config, database, i18n, indexing, messages, security, services
    from dossier.web import register_blueprints

    instance = os.environ.get("DOSSIER_INSTANCE_PATH") or (test_config or {}).get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance or os.path.join(os.getcwd(), "instance")),
        instance_relative_config=True,
        template_folder=_template_folder(),
    )
    config.load(app, test_config)
    _ignore_file_size_signal()
    database.init_app(app)
    audit.init_app(app)
    services.init_app(app)
    indexing.init_app(app, filing=messages.file_from_extraction)
    security.init_app(app)
    i18n.init_app(app)
    register_blueprints(app)
    api.init_app(app)
    return app
