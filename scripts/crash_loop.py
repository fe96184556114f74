"""Crash loop (R1): upload over HTTP while the real server is killed with SIGKILL, then prove that
every upload the client saw acknowledged is stored with identical bytes and `dossier verify` passes.

Bounded: it stops after --kills kills or --max-seconds, whichever comes first. Loopback only.

    .venv/bin/python scripts/crash_loop.py --kills 10
    .venv/bin/python scripts/crash_loop.py --kills 5 --database-url postgresql://...  # empty db

Prints a JSON summary on the last line; exit status 0 when nothing acknowledged was lost.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
DOSSIER = Path(sys.executable).with_name("dossier")
REFERENCE = "2025-901"
ADMIN = "admin@dossier.local"
PASSWORD_FILE = "initial-admin-password.txt"
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)
FLASH = re.compile(r'<(?:p|div|li)[^>]*class="[^"]*(?:flash|error)[^"]*"[^>]*>([^<]+)')
DOCUMENT_URL = re.compile(rf"/dossiers/{REFERENCE}/documents/(\d+)$")


@dataclass
class Tally:
    acknowledged: dict[int, str] = field(default_factory=dict)  # document id -> sha256 of v1
    versions: dict[int, set[str]] = field(default_factory=dict)  # acknowledged later versions
    attempts: int = 0
    failed: int = 0  # connection dropped or refused: the client knows it was not acknowledged
    refused: dict[int, int] = field(default_factory=dict)  # other HTTP statuses
    reasons: list[str] = field(default_factory=list)  # the first few texts of such answers
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`dossier run` in its own process group, so SIGKILL takes its extraction children too."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(DOSSIER), "run", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.process.returncode}; see {self.log}"
                )
            try:
                if requests.get(self.url + "/login", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the server did not answer in time")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process:
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token in the form")
    return match.group(1) or match.group(2)


def log_in(session: requests.Session, base: str, password: str) -> None:
    token = csrf_token(session.get(base + "/login", timeout=10).text)
    response = session.post(
        base + "/login",
        data={"email": ADMIN, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    if response.status_code != 302:
        raise RuntimeError(f"log-in failed with {response.status_code}")
    if response.headers.get("Location", "").endswith("/account/password"):
        # The generated first password is one-time: choose a new one, as a person would.
        token = csrf_token(session.get(base + "/account/password", timeout=10).text)
        new = password + "-changed"
        changed = session.post(
            base + "/account/password",
            data={
                "current_password": password,
                "new_password": new,
                "confirm": new,
                "csrf_token": token,
            },
            allow_redirects=False,
            timeout=10,
        )
        if changed.status_code != 302:
            raise RuntimeError(f"changing the one-time password failed with {changed.status_code}")


def upload_once(session: requests.Session, base: str, number: int, tally: Tally) -> None:
    """File a new document, or (one time in four) a new version of an acknowledged one."""
    body = f"Crashlus upload {number}\n{os.urandom(16).hex()}\n".encode() * random.randint(1, 400)
    digest = hashlib.sha256(body).hexdigest()
    with tally.lock:
        tally.attempts += 1
        known = sorted(tally.acknowledged)
    target = random.choice(known) if known and random.random() < 0.25 else None
    documents = f"{base}/dossiers/{REFERENCE}/documents"
    if target is None:
        form_url = f"{documents}/new"
        data = {"kind": "correspondence", "confidentiality": "normal"}
    else:
        form_url = f"{documents}/{target}/versions/new"
        data = {"comment": f"versie uit upload {number}"}
    try:
        token = csrf_token(session.get(form_url, timeout=10).text)
        response = session.post(
            form_url,
            data={"csrf_token": token, **data},
            files={"file": (f"brief-{number}.txt", body, "text/plain")},
            allow_redirects=False,
            timeout=30,
        )
    except (requests.RequestException, RuntimeError):
        with tally.lock:
            tally.failed += 1
        return
    match = DOCUMENT_URL.search(response.headers.get("Location", ""))
    with tally.lock:
        if response.status_code == 302 and match and target is None:
            tally.acknowledged[int(match.group(1))] = digest
        elif response.status_code == 302 and match and int(match.group(1)) == target:
            tally.versions.setdefault(target, set()).add(digest)
        else:
            tally.refused[response.status_code] = tally.refused.get(response.status_code, 0) + 1
            if len(tally.reasons) < 5:
                tally.reasons.append(" ".join(FLASH.findall(response.text))[:300])


def client(
    base: str,
    cookies: requests.cookies.RequestsCookieJar,
    tally: Tally,
    stop: threading.Event,
    start: int,
):
    session = requests.Session()
    session.cookies = cookies.copy()  # the log-in session's cookie, with its domain
    number = start
    while not stop.is_set():
        upload_once(session, base, number, tally)
        number += 2
        if tally.failed and not stop.is_set():
            time.sleep(0.05)  # the server is down; do not spin


def check_acknowledged(
    base: str, cookies: requests.cookies.RequestsCookieJar, tally: Tally
) -> list[str]:
    """Download every version of every acknowledged document; each acknowledged file is there."""
    session = requests.Session()
    session.cookies = cookies.copy()
    lost = []
    for document_id, first in sorted(tally.acknowledged.items()):
        stored: list[str] = []
        while True:
            url = (
                f"{base}/dossiers/{REFERENCE}/documents/{document_id}"
                f"/versions/{len(stored) + 1}/download"
            )
            response = session.get(url, timeout=30)
            if response.status_code == 404:
                break
            if response.status_code != 200:
                lost.append(f"{url}: HTTP {response.status_code}")
                break
            stored.append(hashlib.sha256(response.content).hexdigest())
        if not stored or stored[0] != first:
            lost.append(f"document {document_id}: version 1 missing or different")
        for digest in sorted(tally.versions.get(document_id, set()) - set(stored)):
            lost.append(f"document {document_id}: acknowledged version {digest} missing")
    return lost


def prepare(env: dict[str, str], instance: Path) -> str:
    subprocess.run([str(DOSSIER), "init"], env=env, check=True, capture_output=True)
    seed = instance / "seed" / REFERENCE
    seed.mkdir(parents=True, exist_ok=True)
    (seed / "contract.txt").write_text("Artikel 1 Levering\nDe leverancier levert.\n")
    subprocess.run(
        [str(DOSSIER), "import", str(seed), "--dossier", REFERENCE],
        env=env,
        check=True,
        capture_output=True,
    )
    return (instance / PASSWORD_FILE).read_text().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs before the final check")
    parser.add_argument("--max-seconds", type=float, default=300, help="overall time bound")
    parser.add_argument("--min-up", type=float, default=0.3, help="least seconds between kills")
    parser.add_argument("--max-up", type=float, default=2.5, help="most seconds between kills")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--instance", type=Path, default=None, help="default: a temp folder")
    parser.add_argument("--database-url", default=None, help="an EMPTY database; default SQLite")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    random.seed(args.seed)

    instance = args.instance or Path(tempfile.mkdtemp(prefix="dossier-crashloop-"))
    instance.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env |= {"DOSSIER_INSTANCE_PATH": str(instance), "DOSSIER_OCR": "false"}
    # The harness uploads as the first administrator with the password alone (no authenticator).
    env["DOSSIER_SECOND_FACTOR_REQUIRED_ROLES"] = "[]"
    if args.database_url:
        env["DOSSIER_DATABASE_URL"] = args.database_url
    password = prepare(env, instance)
    server = Server(env, free_port(), instance / "server.log")
    started = time.monotonic()
    tally = Tally()
    kills = 0
    try:
        server.start()
        session = requests.Session()
        log_in(session, server.url, password)
        cookies = session.cookies
        stop = threading.Event()
        threads = [
            threading.Thread(target=client, args=(server.url, cookies, tally, stop, n), daemon=True)
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        while kills < args.kills and time.monotonic() - started < args.max_seconds:
            time.sleep(random.uniform(args.min_up, args.max_up))
            server.kill()
            kills += 1
            server.start()
        time.sleep(args.min_up)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        lost = check_acknowledged(server.url, cookies, tally)
    finally:
        server.stop()
    verified = subprocess.run(
        [str(DOSSIER), "verify", "--json"], env=env, capture_output=True, text=True
    )
    report = json.loads(verified.stdout) if verified.stdout.strip() else {"ok": False}
    summary = {
        "kills": kills,
        "attempts": tally.attempts,
        "acknowledged": len(tally.acknowledged),
        "acknowledged_versions": sum(len(v) for v in tally.versions.values()),
        "unacknowledged": tally.failed,
        "other_statuses": tally.refused,
        "other_texts": tally.reasons,
        "lost": lost,
        "verify_ok": verified.returncode == 0 and report.get("ok", False),
        "verify_problems": report.get("problems", []),
        "seconds": round(time.monotonic() - started, 1),
        "instance": str(instance),
    }
    print(json.dumps(summary))
    ok = not lost and summary["verify_ok"] and not tally.refused and tally.acknowledged
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
