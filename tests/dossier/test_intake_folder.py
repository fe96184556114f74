"""Folder intake: a file in a subfolder named like a dossier reference is filed there and moved
to done/; a refused file goes to refused/ with its reason in Dutch and English; a file at the
top level waits in the queue; a file still being written is left alone; nothing is deleted."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import folder_intake, indexing, intake
from dossier.extensions import db
from dossier.models import (
    Document,
    DocumentKind,
    Dossier,
    GlobalRole,
    IntakeItem,
    IntakeStatus,
    MemberRole,
    User,
)

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 2000


@pytest.fixture
def robot(make_user: Callable[..., User]) -> User:
    return make_user("intake@gemeente.example", GlobalRole.BEHEERDER, "Intake")


@pytest.fixture
def contract(make_dossier: Callable[..., Dossier], robot: User) -> Dossier:
    return make_dossier("2023-014", members={robot: MemberRole.BEHEERDER})


def _put(root: Path, relative: str, data: bytes, age: float = 120.0) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def _documents(dossier: Dossier) -> list[Document]:
    return list(db.session.scalars(sa.select(Document).where(Document.dossier_id == dossier.id)))


def test_a_file_in_a_reference_folder_is_filed_and_moved_to_done(
    app: Flask, tmp_path: Path, robot: User, contract: Dossier
) -> None:
    root = tmp_path / "intake"
    _put(root, "2023-014/Overeenkomst schoonmaak.pdf", PDF)
    result = folder_intake.scan(robot, root, min_age=30)
    indexing.drain()
    assert result.filed == ["2023-014/Overeenkomst schoonmaak.pdf"]
    (document,) = _documents(contract)
    assert document.kind == DocumentKind.CONTRACT, "kind from the name, as `dossier import`"
    assert document.title == "Overeenkomst schoonmaak"
    assert not (root / "2023-014" / "Overeenkomst schoonmaak.pdf").exists()
    assert (root / "done" / "2023-014" / "Overeenkomst schoonmaak.pdf").read_bytes() == PDF


def test_a_refused_file_goes_to_refused_with_its_reason_in_both_languages(
    app: Flask, tmp_path: Path, robot: User, contract: Dossier
) -> None:
    root = tmp_path / "intake"
    _put(root, "2023-014/factuur.pdf", EXE)
    result = folder_intake.scan(robot, root, min_age=30)
    assert result.refused == ["2023-014/factuur.pdf"] and _documents(contract) == []
    moved = root / "refused" / "2023-014" / "factuur.pdf"
    assert moved.read_bytes() == EXE, "kept, never deleted"
    reason = Path(f"{moved}.reason.txt").read_text(encoding="utf-8")
    assert "Geweigerd: De bestandsnaam eindigt op .pdf, maar de inhoud" in reason
    assert "Refused: The file name says .pdf" in reason
    assert "uitvoerbaar Windows- of DOS-bestand" in reason
    item = db.session.scalar(sa.select(IntakeItem))
    assert item is not None and item.status == IntakeStatus.REFUSED


def test_top_level_files_and_unknown_folders_wait_in_the_queue(
    app: Flask, tmp_path: Path, robot: User, contract: Dossier
) -> None:
    root = tmp_path / "intake"
    _put(root, "scan-0001.pdf", PDF)
    _put(root, "2099-999/notulen.txt", b"Notulen overleg\n")
    result = folder_intake.scan(robot, root, min_age=30)
    assert sorted(result.queued) == ["2099-999/notulen.txt", "scan-0001.pdf"]
    reasons = {item.filename: item.reason for item in intake.queued()}
    assert reasons == {
        "scan-0001.pdf": "geplaatst in de hoofdmap van de bewaakte map",
        "notulen.txt": "geen dossier met kenmerk 2099-999",
    }
    assert (root / "done" / "scan-0001.pdf").exists()
    assert (root / "done" / "2099-999" / "notulen.txt").exists()


def test_a_file_still_being_written_is_left_alone(
    app: Flask, tmp_path: Path, robot: User, contract: Dossier
) -> None:
    root = tmp_path / "intake"
    young = _put(root, "2023-014/verslag.txt", b"half", age=0)
    result = folder_intake.scan(robot, root, min_age=30)
    assert result.waiting == ["2023-014/verslag.txt"] and young.exists()
    assert db.session.scalar(sa.select(sa.func.count(IntakeItem.id))) == 0
    # Once it is old enough, the next pass files it.
    later = folder_intake.scan(robot, root, min_age=30, now=time.time() + 60)
    assert later.filed == ["2023-014/verslag.txt"]


def test_a_name_taken_in_done_is_not_overwritten(
    app: Flask, tmp_path: Path, robot: User, contract: Dossier
) -> None:
    root = tmp_path / "intake"
    _put(root, "brief.txt", b"eerste\n")
    folder_intake.scan(robot, root, min_age=0)
    _put(root, "brief.txt", b"tweede\n")
    folder_intake.scan(robot, root, min_age=0)
    assert (root / "done" / "brief.txt").read_bytes() == b"eerste\n"
    assert (root / "done" / "brief (2).txt").read_bytes() == b"tweede\n"


def test_a_link_is_never_followed(
    app: Flask, tmp_path: Path, robot: User, contract: Dossier
) -> None:
    root = tmp_path / "intake"
    (root / "2023-014").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("geheim\n")
    (root / "2023-014" / "link.txt").symlink_to(secret)
    result = folder_intake.scan(robot, root, min_age=0)
    assert result.refused == ["2023-014/link.txt"] and _documents(contract) == []
    assert (root / "refused" / "2023-014" / "link.txt").is_symlink()
    assert secret.read_text() == "geheim\n"
    reason = (root / "refused" / "2023-014" / "link.txt.reason.txt").read_text(encoding="utf-8")
    assert "Geen gewoon bestand" in reason and "Not a regular file" in reason
    item = db.session.scalar(sa.select(IntakeItem))
    assert item is not None and item.status == IntakeStatus.REFUSED
    assert item.filename == "link.txt" and item.reason.startswith("Geen gewoon bestand")
