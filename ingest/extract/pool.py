"""Long-lived sandboxed worker processes, and how a worker's end becomes a status.

A worker is a fresh interpreter (``python -m ingest.extract.child``), never a fork: the caller
may be a threaded web server holding database connections and locks, which a forked child would
share. It runs in a session of its own with its resource limits set inside it (address space,
CPU time per request, file size, no core dumps) and talks to us over two pipes, one JSON line
per request and per reply; results travel in files, so their size is checked before they are
read. We enforce the wall clock: a request that has not answered in time gets the worker's
whole process group killed. (A program a request starts, pdftoppm or tesseract, inherits the
worker's CPU soft limit at that moment, so its own CPU limit can be up to one budget higher
than with a process per file; the request's wall clock bounds it as before.)

A worker is used for one request at a time and replaced after any fault (a crash, a kill, a
limit reached, a timeout, an exception, a malformed reply, a process or thread left running),
after `MAX_JOBS` requests, once it has used one request's CPU budget or half its address space,
and after `IDLE_SECONDS` unused (it ends by itself after twice that). Nothing a request does can
hurt the caller: at worst the request fails with a status, as a fresh process per file did.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .child import IDLE_EXIT_SECONDS
from .model import RESULT_BYTES_PER_CHAR, Limits, Status

log = logging.getLogger(__name__)

CHILD_MODULE = "ingest.extract.child"
# The folder that holds the ingest package, so the worker imports this very copy of it.
IMPORT_ROOT = Path(__file__).resolve().parents[2]
# A worker is replaced after this many requests, even when all went well.
MAX_JOBS = 50
# ... or when its address space has grown past this share of its memory limit ...
MEMORY_RECYCLE_SHARE = 0.5
# ... or its stderr file past this size ...
STDERR_RECYCLE_BYTES = 1024 * 1024
# ... or when it has been idle this long (checked when a worker is next needed; an idle worker
# also ends by itself after twice as long, so none lingers in a process that stopped filing).
IDLE_SECONDS = IDLE_EXIT_SECONDS / 2
# Idle workers kept for reuse: one per core is as many as callers use at once.
MAX_IDLE = max(2, min(os.cpu_count() or 2, 8))
STDERR_TAIL_BYTES = 4096
# Longest reply line a worker may send ({"done": true, ...} is about 40 bytes).
MAX_REPLY_BYTES = 64 * 1024
# How long a worker whose reply pipe closed may take to exit before it is killed.
EXIT_GRACE_SECONDS = 5.0
WAIT_POLL_SECONDS = 0.02
RESULT_SLACK_BYTES = 16 * 1024 * 1024
# What C and C++ libraries print when an allocation fails under RLIMIT_AS before they abort.
MEMORY_HINTS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class ChildFailed(Exception):
    """The worker gave no usable result; status and detail say how.

    `retry` is set when a fresh worker might do better: the failure (out of memory, a crash)
    came from a worker that had served earlier requests, whose heap or state may be to blame.
    """

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.retry = False


def _limits_key(limits: Limits) -> tuple[int, int, int, int]:
    """The limits a worker sets inside itself; a worker serves only requests with the same."""
    return (
        limits.memory_bytes,
        limits.cpu_seconds,
        limits.max_text_chars,
        limits.max_attachment_bytes,
    )


@dataclass
class _Usage:
    cpu_seconds: float
    address_space: int


class Worker:
    """One sandboxed worker process; use from one thread at a time."""

    def __init__(self, limits: Limits, env: dict[str, str]) -> None:
        self.key = _limits_key(limits)
        self.env = env
        self.limits = limits
        self.jobs = 0
        self.healthy = True
        self.last_used = time.monotonic()
        self._buffer = b""
        self.folder = Path(tempfile.mkdtemp(prefix="dossier-child-"))
        self._stderr = open(self.folder / "stderr.txt", "wb")  # noqa: SIM115 - closed in close()
        try:
            # A new session makes the worker a process-group leader, so killing the group also
            # ends the pdftoppm and tesseract processes it may have started.
            self.process = subprocess.Popen(
                [sys.executable, "-m", CHILD_MODULE, json.dumps(asdict(limits))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=self.folder,
                env=env,
                start_new_session=True,
                bufsize=0,
            )
        except BaseException:
            self._stderr.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def call(self, target: str, args: list[Any], limits: Limits) -> Any:
        """Run target(*args) in the worker; its JSON value, or ChildFailed (worker then ended)."""
        self.jobs += 1
        reused = self.jobs > 1
        try:
            return self._call(target, args, limits, self.folder / f"result-{self.jobs}.json")
        except ChildFailed as exc:
            self.healthy = False
            self.close()
            exc.retry = reused and (
                exc.status == Status.TOO_LARGE
                or (exc.status == Status.UNREADABLE and "the parser crashed" in exc.detail)
            )
            raise
        except BaseException:
            self.healthy = False
            self.close()
            raise
        finally:
            self.last_used = time.monotonic()

    def _call(self, target: str, args: list[Any], limits: Limits, result: Path) -> Any:
        stderr_start = self._stderr_size()
        request = {"target": target, "args": args, "result": str(result)}
        deadline = time.monotonic() + limits.wall_seconds
        try:
            self._send(json.dumps(request).encode("utf-8") + b"\n")
            line = self._receive(deadline)
        except TimeoutError:
            self._end(grace=False)
            raise ChildFailed(
                Status.TIMED_OUT, f"took longer than {limits.wall_seconds:g} s"
            ) from None
        except BrokenPipeError:
            line = None
        if line is None:  # the worker ended before it answered
            returncode = self._end(grace=True)
            raise _exit_failure(returncode, self._stderr_tail(stderr_start), limits)
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or reply.get("done") is not True:
            raise ChildFailed(Status.UNREADABLE, "the parser returned a malformed result")
        try:
            data = _read_result(result, limits)
        finally:
            result.unlink(missing_ok=True)
        if reply.get("left_running"):
            # Whatever the request started must not outlive it (nor this worker be reused).
            log.warning("extraction worker %s left a process or thread running", self.pid)
            self.healthy = False
        if data is None:
            raise ChildFailed(Status.UNREADABLE, "the parser wrote no result")
        if data.get("memory_error"):
            raise _memory_failure(limits)
        if "error" in data:
            raise ChildFailed(Status.UNREADABLE, f"the parser failed: {data['error']}")
        return data.get("value")

    def _send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        view = memoryview(data)
        while view:
            written = os.write(self.process.stdin.fileno(), view)
            view = view[written:]

    def _receive(self, deadline: float) -> bytes | None:
        """One reply line; None when the worker closed its end; TimeoutError at the deadline."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, MAX_REPLY_BYTES)
            if not chunk:
                return None
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                return b"oversized"  # not JSON: a malformed reply
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def reusable(self) -> bool:
        """Whether the worker may serve another request (alive, healthy, within its budgets)."""
        if not self.healthy or self.jobs >= MAX_JOBS or self.process.poll() is not None:
            return False
        if self._stderr_size() > STDERR_RECYCLE_BYTES:
            return False
        usage = _usage(self.pid)
        if usage is None:
            return True
        return (
            usage.cpu_seconds < self.limits.cpu_seconds
            and usage.address_space < self.limits.memory_bytes * MEMORY_RECYCLE_SHARE
        )

    def _end(self, *, grace: bool) -> int:
        """Kill the worker's process group and reap the worker; returns its exit status.

        With grace, a worker that closed its reply pipe gets a moment to exit by itself, so
        its own exit status (a signal, an exit code) is what is returned.
        """
        if grace and self.process.returncode is None:
            _wait_unreaped(self.pid, EXIT_GRACE_SECONDS)
        # Running or a zombie, the worker still holds its pid, so the group id is ours to
        # kill: this ends what it left running, or the worker itself.
        _kill_group(self.pid)
        return self.process.wait()

    def close(self) -> None:
        """End the worker (killing its group) and remove its folder."""
        if self.process.returncode is None:
            _kill_group(self.pid)
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self._stderr):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        shutil.rmtree(self.folder, ignore_errors=True)

    def _stderr_size(self) -> int:
        try:
            return os.fstat(self._stderr.fileno()).st_size
        except (OSError, ValueError):
            return 0

    def _stderr_tail(self, start: int) -> str:
        """The last few KiB the worker wrote to stderr since start, for diagnosis."""
        try:
            with open(self.folder / "stderr.txt", "rb") as file:
                end = file.seek(0, os.SEEK_END)
                file.seek(max(end - STDERR_TAIL_BYTES, start, 0))
                return file.read().decode("utf-8", "replace")
        except OSError:
            return ""


