"""Settings from the environment: DOSSIER_<NAME> sets <NAME>, as the README documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier import create_app


def test_environment_variables_set_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DOSSIER_INDEXING", "worker")
    monkeypatch.setenv("DOSSIER_OCR", "false")
    monkeypatch.setenv("DOSSIER_THREADS", "4")
    monkeypatch.setenv("DOSSIER_LOGIN_LIMITS", "100 per minute")
    app = create_app()
    assert app.config["INDEXING"] == "worker"
    assert app.config["OCR"] is False
    assert app.config["THREADS"] == 4
    assert app.config["LOGIN_LIMITS"] == "100 per minute"
