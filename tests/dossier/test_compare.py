"""The version comparison is bounded: a correct shortest diff within a step budget, a clear
message beyond it, and one computation per pair of texts. Changes come in groups with their
context."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dossier import compare, indexing
from dossier.compare import compare_texts
from dossier.models import Dossier, User

# Two 2 KB texts that made difflib's matcher cubic: 91 s for one compare page.
PATHOLOGICAL_OLD = "Artikel 1\n" + "x\n" * 1000
PATHOLOGICAL_NEW = "Artikel 1\n" + "x\ny\n" * 500


def _lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


@pytest.mark.any_database
def test_line_opcodes_are_a_shortest_edit_script() -> None:
    for seed in range(500):
        rng = random.Random(seed)
        a = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        b = [rng.choice("abc") for _ in range(rng.randint(0, 12))]
        rebuilt: list[str] = []
        kept = i = j = 0
        for tag, i1, i2, j1, j2 in compare.line_opcodes(a, b):
            assert (i1, j1) == (i, j), (a, b)
            if tag == "equal":
                assert a[i1:i2] == b[j1:j2]
                kept += i2 - i1
            rebuilt += b[j1:j2]
            i, j = i2, j2
        assert (i, j) == (len(a), len(b)) and rebuilt == b
        assert kept == _lcs_length(a, b), (a, b)


@pytest.mark.any_database
def test_pathological_pair_gets_a_correct_diff_within_the_budget() -> None:
    result = compare._compare(PATHOLOGICAL_OLD, PATHOLOGICAL_NEW, 3)
    assert not result.too_different
    assert (result.added, result.removed) == (500, 500)


@pytest.mark.any_database
def test_texts_beyond_the_budget_are_too_different() -> None:
    """Every line changed in 20,000-line texts: the search stops at its step budget."""
    old = "\n".join(f"old {i}" for i in range(compare.MAX_LINES))
    new = "\n".join(f"new {i}" for i in range(compare.MAX_LINES))
    result = compare._compare(old, new, 3)
    assert result.too_different and result.lines == []
    assert compare._compare(PATHOLOGICAL_OLD, PATHOLOGICAL_NEW, 3, budget=10_000).too_different
    # A long text with one change costs only its common beginning and end.
    edited = old.replace("old 10000\n", "changed\n")
    result = compare._compare(old, edited, 1, budget=10)
    assert (result.too_different, result.added, result.removed) == (False, 1, 1)


@pytest.mark.any_database
def test_a_pair_is_compared_once() -> None:
    old, new = "a\nb\nc\n" * 300, "a\nc\nb\n" * 300
    results: list[compare.Comparison] = []
    threads = [
        threading.Thread(target=lambda: results.append(compare.compare_texts(old, new)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(result is results[0] for result in results)
    assert compare.compare_texts(old, new) is results[0]
    assert compare.compare_texts(old, new, context=1) is not results[0]


def _upload(client: FlaskClient, url: str, path: Path) -> str:
    fields = {"confidentiality": "normal", "kind": "contract", "comment": "Nieuwe tekst"}
    with path.open("rb") as handle:
        response = client.post(
            url,
            data={"file": (handle, path.name), **fields},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def _two_versions(
    app: Flask, admin: User, dossier: Dossier, tmp_path: Path, old: str, new: str
) -> tuple[FlaskClient, str]:
    client = app.test_client(user=admin)
    first, second = tmp_path / "one" / "artikel.txt", tmp_path / "two" / "artikel.txt"
    for path, text in ((first, old), (second, new)):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    page = _upload(client, f"/dossiers/{dossier.reference}/documents/new", first)
    _upload(client, page + "/versions/new", second)
    indexing.drain()
    return client, page


@pytest.mark.any_database
def test_compare_page_of_the_pathological_pair_answers_quickly(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    """The issue is a hang (91 s of CPU), so a generous bound on this thread's CPU time is the
    test: unlike wall-clock time it does not grow when other processes share the cores."""
    client, page = _two_versions(
        app, admin, make_dossier(), tmp_path, PATHOLOGICAL_OLD, PATHOLOGICAL_NEW
    )
    started = time.thread_time()
    response = client.get(page + "/compare")
    assert time.thread_time() - started < 5
    assert response.status_code == 200
    assert "500 regels toegevoegd, 500 regels verwijderd" in response.text


@pytest.mark.any_database
def test_compare_page_says_when_versions_are_too_different(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    old = "".join(f"Regel {i} van de oude tekst.\n" for i in range(1, 1501))
    new = "".join(f"Line {i} of the new text.\n" for i in range(1, 1501))
    client, page = _two_versions(app, admin, make_dossier(), tmp_path, old, new)
    text = client.get(page + "/compare").text
    assert "Deze versies verschillen te veel om ze regel voor regel te vergelijken." in text
    assert "Regel 1 van" not in text
    same = client.get(page + "/compare?old=2&new=2").text
    assert "Kies twee verschillende versies om te vergelijken." in same
    path = tmp_path / "single" / "brief.txt"
    path.parent.mkdir()
    path.write_text("Een brief van de leverancier.", encoding="utf-8")
    single = _upload(client, page.rsplit("/documents/", 1)[0] + "/documents/new", path)
    alone = client.get(single + "/compare").text
    assert "Dit document heeft één versie: er is nog niets om mee te vergelijken." in alone


def test_compare_texts_groups_changes_with_context() -> None:
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 3", "line three").replace("line 18\n", "")
    result = compare_texts(old, new, context=1)
    kinds = [line.kind for line in result.lines]
    assert kinds == ["same", "removed", "added", "same", "gap", "same", "removed", "same"]
    assert (result.added, result.removed) == (1, 2)
    assert compare_texts("a\nb", "a\nb").lines == []
