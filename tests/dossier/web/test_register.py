"""`dossier/web/register.py`: the register page; an empty register says what to do."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from dossier.models import User


def test_empty_register_says_what_to_do(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    assert "Registreer het eerste dossier" in app.test_client(user=admin).get("/").text
    reader = app.test_client(user=make_user("reader@example.org")).get("/").text
    assert "nog geen dossiers" in reader and "Registreer het eerste dossier" not in reader
