"""The search index is a self-healing cache (R4): damaged, locked or removed index files never stop
the application; search says it is rebuilding and falls back to the database, and once the
outbox is drained `dossier verify` finds the index equal to the database again."""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, indexing, searching, verify
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    Clause,
    Document,
    DocumentKind,
    Dossier,
    MemberRole,
    OutboxItem,
    User,
    utcnow,
)
from dossier.services import blob_store
from search.types import IndexUnavailable, Unit
from search.whoosh import WhooshBackend as SearchIndex

REBUILDING_NL = "De zoekindex wordt opnieuw opgebouwd"
CONTRACT = (
    "Artikel 1 Looptijd\nDeze overeenkomst heeft een looptijd van vier jaar.\n"
    "Artikel 2 Opzegging\nOpzegging geschiedt schriftelijk met een termijn van drie maanden.\n"
    "Artikel 3 Aansprakelijkheid\nDe aansprakelijkheid is beperkt tot het contractbedrag.\n"
)

SECRET = re.compile(r"\bGeheim\b")  # the other dossier's clause heading


def _file_text(actor: User, dossier: Dossier, text: str, name: str) -> Document:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(actor, dossier, upload, kind=DocumentKind.CONTRACT)
    db.session.commit()
    return document


def wait_for_background_indexing() -> None:
    """Join the indexer threads that a degraded search started, so no test leaves one behind."""
    for thread in threading.enumerate():
        if thread.name == "indexer":
            thread.join(timeout=120)
            assert not thread.is_alive(), "background indexing did not finish"


@pytest.fixture
def world(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, object]:
    reader = make_user("reader@example.org")
    dossier = make_dossier("2025-050", members={reader: MemberRole.READER})
    other = make_dossier("2025-051")
    contract = _file_text(admin, dossier, CONTRACT, "overeenkomst.txt")
    with documents.receive(io.BytesIO(CONTRACT.replace("vier", "vijf").encode()), "v2.txt") as up:
        documents.add_version(admin, contract, up, comment="verlengd")
    db.session.commit()
    _file_text(admin, dossier, "Notulen van het overleg over de looptijd.\n", "notulen.txt")
    _file_text(admin, other, "Artikel 1 Geheim\nDe looptijd is geheim.\n", "geheim.txt")
    indexing.drain()
    return {"reader": reader, "admin": admin, "dossier": dossier, "contract": contract}


def _report() -> verify.Report:
    db.session.rollback()  # see what other threads committed
    return verify.run(blob_store())


def _problems(report: verify.Report) -> list[tuple[str, str]]:
    return [(p.kind, p.subject) for p in report.problems]


# The "search index equals database" check of `dossier verify`


def test_a_drained_index_equals_the_database(app: Flask, world: dict) -> None:
    report = _report()
    assert report.ok, report.problems
    assert report.pending == []
    clauses = db.session.scalar(sa.select(sa.func.count()).select_from(Clause))
    # Two clause-less versions (minutes, the secret note has one clause) count one unit each.
    assert report.index_units >= clauses > 0


def test_a_version_missing_from_the_index_is_a_problem_until_work_is_queued(
    app: Flask, world: dict
) -> None:
    contract = world["contract"]
    indexing.search_index().delete_document(contract.id)
    report = _report()
    assert {kind for kind, _ in _problems(report)} == {"index_missing"}
    assert len(report.problems) == 2, "both versions of the contract are missing"

    db.session.add(OutboxItem(topic="document.index", object_id=contract.id))
    db.session.commit()
    report = _report()
    assert report.ok, report.problems
    assert [p.kind for p in report.pending] == ["index_pending", "index_missing", "index_missing"]

    indexing.drain()
    report = _report()
    assert report.ok and report.pending == []


def test_units_of_an_unknown_document_are_extra(app: Flask, world: dict) -> None:
    ghost = Unit(
        unit_id="9999:0",
        document_id=9999,
        version_id=9999,
        version_number=1,
        is_current=True,
        dossier_id=1,
        dossier_reference="2025-050",
        supplier="",
        dossier_status="active",
        kind="contract",
        title="Spook",
        document_date=None,
        clause_number="",
        heading="",
        page=None,
        position=0,
        is_clause=False,
        text="spook",
    )
    indexing.search_index().replace_document(9999, [ghost])
    assert _problems(_report()) == [("index_extra", "version 9999")]
    indexing.rebuild()
    assert _report().ok


def test_a_withdrawal_that_never_reached_the_index_is_extra(app: Flask, world: dict) -> None:
    contract = world["contract"]
    contract.withdrawn_at = utcnow()  # bypassing documents.withdraw: no outbox item
    db.session.commit()
    assert {kind for kind, _ in _problems(_report())} == {"index_extra"}
    db.session.add(OutboxItem(topic="document.remove", object_id=contract.id))
    db.session.commit()
    assert _report().ok
    indexing.drain()
    report = _report()
    assert report.ok and report.pending == []


