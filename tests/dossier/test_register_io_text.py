"""`dossier/register_io.py`, text in an imported register: control and bidi-override characters
are cleaned; a NUL makes the row an error that names the column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from dossier.cli import cli
from dossier.extensions import db
from dossier.models import Dossier, User
from tests.dossier.helpers import DIRTY, LINE


def _import(app: Flask, path: Path) -> dict[str, list]:
    result = app.test_cli_runner().invoke(cli, ["register", "import", str(path), "--json"])
    return json.loads(result.stdout)


def test_the_register_import_cleans_text_and_refuses_a_nul(
    app: Flask, admin: User, tmp_path: Path
) -> None:
    path = tmp_path / "register.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Kenmerk", "Titel", "Omschrijving", "Leverancier", "Labels"])
        writer.writerow(["2025-080", "Schoon\x0bmaak", "een\r\ntwee\x0b", DIRTY, "IC\u202eT, x"])
        writer.writerow(["2025-081", "Ti\x00tel", "", "Acme", ""])
    report = _import(app, path)
    assert report["created"] == ["2025-080"]
    assert report["errors"] == [
        [3, "Titel: holds a NUL character; save the file again as UTF-8 text"]
    ]
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == "2025-080"))
    assert dossier is not None and dossier.supplier is not None
    assert (dossier.title, dossier.description) == ("Schoon maak", "een\ntwee")
    assert dossier.supplier.name == LINE
    assert dossier.tag_names == ["ICT", "x"]
    assert db.session.scalar(sa.select(Dossier).where(Dossier.reference == "2025-081")) is None
