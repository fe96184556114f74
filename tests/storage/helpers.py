"""Data and helpers the storage tests share."""

from __future__ import annotations

import hashlib
from pathlib import Path

DATA = bytes(range(256)) * 700
DATA_KEY = hashlib.sha256(DATA).hexdigest()


def sha(data: bytes) -> str:
    """Return the hex SHA-256 the stores use as key."""
    return hashlib.sha256(data).hexdigest()


def files_under(directory: Path) -> list[Path]:
    """List every regular file below directory, to prove nothing was left behind."""
    return sorted(path for path in directory.rglob("*") if path.is_file())
