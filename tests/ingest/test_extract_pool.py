"""Reused sandboxed extraction workers (ingest.extract.pool): one worker serves many files, and a
worker that crashes, is killed, exceeds a limit, times out, leaks or has served its share is
replaced, with the file getting the same result a process of its own would give it.

The functions the workers run are in tests/ingest/pool_targets.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.clauses import segment
from ingest.extract import Limits, Status, extract
from ingest.extract import pool as pool_module
from ingest.extract.model import from_plain
from ingest.extract.pool import ChildFailed, WorkerPool, shared_pool
from ingest.extract.runner import run_isolated

LIMITS = Limits(wall_seconds=30, cpu_seconds=15, memory_bytes=400 * 1024 * 1024)
CUAD_PDF = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "cuad-dev" / "pdf"


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    workers = WorkerPool()
    yield workers
    workers.close()


def call(pool: WorkerPool, target: str, *args: object, limits: Limits = LIMITS) -> object:
    return pool.call(f"tests.ingest.pool_targets:{target}", list(args), limits)[0]


def gone(pid: int) -> bool:
    """The process has ended and been reaped (or is a zombie nobody of ours waits for)."""
    state = Path(f"/proc/{pid}/stat")
    try:
        return state.read_text().rpartition(")")[2].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_one_worker_serves_several_requests(pool: WorkerPool) -> None:
    answers = [call(pool, "count") for _ in range(4)]
    assert [calls for _pid, calls in answers] == [1, 2, 3, 4]
    assert len({pid for pid, _calls in answers}) == 1
    assert pool.started == 1


def test_several_files_are_extracted_by_one_worker(tmp_path: Path) -> None:
    before = shared_pool().started
    for number in range(5):
        path = tmp_path / f"note-{number}.txt"
        path.write_text(f"Artikel {number} Looptijd\nDeze overeenkomst loopt een jaar.\n")
        result = extract(path, "txt")
        assert result.status == Status.OK
        assert f"Artikel {number}" in result.text
    # One new worker at most (another test of this process may have left one to reuse).
    assert shared_pool().started - before <= 1


def test_a_worker_killed_mid_file_is_replaced_and_the_next_file_succeeds(
    pool: WorkerPool,
) -> None:
    pid, _calls = call(pool, "count")  # type: ignore[misc]
    failures: list[ChildFailed] = []

    def sleep_in_worker() -> None:
        try:
            call(pool, "sleep_then_pid", 60)
        except ChildFailed as exc:
            failures.append(exc)

    thread = threading.Thread(target=sleep_in_worker)
    started = time.monotonic()
    thread.start()
    time.sleep(1.0)  # the idle worker has taken the request and sleeps in it
    os.kill(pid, signal.SIGKILL)
    thread.join(30)
    assert not thread.is_alive() and time.monotonic() - started < 30
    assert failures[0].status == Status.TIMED_OUT
    assert failures[0].detail == "was killed (signal 9) at the CPU or memory limit"
    new_pid, calls = call(pool, "count")  # type: ignore[misc]
    assert new_pid != pid and calls == 1
    assert gone(pid)


def test_a_worker_killed_while_idle_is_not_handed_the_next_file(pool: WorkerPool) -> None:
    pid, _calls = call(pool, "count")  # type: ignore[misc]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    new_pid, calls = call(pool, "count")  # type: ignore[misc]
    assert new_pid != pid and calls == 1


def test_an_idle_worker_is_replaced_after_idle_seconds(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid, _calls = call(pool, "count")  # type: ignore[misc]
    monkeypatch.setattr(pool_module, "IDLE_SECONDS", 0.0)
    new_pid, calls = call(pool, "count")  # type: ignore[misc]
    assert new_pid != pid and calls == 1
    assert gone(pid)


def test_an_interrupt_ends_running_requests_at_once(pool: WorkerPool) -> None:
    failures: list[ChildFailed] = []

    def sleep_in_worker() -> None:
        try:
            call(pool, "sleep_then_pid", 60)
        except ChildFailed as exc:
            failures.append(exc)

    thread = threading.Thread(target=sleep_in_worker)
    thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    pool.abort_busy()
    thread.join(30)
    assert time.monotonic() - started < 10
    assert failures and failures[0].status == Status.TIMED_OUT
    assert pool.idle_pids() == []


def test_a_worker_over_its_memory_limit_is_replaced(pool: WorkerPool) -> None:
    pid, _calls = call(pool, "count")  # type: ignore[misc]
    with pytest.raises(ChildFailed) as failed:
        call(pool, "keep_megabytes", 1024)
    assert failed.value.status == Status.TOO_LARGE
    assert failed.value.detail == "needs more than 400 MB of memory"
    new_pid, calls = call(pool, "count")  # type: ignore[misc]
    assert new_pid != pid and calls == 1
    assert gone(pid)


def test_a_worker_past_the_wall_clock_is_killed_and_replaced(pool: WorkerPool) -> None:
    limits = Limits(wall_seconds=1, cpu_seconds=15, memory_bytes=400 * 1024 * 1024)
    pid, _calls = call(pool, "count", limits=limits)  # type: ignore[misc]
    started = time.monotonic()
    with pytest.raises(ChildFailed) as failed:
        call(pool, "sleep_then_pid", 60, limits=limits)
    assert time.monotonic() - started < 10
    assert failed.value.status == Status.TIMED_OUT
    assert failed.value.detail == "took longer than 1 s"
    assert gone(pid)
    new_pid, calls = call(pool, "count", limits=limits)  # type: ignore[misc]
    assert new_pid != pid and calls == 1


def test_each_request_gets_its_own_cpu_budget(pool: WorkerPool) -> None:
    """Six requests of 0.6 s CPU in a worker with 2 s per request: the budget is per request.

    The worker is replaced once it has used one budget (so no request ever runs short)."""
    limits = Limits(wall_seconds=60, cpu_seconds=2, memory_bytes=400 * 1024 * 1024)
    pids = [call(pool, "spin", 0.6, limits=limits) for _ in range(6)]
    assert len(set(pids)) >= 2  # replaced after about 2 s of CPU time
    assert pids[0] == pids[1]  # but reused before that
    with pytest.raises(ChildFailed) as failed:
        call(pool, "spin", 30, limits=limits)
    assert failed.value.status == Status.TIMED_OUT
    assert "CPU" in failed.value.detail


def test_a_worker_is_recycled_after_max_jobs(
    pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool_module, "MAX_JOBS", 3)
    answers = [call(pool, "count") for _ in range(7)]
    assert [calls for _pid, calls in answers] == [1, 2, 3, 1, 2, 3, 1]
    pids = [pid for pid, _calls in answers]
    assert pids[0] == pids[2] != pids[3] == pids[5] != pids[6]
    assert all(gone(pid) for pid in (pids[0], pids[3]))


def test_a_worker_whose_memory_grew_is_recycled(pool: WorkerPool) -> None:
    # 400 MB limit: a worker holding 250 MB after a request is past half of it.
    first = call(pool, "keep_megabytes", 250)
    second = call(pool, "keep_megabytes", 10)
    assert first != second
    assert gone(first)  # type: ignore[arg-type]


def test_a_crash_in_a_reused_worker_is_retried_in_a_fresh_one() -> None:
    """A failure that an earlier file may have caused gets a clean worker before it counts."""
    pid = run_isolated("tests.ingest.pool_targets:crash_when_reused", [], LIMITS)
    again = run_isolated("tests.ingest.pool_targets:crash_when_reused", [], LIMITS)
    assert again != pid


def test_a_crash_in_a_fresh_worker_is_not_retried(pool: WorkerPool) -> None:
    with pytest.raises(ChildFailed) as failed:
        pool.call("os:abort", [], LIMITS, fresh=True)
    assert failed.value.detail == "the parser crashed (signal 6, SIGABRT)"
    assert not failed.value.retry
    assert pool.started == 1


def test_a_process_left_running_is_killed_with_its_worker(pool: WorkerPool, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    worker_pid, _calls = call(pool, "count")  # type: ignore[misc]
    # The request returns at once but leaves `sleep` running behind (as a daemon would).
    status = pool.call("os:system", [f"(sleep 60 & echo $! > {pid_file})"], LIMITS)[0]
    assert status == 0
    sleeper = int(pid_file.read_text())
    time.sleep(0.2)
    assert gone(sleeper)
    assert gone(worker_pid)
    assert pool.idle_pids() == []


def test_two_threads_use_two_workers(pool: WorkerPool) -> None:
    barrier = threading.Barrier(2)
    pids: list[int] = []

    def work() -> None:
        barrier.wait()
        pids.append(call(pool, "sleep_then_pid", 1.5))  # type: ignore[arg-type]

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(set(pids)) == 2
    assert sorted(pool.idle_pids()) == sorted(pids)


def test_a_forked_process_starts_its_own_workers() -> None:
    parent_pool = shared_pool()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked process
        os._exit(0 if shared_pool() is not parent_pool else 1)
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_cuad_pdfs_through_one_worker_match_extraction_in_fresh_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same text and statuses whether a worker is reused or each file has its own."""
    paths = sorted(CUAD_PDF.glob("*"))[:4]
    if len(paths) < 4:
        pytest.fail(f"the shared corpus folder {CUAD_PDF} is missing")
    reused = [extract(path, "pdf") for path in paths]
    monkeypatch.setattr(pool_module, "MAX_JOBS", 1)
    fresh = [extract(path, "pdf") for path in paths]
    assert reused == fresh
    assert all(result.status == Status.OK for result in reused)


