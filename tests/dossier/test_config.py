"""`dossier/config.py`: settings from the environment (DOSSIER_<NAME> sets <NAME>, as the README
documents), and the public address that links are built from."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier import create_app
from dossier.config import public_url


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


def test_a_secret_key_that_looks_like_a_number_stays_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every web node of a cluster gets the same DOSSIER_SECRET_KEY; a key of digits with one
    "e" is valid JSON (a float) and must not be turned into one."""
    monkeypatch.setenv("DOSSIER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DOSSIER_SECRET_KEY", "1234567890e12")
    assert create_app().config["SECRET_KEY"] == "1234567890e12"


@pytest.mark.any_database
def test_public_url_names_the_host_when_listening_everywhere() -> None:
    assert public_url({"BASE_URL": "", "HOST": "::1", "PORT": 8080}) == "http://[::1]:8080"
    url = public_url({"BASE_URL": None, "HOST": "0.0.0.0", "PORT": 8080})
    assert url.endswith(":8080") and "0.0.0.0" not in url
