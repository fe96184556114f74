"""R1: the crash-loop harness, short and bounded: the real server (waitress) on 127.0.0.1 is
killed with SIGKILL while clients upload; every acknowledged upload must come back intact and
`dossier verify` must pass. `scripts/crash_loop.py --kills 50` runs the long version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dossier.config import normalise_url

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "crash_loop.py"
PG_URL = os.environ.get("DOSSIER_TEST_DATABASE_URL", "")
SCHEMA = "crashloop"  # its own schema, so the rest of the suite's tables are left alone


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def _pg_schema_url() -> str:
    url = normalise_url(PG_URL)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{SCHEMA}"


@pytest.mark.slow
@pytest.mark.parametrize("backend", _backends())
def test_acknowledged_uploads_survive_sigkill(backend: str, tmp_path: Path) -> None:
    args = [sys.executable, str(SCRIPT), "--kills", "3", "--max-seconds", "150", "--seed", "6"]
    args += ["--instance", str(tmp_path / "instance")]
    if backend == "postgresql":
        args += ["--database-url", _pg_schema_url()]
    run = subprocess.run(args, capture_output=True, text=True, timeout=400)
    assert run.stdout.strip(), run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["kills"] == 3
    assert summary["acknowledged"] > 0, summary
    assert summary["lost"] == [], summary
    assert summary["other_statuses"] == {}, summary
    assert summary["verify_ok"], summary["verify_problems"]
    assert run.returncode == 0, run.stderr[-2000:]
