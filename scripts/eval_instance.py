"""A throw-away Dossier instance for the evaluations that go through the real pipeline.

`dossier init` and `dossier import FOLDER` run as a user runs them (a child process, SQLite in a
temporary folder, the worktree's code); `import` files every file, waits for the sandboxed text
extraction, segments clauses and writes the search index before it returns (it drains the outbox
itself, so no worker has to run). The queries then go through `dossier.searching.search`, the
function behind `dossier search --clauses --dossier REF --json` and the web search, in this
process, with the first administrator's rights.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def _environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "FLASK_"))}
    env["DOSSIER_INSTANCE_PATH"] = str(instance)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def dossier_command(instance: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dossier ARGS` against the instance; exit 2 of import (some files refused) is fine."""
    command = [sys.executable, "-c", "from dossier.cli import main; main()", *args]
    result = subprocess.run(
        command, env=_environment(instance), text=True, capture_output=True, cwd=ROOT
    )
    if result.returncode not in (0, 2):
        sys.exit(f"dossier {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def build(instance: Path, folder: Path) -> str:
    """A fresh instance with FOLDER imported (one dossier per sub-folder); returns its output."""
    dossier_command(instance, "init")
    return dossier_command(instance, "import", str(folder), "--json").stdout


@contextmanager
def session(instance: Path) -> Iterator[Any]:
    """An application context on the instance; yields the acting administrator."""
    os.environ["DOSSIER_INSTANCE_PATH"] = str(instance)
    sys.path.insert(0, str(ROOT))
    from dossier import create_app
    from dossier.cli.common import acting_user

    app = create_app()
    with app.app_context():
        yield acting_user(None)


# The thesaurus's expansion of queries (scripts take --no-expand to measure without it).
EXPAND = True


def search(actor: Any, query: str, limit: int, dossier: str | None = None) -> list[Any]:
    """The clause hits `dossier search --clauses [--dossier REF] --limit N` prints."""
    from dossier import searching
    from search.query import QueryRefused

    options: dict[str, Any] = {"mode": "clauses", "per_page": limit, "expand": EXPAND}
    if dossier is not None:
        options["dossier_id"] = searching.dossier_id_for(actor, dossier)
        if options["dossier_id"] is None:
            sys.exit(f"no dossier {dossier} in the evaluation instance")
    try:
        return searching.search(actor, query, **options).result.hits
    except QueryRefused:
        return []


def version_texts() -> dict[str, str]:
    """The extracted text of every current version, by original file name."""
    import sqlalchemy as sa

    from dossier.extensions import db
    from dossier.models import Document, DocumentVersion

    rows = db.session.execute(
        sa.select(DocumentVersion.original_filename, DocumentVersion.text)
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(DocumentVersion.number == Document.current_version_number)
    )
    return {name: text or "" for name, text in rows}


def current_files() -> dict[int, str]:
    """The original file name of every document's current version, by document id."""
    import sqlalchemy as sa

    from dossier.extensions import db
    from dossier.models import Document, DocumentVersion

    rows = db.session.execute(
        sa.select(Document.id, DocumentVersion.original_filename)
        .join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(DocumentVersion.number == Document.current_version_number)
    )
    return dict(rows.tuples().all())


def extraction_summary() -> str:
    """How many files the instance holds, by extraction outcome, and how many clauses."""
    import sqlalchemy as sa

    from dossier.extensions import db
    from dossier.models import Clause, DocumentVersion

    statuses = db.session.execute(
        sa.select(DocumentVersion.extraction_status, sa.func.count())
        .group_by(DocumentVersion.extraction_status)
        .order_by(DocumentVersion.extraction_status)
    ).all()
    clauses = db.session.scalar(sa.select(sa.func.count()).select_from(Clause))
    files = ", ".join(f"{count} {status}" for status, count in statuses)
    return f"files: {files}; {clauses} clauses"


def words(text: str) -> list[str]:
    """Lower-case word tokens without accents; a word broken by a hyphen at a line end is
    joined again ("termi-\\nnation" -> "termination")."""
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[^\W_]+", folded)
