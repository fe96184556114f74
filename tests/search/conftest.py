"""The marker of the backend contract tests (tests/search/test_index.py)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs(*capabilities): runs only on search backends with these capabilities "
        "(search.backend.SearchBackend.capabilities), skipped with the reason on the others",
    )
