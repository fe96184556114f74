"""The API fuzzed against its own OpenAPI document with schemathesis: a real HTTP server over a
seeded instance, a real token made on the account page, every operation with generated valid
and invalid input. No 5xx, and every response (status, content type, headers, body) conforms
to the document."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from dossier import documents, dossiers, indexing, memberships
from dossier.extensions import db
from dossier.models import DocumentKind, GlobalRole, MemberRole, User
from tests.dossier.api.test_api import CONTRACT, make_token

# Generated cases per operation and phase: about two to three minutes per database.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server on a free port of 127.0.0.1 (its own request
    contexts per request, as in production)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)


def seed(make_user: Callable[..., User]) -> User:
    """A beheerder with two dossiers (one with a contract, indexed), a reader, an auditor."""
    beheerder = make_user("fuzz-bea@example.org", GlobalRole.BEHEERDER)
    reader = make_user("fuzz-rita@example.org")
    make_user("fuzz-audit@example.org", GlobalRole.AUDITOR)
    for reference in ("2025-001", "2025-002"):
        dossier = dossiers.create_dossier(
            beheerder, {"reference": reference, "title": f"Contract {reference}"}
        )
        memberships.set_role(beheerder, dossier, reader, MemberRole.READER)
    with documents.receive(io.BytesIO(CONTRACT), "overeenkomst.txt") as upload:
        documents.file_document(beheerder, dossier, upload, kind=DocumentKind.CONTRACT)
    db.session.commit()
    indexing.drain()
    return beheerder


@pytest.mark.slow
def test_schemathesis_finds_no_failure(
    app: Flask, make_user: Callable[..., User], server: str, tmp_path: Path
) -> None:
    token = make_token(app, seed(make_user))
    db.session.commit()
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{server}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "1",
        "--generation-database",
        "none",
        "--no-color",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
