"""Load test on loopback: several `dossier run` (waitress) processes and a `dossier worker` on a
fresh instance, logged-in clients mixing searches, page views, downloads and uploads (a few of
them hostile files that must be refused), bounded in time and in requests. Prints throughput,
latency percentiles and errors per kind, checks that every acknowledged upload is stored with
its hash, then runs `dossier verify`. Exit status 1 on any error, failed upload or fault.

    .venv/bin/python scripts/load_test.py [--clients 30] [--duration 60] [--web 2] [--threads 8]

With --wildcard-clients N, N of the clients send nothing but expensive wildcard searches (three
letters and a star, no pause), as an abuser would; the other clients' page and search latencies
then show what that costs everyone else. A wildcard search refused by the per-user budget (429)
or refused as too broad (400) is counted as refused, not as an error.

Needs the shared corpus at ../shared/corpus (seed documents). Only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
VNG = CORPUS / "dutch" / "vng-softwarecatalogus-aanbesteding"
CUAD_TXT = CORPUS / "cuad-dev" / "txt"
CUAD_PDF = CORPUS / "cuad-dev" / "pdf"
HOST = "127.0.0.1"
PASSWORD = "load test password 2025"
QUERIES = [
    "looptijd",
    "opzegging",
    "aansprakelijkheid",
    "prijs",
    "betaling",
    "verwerker",
    "beschikbaarheid",
    '"service level"',
    "termination",
    "liability",
    "confidential information",
    "governing law",
    "indemnif*",
    "exclusivity",
    "artikel 5",
    "levering",
]
# Three-letter prefixes that expand to many terms in Dutch and English contract text.
WILDCARD_PREFIXES = [
    "con",
    "ver",
    "ter",
    "pro",
    "ove",
    "aan",
    "sta",
    "inf",
    "pre",
    "com",
    "be?",
    "in?",
]
# Request mix (relative weights); hostile uploads must come back refused (400 with a reason).
MIX = {"search": 35, "page": 33, "download": 15, "upload": 13, "hostile": 4}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DOCUMENT_LINK = re.compile(r"/dossiers/([^/\"]+)/documents/(\d+)")


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)  # ref, doc, sha256
    refused_hostile: int = 0
    refused_wildcard: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            self.examples.setdefault(kind, detail[:300])


def main() -> int:
    args = _arguments()
    if not VNG.is_dir() or not CUAD_TXT.is_dir():
        print(f"the shared corpus is not at {CORPUS}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="dossier-load-"))
    env = _environment(workdir, args)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        print(f"instance in {workdir}")
        seeded = _seed(env, workdir, args.clients)
        ports = [args.port + n for n in range(args.web)]
        processes = _start(env, workdir, ports)
        _wait_ready(ports)
        print(
            f"{args.web} web processes x {args.threads} threads on ports {ports}, 1 worker; "
            f"{args.clients} clients for {args.duration:.0f} s or {args.max_requests} requests"
        )
        stats = _run_clients(args, ports, seeded)
        wall = stats.latencies.pop("_wall")[0]
        drained = _wait_drained(env, args.drain_timeout)
        _stop(processes)
        processes = []
        lost = _check_acknowledged(env, stats.acknowledged)
        verified = _verify(env)
        _print_report(stats, wall, drained, lost, verified)
        failed = sum(stats.errors.values()) > 0 or lost or not verified or not drained
        return 1 if failed else 0
    finally:
        _stop(processes)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=30, help="concurrent clients (20-50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=20_000, help="stop after these")
    parser.add_argument("--web", type=int, default=2, help="`dossier run` processes")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per process")
    parser.add_argument("--port", type=int, default=5311, help="first port on 127.0.0.1")
    parser.add_argument(
        "--wildcard-clients", type=int, default=0, help="clients that only send wildcard searches"
    )
    parser.add_argument("--think", type=float, default=0.25, help="mean pause between requests")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--database-url", default="", help="an EMPTY PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args()
    if not 1 <= args.clients <= 50:
        parser.error("--clients must be between 1 and 50")
    if not 0 <= args.wildcard_clients < args.clients:
        parser.error("--wildcard-clients must leave at least one ordinary client")
    if args.duration > 600 or args.max_requests > 100_000:
        parser.error("the load test is bounded: at most 600 s and 100,000 requests")
    return args


def _environment(workdir: Path, args: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "FLASK_"))}
    env.update(
        DOSSIER_INSTANCE_PATH=str(workdir / "instance"),
        DOSSIER_INDEXING="worker",
        DOSSIER_THREADS=str(args.threads),
        DOSSIER_HOST=HOST,
        DOSSIER_OCR="false",
        # Every client logs in from 127.0.0.1: the per-address log-in throttle would refuse them.
        DOSSIER_LOGIN_LIMITS="10000 per minute",
    )
    if args.database_url:
        env["DOSSIER_DATABASE_URL"] = args.database_url
    return env


def _dossier(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "dossier"), *args]
    return subprocess.run(command, env=env, text=True, capture_output=True, **kwargs)


def _seed(env: dict[str, str], workdir: Path, clients: int) -> dict[str, Any]:
    """Instance, seed documents through `dossier import`, users with roles in every dossier."""
    started = time.monotonic()
    _checked(_dossier(env, "init"))
    root = workdir / "seed"
    folders = {"2025-001-VNG": sorted(VNG.iterdir())}
    texts = sorted(CUAD_TXT.glob("*.txt"))[:40]
    for n in range(4):
        folders[f"2025-00{n + 2}-CUAD"] = texts[n::4]
    for name, files in folders.items():
        (root / name).mkdir(parents=True)
        for path in files:
            if path.is_file():
                shutil.copyfile(path, root / name / path.name)  # import follows no links
    _checked(_dossier(env, "import", str(root), "--json", timeout=900))
    code = f"""