class WorkerPool:
    """Idle workers kept for reuse, per set of limits and environment; thread-safe."""

    def __init__(self, max_idle: int = MAX_IDLE) -> None:
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self.started = 0  # workers started, for tests and diagnosis

    def call(
        self, target: str, args: list[Any], limits: Limits, *, fresh: bool = False
    ) -> tuple[Any, bool]:
        """Run target(*args) in a worker under limits; returns (value, whether it was fresh).

        fresh=True asks for a worker that has served no request. Raises ChildFailed.
        """
        # A worker keeps the environment it started with (PATH finds tesseract, TMPDIR
        # places scratch files): one started under another environment is not reused.
        env = _child_environment()
        worker = None if fresh else self._take(_limits_key(limits), env)
        if worker is None:
            worker = Worker(limits, env)
            with self._lock:
                self.started += 1
        was_fresh = worker.jobs == 0
        with self._lock:
            self._busy.add(worker)
        try:
            value = worker.call(target, args, limits)
        finally:
            with self._lock:
                self._busy.discard(worker)
        self._give_back(worker)
        return value, was_fresh

    def _take(self, key: tuple[int, int, int, int], env: dict[str, str]) -> Worker | None:
        expired: list[Worker] = []
        chosen = None
        with self._lock:
            now = time.monotonic()
            for worker in list(self._idle):
                # Expired, or ended while idle (killed from outside): never handed a file.
                if now - worker.last_used > IDLE_SECONDS or worker.process.poll() is not None:
                    self._idle.remove(worker)
                    expired.append(worker)
                elif chosen is None and worker.key == key and worker.env == env:
                    self._idle.remove(worker)
                    chosen = worker
        for worker in expired:
            worker.close()
        return chosen

    def _give_back(self, worker: Worker) -> None:
        if not worker.reusable():
            worker.close()
            return
        with self._lock:
            self._idle.append(worker)
            surplus = self._idle[: max(len(self._idle) - self.max_idle, 0)]
            del self._idle[: len(surplus)]
        for old in surplus:
            old.close()

    def abort_busy(self) -> None:
        """Kill the workers serving requests now (on an interrupt): their callers get a failure
        at once instead of waiting for the file to finish."""
        with self._lock:
            busy = list(self._busy)
        for worker in busy:
            _kill_group(worker.pid)

    def idle_pids(self) -> list[int]:
        with self._lock:
            return [worker.pid for worker in self._idle]

    def close(self) -> None:
        """End every idle worker (workers in use end when their request does)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def shared_pool() -> WorkerPool:
    """The process's pool, made on first use and closed at exit."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool()
        return _pool


