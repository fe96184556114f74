"""`dossier/web/__init__.py`: the site icon is served to everyone; ids in routes and query
strings are bounded by the largest row id."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from flask import Flask

from dossier.models import Dossier, User
from dossier.web import RowIdConverter


def test_favicon_is_served_to_everyone(app: Flask, make_user: Callable[..., User]) -> None:
    for client in (app.test_client(), app.test_client(user=make_user())):
        response = client.get("/favicon.ico")
        assert response.status_code == 200
        assert response.mimetype == "image/vnd.microsoft.icon"
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO header
        response.close()
    page = app.test_client(user=make_user()).get("/").text
    assert '<link rel="icon" href="/favicon.ico"' in page


def test_a_number_too_large_for_any_row_id_is_not_found_on_every_route(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """A 19-digit id overflowed inside the database driver (500); it is a 404 like any unknown
    id, and a huge version or page number in the query string is ignored."""
    dossier = make_dossier()
    client = app.test_client(user=admin)
    huge = str(2**63)
    checked = 0
    for rule in app.url_map.iter_rules():
        numbers = [name for name, c in rule._converters.items() if isinstance(c, RowIdConverter)]
        if "GET" not in rule.methods or not numbers:
            continue
        values = {name: huge if name in numbers else dossier.reference for name in rule.arguments}
        url = "/" + rule.rule.lstrip("/")
        for name, value in values.items():
            url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
        assert client.get(url).status_code == 404, url
        checked += 1
    assert checked >= 5
    for query in ("/?page=" + huge, "/audit?page=" + huge):
        assert client.get(query).status_code in (200, 403), query  # the audit needs an auditor


def test_a_huge_version_number_in_the_query_string_is_no_500(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    client = app.test_client(user=admin)
    with io.BytesIO(b"Artikel 1 Levering\nDe levering.\n") as data:
        page = client.post(
            f"/dossiers/{dossier.reference}/documents/new",
            data={
                "file": (data, "brief.txt"),
                "kind": "correspondence",
                "confidentiality": "normal",
            },
            content_type="multipart/form-data",
        )
    document = page.headers["Location"].rstrip("/")
    huge = str(2**63)
    for path in (f"{document}?version={huge}", f"{document}/compare?new={huge}&old={huge}"):
        assert client.get(path).status_code in (200, 404), path
