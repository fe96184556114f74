"""Benchmark the web pages people wait for: the register, a dossier with 200 documents, a
document, and the search page, with 1,000 dossiers and 10,000 documents.

The data is seeded straight through the models and domain functions into a temporary
instance (SQLite, as `make run` uses); document rows carry short extracted texts and clauses
from the CUAD contracts, and the search index is rebuilt from them. Pages are then requested
through the Flask test client as logged-in users, so the times are server-side: routing,
queries, access checks and template rendering, without network or browser.

    .venv/bin/python scripts/bench_pages.py [--dossiers 1000] [--documents 10000] [--runs 30]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from flask_login import FlaskLoginClient  # noqa: E402

from dossier import create_app, database, dossiers, indexing  # noqa: E402
from dossier.accounts import create_user  # noqa: E402
from dossier.extensions import db  # noqa: E402
from dossier.models import (  # noqa: E402
    Clause,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    ExtractionStatus,
    GlobalRole,
    MemberRole,
    User,
)

CORPUS = ROOT.parent / "shared" / "corpus" / "cuad-dev" / "txt"
BIG_DOSSIER_DOCUMENTS = 200
TARGET_MS = 200.0
STATUSES = ["active", "active", "active", "draft", "ended", "terminated", "archived"]
KINDS = list(DocumentKind)
PASSWORD = "bench password 12345"


def _paragraphs() -> list[str]:
    """Paragraphs of real contract text to give the seeded documents some substance."""
    paragraphs: list[str] = []
    for path in sorted(CORPUS.glob("*.txt"))[:20]:
        text = path.read_text(encoding="utf-8", errors="replace")
        paragraphs += [p.strip() for p in text.split("\n\n") if 200 < len(p.strip()) < 2000]
    return paragraphs or ["This agreement is governed by the laws of the Netherlands."] * 10


def seed(app: Flask, n_dossiers: int, n_documents: int) -> dict[str, Any]:
    """Fill the instance; return the users and the objects the benchmark will request."""
    rng = random.Random(7)
    paragraphs = _paragraphs()
    with app.app_context():
        database.create_or_upgrade()
        admin = create_user(None, "admin@bench.example", "Admin", PASSWORD, GlobalRole.ADMIN)
        member = create_user(None, "member@bench.example", "Member", PASSWORD, None)
        db.session.commit()
        suppliers = [f"Leverancier {i:02d} B.V." for i in range(40)]
        for i in range(n_dossiers):
            dossier = dossiers.create_dossier(admin, _dossier_values(i, rng, suppliers))
            if i % 10 == 0:
                role = MemberRole.MANAGER if i == 0 else MemberRole.READER
                dossiers.grant(admin, dossier, member, role)
            if i % 200 == 199:
                db.session.commit()
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Dossier.id).order_by(Dossier.id)))
        big = ids[0]
        owners = [big] * BIG_DOSSIER_DOCUMENTS + [
            rng.choice(ids[1:]) for _ in range(n_documents - BIG_DOSSIER_DOCUMENTS)
        ]
        _documents(owners, paragraphs, rng, admin.id)
        db.session.commit()
        started = time.perf_counter()
        indexed = indexing.rebuild()
        print(
            f"seeded {n_dossiers} dossiers, {n_documents} documents; "
            f"index rebuilt ({indexed} documents) in {time.perf_counter() - started:.1f} s"
        )
        document = db.session.scalar(sa.select(Document).where(Document.dossier_id == big).limit(1))
        return {
            "admin": admin.id,
            "member": member.id,
            "big": db.session.get(Dossier, big).reference,
            "document": document.id,
        }


def _dossier_values(i: int, rng: random.Random, suppliers: list[str]) -> dict[str, Any]:
    end = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 5 * 365))
    return {
        "reference": f"{2020 + i // 250}-{i % 250 + 1:03d}",
        "title": f"Raamovereenkomst {rng.choice(['ICT', 'schoonmaak', 'catering', 'advies'])} {i}",
        "supplier": rng.choice(suppliers),
        "status": STATUSES[i % len(STATUSES)],
        "start_on": end - timedelta(days=3 * 365),
        "end_on": end,
        "option_count": rng.randrange(0, 3),
        "option_months": 12,
        "notice_value": 3,
        "notice_unit": "months",
        "value": Decimal(rng.randrange(10_000, 5_000_000)),
    }


def _documents(owners: list[int], paragraphs: list[str], rng: random.Random, actor: int) -> None:
    """Documents with one current version and two clauses each, inserted in bulk."""
    for start in range(0, len(owners), 1000):
        batch = []
        for n, dossier_id in enumerate(owners[start : start + 1000], start):
            kind = rng.choice(KINDS)
            text = "\n\n".join(rng.sample(paragraphs, 2))
            document = Document(
                dossier_id=dossier_id,
                kind=kind,
                title=f"{kind.value.capitalize()} {n}",
                document_date=date(2024, 1, 1) + timedelta(days=n % 700),
                current_version_number=1,
                created_by_id=actor,
            )
            version = DocumentVersion(
                number=1,
                blob_key=hashlib.sha256(str(n).encode()).hexdigest(),
                size=len(text),
                mime_type="text/plain",
                magic_mime="text/plain",
                file_kind="txt",
                original_filename=f"document-{n}.txt",
                uploaded_by_id=actor,
                extraction_status=ExtractionStatus.OK,
                text=text,
                page_count=1,
            )
            version.clauses = [
                Clause(number=str(k + 1), heading=f"Artikel {k + 1}", text=part, position=k)
                for k, part in enumerate(text.split("\n\n"))
            ]
            document.versions = [version]
            batch.append(document)
        db.session.add_all(batch)
        db.session.flush()


def measure(app: Flask, user_id: int, url: str, runs: int) -> tuple[float, float, int]:
    """p50 and p95 in milliseconds of `runs` requests for `url`, after two warm-up requests."""
    with app.app_context():
        user = db.session.get(User, user_id)
    client = app.test_client(user=user)
    times = []
    for i in range(runs + 2):
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        if i >= 2:
            times.append(elapsed)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dossier-bench-") as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "INSTANCE_PATH": folder,
                "INDEXING": "off",
                "RATELIMIT_ENABLED": False,
                # The administrator is measured, not made to set up an authenticator app.
                "SECOND_FACTOR_REQUIRED_ROLES": (),
            }
        )
        app.test_client_class = FlaskLoginClient
        started = time.perf_counter()
        ids = seed(app, args.dossiers, args.documents)
        print(f"seeding took {time.perf_counter() - started:.1f} s\n")
        big, doc = ids["big"], ids["document"]
        pages = [
            ("register, page 1 of 10 (admin)", "admin", "/"),
            ("register, page 5 by value (admin)", "admin", "/?sort=-value&page=5"),
            ("register, filtered (admin)", "admin", "/?q=leverancier+1&status=active"),
            ("register, 100 dossiers (member)", "member", "/"),
            ("dossier with 200 documents", "admin", f"/dossiers/{big}"),
            ("dossier with 200 documents (member)", "member", f"/dossiers/{big}"),
            ("document page", "admin", f"/dossiers/{big}/documents/{doc}"),
            ("search page, empty", "admin", "/search"),
            ("search, documents (admin)", "admin", "/search?q=governing+law"),
            ("search, clauses (member)", "member", "/search?q=termination&mode=clauses"),
        ]
        print(f"{'page':42} {'p50 ms':>8} {'p95 ms':>8} {'kB':>6}")
        slow = []
        for label, who, url in pages:
            p50, p95, size = measure(app, ids[who], url, args.runs)
            print(f"{label:42} {p50:8.1f} {p95:8.1f} {size / 1000:6.0f}")
            if p95 > TARGET_MS:
                slow.append(label)
        print(
            f"\ntarget: p95 under {TARGET_MS:.0f} ms; "
            + (f"over: {', '.join(slow)}" if slow else "all pages within it")
        )


if __name__ == "__main__":
    main()