def test_clauses_segmented_in_the_worker_equal_those_segmented_here() -> None:
    path = sorted(CUAD_PDF.glob("*"))[0]
    result = extract(path, "pdf", clauses=True)
    assert result.clauses is not None and len(result.clauses) > 5
    assert result.clauses == segment(result.text)
    assert extract(path, "pdf").clauses is None  # only when asked


def test_a_markdown_file_is_read_as_text_and_segmented_as_markdown(tmp_path: Path) -> None:
    path = tmp_path / "voorwaarden.md"
    path.write_text(
        "# Voorwaarden\n\nInleiding.\n\n### 1\n\n####Begrippen\n\n1.1 Dienst: de dienst.\n\n"
        "### 2\n\n####Looptijd\n\n2.1 Vier jaar.\n\n### 3\n\n####Prijs\n\n3.1 Vast.\n",
        encoding="utf-8",
    )
    result = extract(path, "md", clauses=True)
    assert result.status == Status.OK
    assert result.text == path.read_text(encoding="utf-8").strip("\n")  # the marks stay
    assert result.clauses == segment(result.text, markdown=True)
    assert [(c.number, c.heading) for c in result.clauses if not c.number.count(".")][1:] == [
        ("1", "Begrippen"),
        ("2", "Looptijd"),
        ("3", "Prijs"),
    ]


@pytest.mark.parametrize(
    "clauses",
    [
        "not a list",
        [["1", "Looptijd", 1, 0, 0]],  # five fields
        [["1", "Looptijd", 1, 0, 0, 999]],  # past the end of the text
        [["1", "Looptijd", 1, 0, 5, 2]],  # ends before it starts
        [["1", None, 1, 0, 0, 2]],
        [["1", "Looptijd", True, 0, 0, 2]],
    ],
)
def test_malformed_clauses_from_a_worker_are_refused(clauses: object) -> None:
    data = {"status": "ok", "detail": "", "pages": ["Artikel 1"], "page_count": 1}
    data |= {"attachments": [], "metadata": {}, "clauses": clauses}
    with pytest.raises(ValueError):
        from_plain(data)