def _forget_pool_after_fork() -> None:
    """A forked process must not use (or kill) its parent's workers: it starts its own."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


def _close_pool_at_exit() -> None:
    pool = _pool
    if pool is not None:
        pool.close()


os.register_at_fork(after_in_child=_forget_pool_after_fork)
atexit.register(_close_pool_at_exit)


def _usage(pid: int) -> _Usage | None:
    """CPU time and address space of a process, from /proc (None where there is none)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rpartition(b")")[2].split()
    except OSError:
        return None
    # After the name: state ppid pgrp ... utime (12th) stime (13th) ... vsize (21st).
    ticks = int(fields[11]) + int(fields[12])
    return _Usage(ticks / _CLOCK_TICKS, int(fields[20]))


def _wait_unreaped(pid: int, timeout: float) -> bool:
    """Wait up to timeout for the process to exit, leaving it unreaped; False if it still runs."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, WAIT_POLL_SECONDS)
    return True


def _child_environment() -> dict[str, str]:
    """The parent's environment, plus the import path of this very package."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(IMPORT_ROOT), env.get("PYTHONPATH")]))
    return env


def _kill_group(pid: int) -> None:
    """Send SIGKILL to the process group led by pid, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _exit_failure(returncode: int, stderr_tail: str, limits: Limits) -> ChildFailed:
    """The failure for a worker that ended before it answered."""
    if returncode < 0:
        return _signal_failure(-returncode, stderr_tail, limits)
    if any(hint in stderr_tail for hint in MEMORY_HINTS):
        return _memory_failure(limits)
    log.warning("extraction worker exited with %s: %s", returncode, stderr_tail[-500:])
    return ChildFailed(Status.UNREADABLE, f"the parser failed (exit code {returncode})")


def _signal_failure(number: int, stderr_tail: str, limits: Limits) -> ChildFailed:
    """Map the signal that killed the worker to a status."""
    if number == signal.SIGXCPU:
        return ChildFailed(Status.TIMED_OUT, f"used more than {limits.cpu_seconds} s of CPU time")
    if number == signal.SIGKILL:
        # Not ours (that is a timeout): the CPU hard limit, or the kernel's OOM killer.
        return ChildFailed(Status.TIMED_OUT, "was killed (signal 9) at the CPU or memory limit")
    if number == signal.SIGABRT and any(hint in stderr_tail for hint in MEMORY_HINTS):
        return _memory_failure(limits)
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = "unknown"
    return ChildFailed(Status.UNREADABLE, f"the parser crashed (signal {number}, {name})")


def _memory_failure(limits: Limits) -> ChildFailed:
    """The failure for a worker that ran out of its address space."""
    return ChildFailed(Status.TOO_LARGE, f"needs more than {limits.memory_mb} MB of memory")


def _read_result(path: Path, limits: Limits) -> dict[str, Any] | None:
    """Read the worker's JSON result within a size bound; None if it wrote none."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size > limits.max_text_chars * RESULT_BYTES_PER_CHAR + RESULT_SLACK_BYTES:
        raise ChildFailed(Status.UNREADABLE, "the parser returned an oversized result")
    try:
        data = json.loads(path.read_bytes())
    except ValueError:
        raise ChildFailed(Status.UNREADABLE, "the parser returned a malformed result") from None
    if not isinstance(data, dict):
        raise ChildFailed(Status.UNREADABLE, "the parser returned a malformed result")
    return data
