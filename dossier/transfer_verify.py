"""Checking a transfer package offline: no database, no application, no network.

`verify(path)` takes the package folder or its .zip and returns every fault it finds, each
naming the file: the BagIt manifests (every payload file listed, nothing extra, every SHA-256
right, the tag files unchanged), every `*.mdto.xml` valid against the vendored MDTO schema,
every bestand sidecar agreeing with its file (present, size, SHA-256), every file described by
a sidecar, and every audit event in an audit-trail excerpt still matching its own hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import bagit

from dossier import audit, mdto

AUDIT_FILE = "audit-trail.json"
PACKING_SLIP = "pakbon.json"
SIDECAR = ".mdto.xml"
FILE_SIDECAR = ".bestand.mdto.xml"


@dataclass(frozen=True)
class Problem:
    """One fault: the file (relative to the package) and what is wrong with it."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def event_digest(event: dict[str, Any]) -> str:
    """The hash of an audit event as dossier/audit.py computes it, from its exported fields."""
    return audit.digest_of(event)


@contextmanager
def _opened(path: Path) -> Iterator[Path]:
    """The package folder; a .zip is unpacked into a temporary folder first."""
    if path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="transfer-verify-") as work:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            for member in members:
                parts = PurePosixPath(member.filename).parts
                if member.filename.startswith("/") or ".." in parts:
                    raise zipfile.BadZipFile(f"unsafe member name {member.filename!r}")
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise zipfile.BadZipFile(f"{member.filename!r} is a symbolic link")
            declared = sum(member.file_size for member in members)
            if declared > shutil.disk_usage(work).free:
                raise zipfile.BadZipFile(f"it unpacks to {declared} bytes, more than is free")
            archive.extractall(work)
        yield Path(work)


def verify(path: Path) -> list[Problem]:
    """Every fault of the package at `path` (a folder or a .zip); empty when it is sound."""
    if not path.exists():
        return [Problem(str(path), "does not exist")]
    try:
        with _opened(path) as root:
            return _verify_bag(root)
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        return [Problem(path.name, f"cannot be read as a package: {exc}")]


def _verify_bag(root: Path) -> list[Problem]:
    logging.getLogger("bagit").setLevel(logging.ERROR)
    links = [p for p in root.rglob("*") if p.is_symlink()]
    if links:  # a package holds plain files; a link could make the checks read other files
        return [Problem(p.relative_to(root).as_posix(), "is a symbolic link") for p in links]
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        return [Problem(".", f"not a BagIt package: {exc}")]
    problems = _manifest_problems(root, bag)
    data = root / "data"
    payload = sorted(p for p in data.rglob("*") if p.is_file())
    described: set[Path] = set()
    for sidecar in payload:
        if sidecar.name.endswith(SIDECAR):
            problems += _sidecar_problems(root, data, sidecar, described)
    for file in payload:
        rel = file.relative_to(root).as_posix()
        if file.name.endswith(SIDECAR) or (file.name == PACKING_SLIP and file.parent == data):
            continue
        if file not in described:
            problems.append(Problem(rel, "no bestand sidecar describes this file"))
        if file.name == AUDIT_FILE:
            problems += _audit_problems(rel, file)
    return problems


def _manifest_problems(root: Path, bag: bagit.Bag) -> list[Problem]:
    """Files missing from or absent in the manifests, and every SHA-256 (payload and tag
    files) recomputed: bagit's own validation stops at the byte count without naming files,
    so it runs last, for what else it checks (bagit.txt, bag-info.txt, Payload-Oxum)."""
    missing, unexpected = bag.compare_manifests_with_fs()
    problems = [Problem(p, "listed in the manifest but missing") for p in missing]
    problems += [Problem(p, "present but not listed in the manifest") for p in unexpected]
    for rel, hashes in sorted(bag.entries.items()):
        path = root / rel
        expected = hashes.get("sha256")
        if expected is None:
            problems.append(Problem(rel, "has no SHA-256 in the manifests"))
        elif path.is_file() and _sha256(path) != expected.lower():
            problems.append(Problem(rel, "SHA-256 does not match the manifest"))
    if problems:
        return problems
    try:
        bag.validate(processes=1)
    except bagit.BagError as exc:
        problems.append(Problem(".", str(exc)))
    return problems


def _sidecar_problems(root: Path, data: Path, sidecar: Path, described: set[Path]) -> list[Problem]:
    rel = sidecar.relative_to(root).as_posix()
    content = sidecar.read_bytes()
    errors = mdto.validate(content)
    if errors:
        return [Problem(rel, f"not valid MDTO {mdto.SCHEMA_VERSION}: {e}") for e in errors]
    facts = mdto.file_facts(content)
    if facts is None:
        return []
    if not sidecar.name.endswith(FILE_SIDECAR):
        return [Problem(rel, "a bestand sidecar must be named <file>.bestand.mdto.xml")]
    target = (data / facts.url).resolve()
    if (
        not target.is_relative_to(data.resolve())
        or target != sidecar.with_name(sidecar.name[: -len(FILE_SIDECAR)]).resolve()
    ):
        return [Problem(rel, f"URLBestand {facts.url!r} is not the file beside it")]
    if not target.is_file():
        return [Problem(rel, f"describes {facts.url}, which is missing")]
    described.add(target)
    file_rel = target.relative_to(root.resolve()).as_posix()
    found = []
    if target.stat().st_size != facts.size:
        found.append(Problem(file_rel, f"size {target.stat().st_size} differs from {facts.size}"))
    if facts.algorithm != "SHA256":
        found.append(Problem(rel, f"unknown checksum algorithm {facts.algorithm!r}"))
    elif _sha256(target) != facts.checksum.lower():
        found.append(Problem(file_rel, "SHA-256 differs from its MDTO sidecar"))
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _audit_problems(rel: str, file: Path) -> list[Problem]:
    try:
        events = json.loads(file.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Problem(rel, f"not readable JSON: {exc}")]
    if not isinstance(events, list):
        return [Problem(rel, "not a list of audit events")]
    problems = []
    for event in events:
        if not isinstance(event, dict) or event_digest(event) != event.get("hash"):
            ident = event.get("id") if isinstance(event, dict) else "?"
            problems.append(Problem(rel, f"audit event {ident} does not match its hash"))
    return problems