import sys
from dossier import create_app, dossiers, accounts
from dossier.extensions import db
from dossier.models import Dossier, Document, MemberRole, User
import sqlalchemy as sa
app = create_app()
with app.app_context():
    admin = db.session.scalar(sa.select(User).order_by(User.id))
    all_dossiers = db.session.scalars(sa.select(Dossier).order_by(Dossier.id)).all()
    for n in range({clients}):
        user = accounts.create_user(admin, f"client{{n}}@load.test", f"Client {{n}}",
                                    {PASSWORD!r})
        db.session.flush()
        for dossier in all_dossiers:
            role = MemberRole.BEHEERDER if n % 3 else MemberRole.READER
            dossiers.grant(admin, dossier, user, role)
    db.session.commit()
    for dossier in all_dossiers:
        for document in db.session.scalars(
            sa.select(Document).where(Document.dossier_id == dossier.id)
        ):
            print(dossier.reference, document.id, document.current_version_number)
"""
    seeded = _checked(
        subprocess.run(
            [sys.executable, "-c", code], env=env, text=True, capture_output=True, cwd=ROOT
        )
    )
    documents = [
        (ref, int(doc), int(number))
        for ref, doc, number in (line.split() for line in seeded.splitlines() if line.strip())
    ]
    references = sorted({ref for ref, _, _ in documents})
    print(
        f"seeded {len(documents)} documents in {len(references)} dossiers and {clients} users "
        f"in {time.monotonic() - started:.0f} s"
    )
    return {"documents": documents, "references": references}


def _checked(result: subprocess.CompletedProcess[str]) -> str:
    if result.returncode != 0:
        raise SystemExit(f"{result.args!r} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _start(env: dict[str, str], workdir: Path, ports: list[int]) -> list[subprocess.Popen[bytes]]:
    script = str(Path(sys.executable).parent / "dossier")
    processes = []
    logs = workdir / "logs"
    logs.mkdir()
    for port in ports:
        log = open(logs / f"web-{port}.log", "wb")  # noqa: SIM115 - closed with the process
        processes.append(
            subprocess.Popen(
                [script, "run", "--host", HOST, "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    worker_log = open(logs / "worker.log", "wb")  # noqa: SIM115
    processes.append(
        subprocess.Popen(
            [script, "worker", "--interval", "0.5"],
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
    )
    return processes


def _wait_ready(ports: list[int]) -> None:
    deadline = time.monotonic() + 60
    for port in ports:
        while True:
            try:
                if requests.get(f"http://{HOST}:{port}/login", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server on port {port} did not start")
            time.sleep(0.2)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _hostile_files() -> list[tuple[str, bytes]]:
    sys.path.insert(0, str(ROOT))
    from tests.ingest.hostile_corpus import REFUSED, generate

    return [(h.filename, h.data) for h in generate() if h.outcomes == {REFUSED}]


class Client:
    """One logged-in user with a requests session against one web process."""

    def __init__(self, number: int, base: str, seeded: dict[str, Any], stats: Stats) -> None:
        self.number = number
        self.base = base
        self.session = requests.Session()
        self.documents = list(seeded["documents"])
        self.references = seeded["references"]
        self.stats = stats
        self.can_file = number % 3 != 0
        self.random = random.Random(number)
        self.token = ""
        self.wildcard_only = 0

    def timed(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base + path, timeout=60, allow_redirects=False, **kwargs
            )
            response.content  # noqa: B018 - read the whole body inside the timing
        except requests.RequestException as exc:
            self.stats.error(f"{kind}: {type(exc).__name__}", str(exc))
            return None
        self.stats.record(kind, time.perf_counter() - started)
        if response.status_code >= 500:
            self.stats.error(f"{kind}: HTTP {response.status_code}", path)
        return response

    def login(self) -> None:
        page = self.timed("login", "GET", "/login")
        assert page is not None and page.status_code == 200
        token = CSRF.search(page.text)
        assert token, "the log-in form carries a CSRF token"
        response = self.timed(
            "login",
            "POST",
            "/login",
            data={
                "email": f"client{self.number}@load.test",
                "password": PASSWORD,
                "csrf_token": token.group(1),
            },
        )
        if response is None or response.status_code != 302:
            raise SystemExit(f"client {self.number} could not log in")
        form = self.timed("page", "GET", f"/dossiers/{self.references[0]}/documents/new")
        if self.can_file:
            assert form is not None and form.status_code == 200
            self.token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
        else:
            self.token = token.group(1)

    def wildcard(self) -> None:
        query = " ".join(self.random.sample(WILDCARD_PREFIXES, 2)).replace(" ", "* ") + "*"
        mode = self.random.choice(["documents", "clauses"])
        response = self.timed("wildcard", "GET", "/search", params={"q": query, "mode": mode})
        if response is None:
            return
        if response.status_code in (400, 429):  # too broad, or over the user's budget
            with self.stats.lock:
                self.stats.refused_wildcard += 1
        elif response.status_code != 200:
            self.stats.error(f"wildcard: HTTP {response.status_code}", query)

    def step(self) -> None:
        if self.number < self.wildcard_only:
            self.wildcard()
            return
        kinds = list(MIX)
        kind = self.random.choices(kinds, weights=[MIX[k] for k in kinds])[0]
        if kind in ("upload", "hostile") and not self.can_file:
            kind = "search"
        getattr(self, kind)()

    def search(self) -> None:
        query = self.random.choice(QUERIES)
        mode = self.random.choice(["documents", "clauses"])
        response = self.timed("search", "GET", "/search", params={"q": query, "mode": mode})
        if response is not None and response.status_code != 200:
            self.stats.error(f"search: HTTP {response.status_code}", query)

    def page(self) -> None:
        choice = self.random.random()
        if choice < 0.3:
            path = "/"
        elif choice < 0.6:
            path = f"/dossiers/{self.random.choice(self.references)}"
        else:
            ref, document, _ = self.random.choice(self.documents)
            path = f"/dossiers/{ref}/documents/{document}"
        response = self.timed("page", "GET", path)
        if response is not None and response.status_code != 200:
            self.stats.error(f"page: HTTP {response.status_code}", path)

    def download(self) -> None:
        ref, document, number = self.random.choice(self.documents)
        path = f"/dossiers/{ref}/documents/{document}/versions/{number}/download"
        response = self.timed("download", "GET", path)
        if response is not None and response.status_code != 200:
            self.stats.error(f"download: HTTP {response.status_code}", path)

    def upload(self) -> None:
        ref = self.random.choice(self.references)
        marker = uuid.uuid4().hex
        if self.random.random() < 0.2:
            source = self.random.choice(sorted(CUAD_PDF.glob("*.pdf"))[:20])
            name, data = f"bijlage-{marker[:8]}.pdf", source.read_bytes()
        else:
            text = (
                f"Artikel 1 Levering\nLevering door client {self.number}, kenmerk {marker}.\n"
                f"Artikel 2 Betaling\nBetaling binnen dertig dagen na factuur {marker[:6]}.\n"
            )
            name, data = f"brief-{marker[:8]}.txt", text.encode()
        response = self.timed(
            "upload",
            "POST",
            f"/dossiers/{ref}/documents/new",
            data={"kind": "correspondence", "confidentiality": "normal", "csrf_token": self.token},
            files={"file": (name, data, "application/octet-stream")},
        )
        if response is None:
            return
        match = DOCUMENT_LINK.search(response.headers.get("Location", ""))
        if response.status_code != 302 or not match:
            self.stats.error(f"upload: HTTP {response.status_code}", name)
            return
        with self.stats.lock:
            self.stats.acknowledged.append(
                (ref, int(match.group(2)), hashlib.sha256(data).hexdigest())
            )
        self.documents.append((ref, int(match.group(2)), 1))

    def hostile(self) -> None:
        name, data = self.random.choice(HOSTILE)
        ref = self.random.choice(self.references)
        response = self.timed(
            "hostile",
            "POST",
            f"/dossiers/{ref}/documents/new",
            data={"kind": "other", "confidentiality": "normal", "csrf_token": self.token},
            files={"file": (name, data, "application/octet-stream")},
        )
        if response is None:
            return
        if response.status_code == 400 and 'class="flash flash-error"' in response.text:
            with self.stats.lock:
                self.stats.refused_hostile += 1
        else:
            self.stats.error(f"hostile: HTTP {response.status_code} (not refused)", name)


HOSTILE: list[tuple[str, bytes]] = []


def _run_clients(args: argparse.Namespace, ports: list[int], seeded: dict[str, Any]) -> Stats:
    HOSTILE.extend(_hostile_files())
    stats = Stats()
    clients = [
        Client(n, f"http://{HOST}:{ports[n % len(ports)]}", seeded, stats)
        for n in range(args.clients)
    ]
    for client in clients:
        client.login()
        client.wildcard_only = args.wildcard_clients
    budget = threading.Semaphore(args.max_requests)
    started = time.monotonic()
    deadline = started + args.duration

    def run(client: Client) -> None:
        while time.monotonic() < deadline and budget.acquire(blocking=False):
            try:
                client.step()
            except Exception as exc:  # counted, never hides a failure
                stats.error(f"client: {type(exc).__name__}", repr(exc))
            if client.number >= args.wildcard_clients and args.think:
                time.sleep(client.random.expovariate(1 / args.think))

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.latencies["_wall"] = [time.monotonic() - started]
    return stats


def _wait_drained(env: dict[str, str], timeout: float) -> bool:
    """Wait for the worker to extract and index everything uploaded."""
    code = (
        "from dossier import create_app, indexing\n"
        "with create_app().app_context(): print(indexing.pending())"
    )
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, text=True, capture_output=True, cwd=ROOT
        )
        if result.returncode == 0 and result.stdout.strip() == "0":
            print(f"outbox drained {time.monotonic() - started:.0f} s after the load ended")
            return True
        time.sleep(2)
    print(f"the outbox was not drained within {timeout:.0f} s")
    return False


def _check_acknowledged(env: dict[str, str], acknowledged: list[tuple[str, int, str]]) -> int:
    """Every upload the clients saw acknowledged is stored with the bytes they sent."""
    code = """
