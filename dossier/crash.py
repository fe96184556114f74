"""Named crash points, so tests can prove that a crash at any step loses nothing."""

from __future__ import annotations

import os

ENV_VAR = "DOSSIER_CRASH_AT"


def point(name: str) -> None:
    """Exit the process at once, without cleanup, when the environment names this step."""
    if os.environ.get(ENV_VAR) == name:
        os._exit(70)
