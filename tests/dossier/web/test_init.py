"""`dossier/web/__init__.py`: the site icon is served to everyone."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from dossier.models import User


def test_favicon_is_served_to_everyone(app: Flask, make_user: Callable[..., User]) -> None:
    for client in (app.test_client(), app.test_client(user=make_user())):
        response = client.get("/favicon.ico")
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
        response.close()
    page = app.test_client(user=make_user()).get("/").text
    assert '<link rel="icon" href="/favicon.ico"' in page
