"""The Dutch catalog covers every interface text, its .mo is current, and English can be chosen.
Filing a document is "toevoegen" in Dutch, never "archiveren" (that is the dossier status
Gearchiveerd and the Archiefwet's archiving).

After changing a `_()` text in a template or in dossier/: run `make translations`, translate the
new or fuzzy entries in dossier/translations/nl/LC_MESSAGES/messages.po, then run it again.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from werkzeug.test import TestResponse

pytestmark = pytest.mark.any_database

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "dossier" / "translations"
DUTCH_PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"
DUTCH_MO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.mo"
# The same keywords as `make translations` (pybabel's defaults plus -k _l -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}


def _source_messages() -> dict[str, list[str]]:
    """Every msgid in the current sources (as babel.cfg maps them), with where it occurs."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(ROOT / "babel.cfg"))
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def _strings(catalog: Catalog) -> dict[object, object]:
    """msgid (singular, plural) and context -> translation(s), comparable across .po and .mo."""

    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(plain(m.id), m.context): plain(m.string) for m in catalog if m.id}


def test_sources_yield_messages() -> None:
    found = _source_messages()
    assert "Log in" in found, "extraction found the templates"
    assert "Contract administrator" in found, "extraction found the lazy labels in dossier/web"
    assert "%(num)d dossier" in found, "extraction found ngettext() in templates"


def test_every_message_has_a_dutch_translation() -> None:
    catalog = _read_po(DUTCH_PO)
    assert catalog.num_plurals == 2
    untranslated = []
    for msgid, places in sorted(_source_messages().items()):
        entry = catalog.get(msgid)
        strings = entry.string if entry else ""
        forms = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(forms):
            untranslated.append(f"{msgid!r} ({', '.join(places)})")
    assert not untranslated, (
        "no Dutch translation (run `make translations`, translate in "
        f"{DUTCH_PO.relative_to(ROOT)}, run it again):\n" + "\n".join(untranslated)
    )


def test_compiled_catalog_is_up_to_date() -> None:
    fresh = BytesIO()
    write_mo(fresh, _read_po(DUTCH_PO))
    fresh.seek(0)
    with DUTCH_MO.open("rb") as handle:
        shipped = read_mo(handle)
    assert _strings(shipped) == _strings(read_mo(fresh)), (
        f"{DUTCH_MO.relative_to(ROOT)} is stale: run `make translations`"
    )


def test_dutch_by_default_and_english_on_request(app: Flask) -> None:
    client = app.test_client()

    def get(path: str) -> TestResponse:
        # Flask-Babel caches the chosen locale on `g`; the `app` fixture's app context outlives
        # requests, so give each request its own app context, as a real server does.
        with app.app_context():
            return client.get(path)

    dutch = get("/login")
    assert dutch.status_code == 200
    assert "Inloggen" in dutch.text
    assert "Wachtwoord" in dutch.text
    assert 'lang="nl"' in dutch.text

    chosen = client.post("/language", data={"lang": "en", "next": "/login"})
    assert chosen.status_code == 302

    english = get("/login")
    assert english.status_code == 200
    assert "Log in" in english.text
    assert "Password" in english.text
    assert "Inloggen" not in english.text
    assert 'lang="en"' in english.text


_FILING = re.compile(r"\bfil(?:e|ed|ing)\b(?! (?:name|type|is|was|contains|ending|too))", re.I)


def test_filing_is_never_translated_as_archiving() -> None:
    with DUTCH_PO.open("rb") as handle:
        catalog = read_po(handle)
    wrong = []
    for message in catalog:
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string if isinstance(message.string, str) else message.string[0]
        if not msgid or not _FILING.search(msgid) or "archiv" in msgid.lower():
            continue  # not about filing, or about an archived dossier as well
        if "archiv" in string.lower():
            wrong.append((msgid, string))
    assert wrong == []
