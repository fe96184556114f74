"""Folder intake: a watched folder for scanners and network shares.

A file in a subfolder named like a dossier reference is filed into that dossier (its kind
guessed from its name, as `dossier import` does); a file at the top level goes to the intake
queue, as does one in a subfolder that names no dossier the intake user may file into. Every
file is then moved to `done/` or `refused/` (beside it a `<name>.reason.txt` in Dutch and
English), keeping its subfolder; nothing is deleted. A file younger than
INTAKE_MIN_AGE_SECONDS is left alone: a scanner or a copy may still be writing it. Links and
special files are never followed or read: they are moved to refused/ as they are.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _

from dossier import documents, importer, intake
from dossier.errors import UploadRefused
from dossier.extensions import db
from dossier.models import IntakeStatus, User

log = logging.getLogger(__name__)
DONE = "done"
REFUSED = "refused"


@dataclass
class PassResult:
    filed: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # too young: next pass


def scan(actor: User, root: Path, min_age: float, now: float | None = None) -> PassResult:
    """One pass over the watched folder; commits per file."""
    result = PassResult()
    for name in (DONE, REFUSED):
        (root / name).mkdir(mode=0o700, exist_ok=True)
    now = time.time() if now is None else now
    for entry in _entries(root):
        if entry.is_dir(follow_symlinks=False):
            if entry.name in (DONE, REFUSED):
                continue
            for inner in _entries(Path(entry.path)):
                if not inner.is_dir(follow_symlinks=False):
                    _one(actor, root, Path(inner.path), entry.name, min_age, now, result)
        else:
            _one(actor, root, Path(entry.path), None, min_age, now, result)
    return result


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _one(
    actor: User,
    root: Path,
    path: Path,
    folder: str | None,
    min_age: float,
    now: float,
    result: PassResult,
) -> None:
    label = str(path.relative_to(root))
    info = path.lstat()
    if path.is_symlink() or not path.is_file():
        reasons = _reason_special()
        intake.refuse_unread(actor, importer.readable_name(path.name), reasons[0])
        db.session.commit()
        _move(root, path, REFUSED, reasons)
        result.refused.append(label)
        return
    if now - info.st_mtime < min_age:
        result.waiting.append(label)
        return
    name = importer.readable_name(path.name)
    try:
        with importer.open_beneath(root, path) as stream:
            item = intake.take_file(actor, stream, name, folder)
        db.session.commit()
    except OSError as exc:  # unreadable (permissions, gone): left in place for the next pass
        db.session.rollback()
        log.warning("file %s cannot be read: %s", label, exc.strerror or exc)
        result.waiting.append(label)
        return
    except Exception:
        db.session.rollback()
        raise
    if item.status == IntakeStatus.REFUSED:
        _move(root, path, REFUSED, _reasons(item.reason, path))
        result.refused.append(label)
    else:
        _move(root, path, DONE, None)
        (result.filed if item.status == IntakeStatus.FILED else result.queued).append(label)
    log.info("file %s: %s", label, item.status.value)


def _reason_special() -> tuple[str, str]:
    texts = []
    for locale in ("nl", "en"):
        with force_locale(locale):
            texts.append(_("Not a regular file (a link or a special file); it is not read."))
    return texts[0], texts[1]


def _reasons(stored: str, path: Path) -> tuple[str, str]:
    """The refusal in Dutch and English: the type check is repeated in each language (it is
    cheap and reads only the file's start), falling back to the stored reason."""
    texts = []
    for locale in ("nl", "en"):
        with force_locale(locale):
            try:
                with path.open("rb") as stream, documents.receive(stream, path.name):
                    texts.append(stored)
            except UploadRefused as exc:
                texts.append(str(exc))
            except OSError:
                texts.append(stored)
    return texts[0], texts[1]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    number = 2
    while target.exists() or Path(f"{target}.reason.txt").exists():
        stem, suffix = os.path.splitext(name)
        target = folder / f"{stem} ({number}){suffix}"
        number += 1
    return target


def _move(root: Path, path: Path, outcome: str, reasons: tuple[str, str] | None) -> None:
    """Move a handled file to done/ or refused/ (keeping its subfolder), never deleting it."""
    relative = path.parent.relative_to(root)
    folder = root / outcome / relative
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = _free_name(folder, path.name)
    os.rename(path, target)
    if reasons is not None:
        dutch, english = reasons
        text = f"Geweigerd: {dutch}\n\nRefused: {english}\n"
        Path(f"{target}.reason.txt").write_text(text, encoding="utf-8")