def test_changed_clauses_and_current_flags_are_stale(app: Flask, world: dict) -> None:
    contract = world["contract"]
    current = contract.current_version
    db.session.delete(current.clauses[0])
    db.session.commit()
    assert _problems(_report()) == [("index_stale", f"version {current.id}")]
    contract.current_version_number = 1  # the old version would be the current one
    db.session.commit()
    kinds = sorted(kind for kind, _ in _problems(_report()))
    assert kinds == ["index_stale", "index_stale", "version_gap"]


def test_an_unreadable_index_is_a_problem_and_the_cli_says_so(
    app: Flask, world: dict, tmp_path: Path
) -> None:
    shutil.rmtree(app.config["INDEX_DIR"])
    report = _report()
    assert [p.kind for p in report.problems] == ["index_unavailable"]
    result = app.test_cli_runner().invoke(cli, ["verify"])
    assert result.exit_code == 1
    assert "PROBLEM index_unavailable: search index" in result.output
    indexing.drain()  # ensure_index rebuilds from the database
    assert _report().ok


def test_an_empty_instance_without_an_index_is_clean(app: Flask) -> None:
    assert not os.path.exists(app.config["INDEX_DIR"])
    report = _report()
    assert report.ok and report.index_units == 0


# Damage while the application runs


def _segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("gen-*/*.seg"))


def truncate_toc(directory: Path) -> None:
    toc = max(directory.glob("gen-*/*.toc"))
    toc.write_bytes(toc.read_bytes()[:20])


def delete_segment(directory: Path) -> None:
    _segment_files(directory)[0].unlink()


def garbage_segment(directory: Path) -> None:
    segment = _segment_files(directory)[0]
    size = segment.stat().st_size
    # A new file in place of the old one (as a disk error or a bad copy leaves it); searchers
    # that mapped the old file keep their copy, new readers get the garbage.
    segment.unlink()
    segment.write_bytes(os.urandom(size))


def remove_directory(directory: Path) -> None:
    shutil.rmtree(directory)


DAMAGE = [truncate_toc, delete_segment, garbage_segment, remove_directory]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_damage_keeps_the_app_serving_and_heals(
    app: Flask, world: dict, damage: Callable[[Path], None]
) -> None:
    reader = app.test_client(user=world["reader"])
    before = reader.get("/search?q=looptijd")
    assert before.status_code == 200 and REBUILDING_NL not in before.text
    assert "Looptijd" in before.text

    damage(Path(app.config["INDEX_DIR"]))
    # A fresh process (the worker, another web process) sees the damage at once.
    with pytest.raises(IndexUnavailable):
        SearchIndex(app.config["INDEX_DIR"]).check()

    for _ in range(3):  # the app keeps answering, searches included, and never with a 500
        assert reader.get("/").status_code == 200
        page = reader.get("/search?q=looptijd")
        assert page.status_code == 200
        assert "Looptijd" in page.text or REBUILDING_NL in page.text
        # As a whole word: the clause-type filter lists the label "Geheimhouding".
        assert not SECRET.search(page.text), "the fallback honours permissions too"
    assert reader.get("/dossiers/2025-050").status_code == 200
    wait_for_background_indexing()

    indexing.drain()  # what the worker does next: check the index, rebuild it if damaged
    SearchIndex(app.config["INDEX_DIR"]).check()  # healed on disk, as a new process sees it
    report = _report()
    assert report.ok, report.problems
    assert report.pending == []
    after = reader.get("/search?q=looptijd")
    assert after.status_code == 200 and REBUILDING_NL not in after.text
    assert "Looptijd" in after.text


def test_a_removed_index_gives_the_database_fallback_over_permitted_documents(
    app: Flask, world: dict
) -> None:
    shutil.rmtree(app.config["INDEX_DIR"])
    page = app.test_client(user=world["reader"]).get("/search?q=looptijd")
    wait_for_background_indexing()
    assert page.status_code == 200
    assert REBUILDING_NL in page.text
    assert "Looptijd" in page.text and not SECRET.search(page.text)


def test_stale_lock_files_do_not_block_indexing(
    app: Flask, world: dict, admin: User, tmp_path: Path
) -> None:
    directory = Path(app.config["INDEX_DIR"])
    dead = 2**22 + 12345  # above the default pid_max: no process has it
    generation = next(directory.glob("gen-*"))
    for lock in (
        directory / "writer.lock",
        directory.parent / "index-writer.lock",
        generation / "MAIN_WRITELOCK",
        generation / "MAIN.lock",
    ):
        lock.write_text(f"{dead}\n")
    _file_text(admin, world["dossier"], "Artikel 1 Nieuw\nEen nieuwe afspraak.\n", "nieuw.txt")
    assert indexing.drain() > 0
    hits = searching.search(world["reader"], "afspraak")
    assert not hits.degraded and hits.result.total == 1
    report = _report()
    assert report.ok and report.pending == []
