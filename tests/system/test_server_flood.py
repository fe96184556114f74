"""`dossier run` under a slow-client flood: the real waitress server on 127.0.0.1 keeps answering
while a few hundred idle and half-sent connections are open, and closes the silent ones."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
FLOOD = 300  # three times waitress's default connection limit
CHANNEL_TIMEOUT = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dossier(*args: str) -> list[str]:
    return [sys.executable, "-c", "from dossier.cli import main; main()", *args]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A `dossier run` on a free port with a short channel timeout; stopped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DOSSIER_INSTANCE_PATH": str(tmp_path / "instance"),
        "DOSSIER_OCR": "false",
        "DOSSIER_CHANNEL_TIMEOUT": str(CHANNEL_TIMEOUT),
        "DOSSIER_CLEANUP_INTERVAL": "1",
    }
    subprocess.run(_dossier("init"), env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            _dossier("run", "--port", str(port)),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            try:
                requests.get(url + "/login", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _open_idle(port: int, count: int) -> list[socket.socket]:
    """Connections that send nothing, or the start of a request and then nothing more."""
    sockets = []
    for number in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if number % 2:
            sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(sock)
    return sockets


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_login_page_answers_during_a_slow_client_flood(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    flood = _open_idle(port, FLOOD)
    try:
        # The issue is a hang (waitress stopped accepting at 100 connections), so a generous
        # wall-clock bound on one ordinary request is the test.
        response = requests.get(server + "/login", timeout=30)
        assert response.status_code == 200
        assert 'name="email"' in response.text
        # Silent connections are closed after the channel timeout; bounded wait.
        for sock in flood:
            sock.settimeout(CHANNEL_TIMEOUT + 30)
        assert _closed_by_server(flood[0]) and _closed_by_server(flood[1])
        for sock in flood[2:]:
            sock.settimeout(5)
        assert sum(_closed_by_server(sock) for sock in flood[2:]) == FLOOD - 2
    finally:
        for sock in flood:
            sock.close()
    assert requests.get(server + "/login", timeout=30).status_code == 200


@pytest.mark.parametrize(("soft", "hard", "expected"), [(300, 2000, 1000), (300, 300, 44)])
def test_connection_limit_fits_the_open_files_limit(soft: int, hard: int, expected: int) -> None:
    """The soft open-files limit is raised when the hard one allows, else the limit is lowered."""
    code = (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))\n"
        "from dossier.cli.instance import _connection_limit\n"
        "print(_connection_limit(1000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    limit, files = map(int, run.stdout.split())
    assert (limit, files) == (expected, 1000 + 256 if expected == 1000 else soft)
    assert ("allows 44 connections" in run.stderr) == (expected == 44)