import sys
from dossier import create_app
from dossier.extensions import db
from dossier.models import DocumentVersion
import sqlalchemy as sa
with create_app().app_context():
    for line in sys.stdin:
        document, sha = line.split()
        key = db.session.scalar(sa.select(DocumentVersion.blob_key).where(
            DocumentVersion.document_id == int(document), DocumentVersion.number == 1))
        if key != sha:
            print(document)
"""
    lines = "".join(f"{doc} {sha}\n" for _, doc, sha in acknowledged)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, text=True, capture_output=True, input=lines, cwd=ROOT
    )
    if result.returncode != 0:
        print(result.stderr)
        return len(acknowledged)
    return len(result.stdout.split())


def _verify(env: dict[str, str]) -> bool:
    result = _dossier(env, "verify", timeout=600)
    print(result.stdout.strip())
    if result.returncode != 0:
        print(result.stderr.strip())
    return result.returncode == 0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _print_report(stats: Stats, wall: float, drained: bool, lost: int, verified: bool) -> None:
    total = sum(len(v) for k, v in stats.latencies.items() if k != "login")
    print(f"\n{total} requests in {wall:.1f} s: {total / wall:.1f} requests/s")
    print(f"{'kind':<10} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in ("search", "page", "download", "upload", "hostile", "login", "wildcard"):
        values = stats.latencies.get(kind, [])
        if not values:
            continue
        ms = [v * 1000 for v in values]
        print(
            f"{kind:<10} {len(ms):>7} {statistics.median(ms):>8.0f} "
            f"{_percentile(ms, 0.95):>8.0f} {_percentile(ms, 0.99):>8.0f} {max(ms):>8.0f}"
        )
    print(f"uploads acknowledged: {len(stats.acknowledged)}, missing or altered: {lost}")
    print(f"hostile uploads refused cleanly: {stats.refused_hostile}")
    if "wildcard" in stats.latencies:
        print(f"wildcard searches refused (too broad or over budget): {stats.refused_wildcard}")
    if stats.errors:
        print("errors:")
        for kind, count in stats.errors.most_common():
            print(f"  {kind}: {count}  (e.g. {stats.examples[kind]})")
    else:
        print("errors: none")
    outbox = "yes" if drained else "NO"
    print(f"outbox drained: {outbox}; dossier verify: {'OK' if verified else 'FAILED'}")


if __name__ == "__main__":
    sys.exit(main())
