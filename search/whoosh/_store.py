"""Where the index lives on disk: generations, the writer lock, and every write.

The index directory holds a ``CURRENT`` file naming one generation subdirectory (a complete Whoosh
index). A rebuild fills a fresh generation and then replaces ``CURRENT`` with ``os.replace``, so
searchers keep using the old generation until the switch and never see a half-built index.
One writer at a time: every write (including a whole rebuild) holds an ``flock`` on
``writer.lock``; the kernel releases it when the holder dies, so a killed writer never leaves a
lock that blocks the next one.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as windex
from whoosh.filedb.filestore import FileStorage
from whoosh.index import Index

from search.types import IndexBusy, IndexUnavailable, Unit
from search.whoosh._errors import CORRUPTION, quietly, reclaim
from search.whoosh._schema import SCHEMA_VERSION, make_schema, to_document
from search.whoosh._writer import UnitWriter, index_units, merge_small

__all__ = ["Store"]

CURRENT = "CURRENT"
LOCK = "writer.lock"
GENERATION_PREFIX = "gen-"
PROGRESS_EVERY = 500
OPEN_ATTEMPTS = 5


class Store:
    """The generations of one index directory."""

    def __init__(self, directory: str | os.PathLike[str], lock_timeout: float) -> None:
        self.directory = Path(directory)
        self.lock_timeout = lock_timeout

    def current(self) -> Path | None:
        """The generation named by CURRENT, or None when there is none of this schema version."""
        try:
            version, _, name = (self.directory / CURRENT).read_text("ascii").strip().partition(" ")
        except (OSError, UnicodeDecodeError):
            return None
        if version != f"v{SCHEMA_VERSION}" or not name.startswith(GENERATION_PREFIX):
            return None
        return self.directory / name

    def exists(self) -> bool:
        """Whether CURRENT names a generation that holds a Whoosh index."""
        path = self.current()
        try:
            with quietly():
                return path is not None and windex.exists_in(str(path))
        except CORRUPTION as exc:
            reclaim(exc)  # Whoosh leaves the damaged table of contents open
            return False

    def open(self) -> tuple[str, Index]:
        """The current generation's name and Whoosh index; IndexUnavailable if there is none."""
        path = self.current()
        if path is None:
            raise IndexUnavailable(f"no search index in {self.directory}")
        # Our segments map their files themselves (index_mmap); for any other segment,
        # Whoosh's mmap path would copy each part of the file into memory.
        storage = FileStorage(str(path), supports_mmap=False)
        for attempt in range(OPEN_ATTEMPTS):
            try:
                with quietly():
                    return path.name, storage.open_index(schema=None)
            except FileNotFoundError as exc:
                # A commit replaced the table of contents between listing and reading it.
                failure: BaseException = exc
                time.sleep(0.01 * (attempt + 1))
            except CORRUPTION as exc:
                failure = exc
                break
        reclaim(failure)
        raise IndexUnavailable(f"cannot open the search index: {failure!r}") from failure

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writer lock, waiting up to lock_timeout seconds for another writer."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.directory.stat()  # the index holds document text: the owner's alone
        if info.st_uid == os.geteuid() and info.st_mode & 0o077:
            self.directory.chmod(info.st_mode & 0o700)
        fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            _acquire(fd, self.lock_timeout)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        finally:
            os.close(fd)

    def create(self) -> None:
        """Replace whatever is there with an empty index."""
        with self.locked():
            path = self._new_generation()
            windex.create_in(str(path), make_schema())
            self._publish(path)

    def apply(self, changes: Iterable[tuple[int, list[Unit] | None]]) -> None:
        """Replace or delete documents with one writer and one commit."""
        # Later changes to a document win; units are converted first so bad unit data raises
        # here, not as a corruption of the index.
        latest: dict[int, list[dict[str, object]]] = {}
        for document_id, units in changes:
            latest.pop(document_id, None)
            latest[document_id] = [to_document(unit) for unit in units or ()]
        if not latest:
            return
        with self.locked():
            _, ix = self.open()
            try:
                with _writer(ix) as writer:
                    for document_id, documents in latest.items():
                        writer.delete_by_term("document", str(document_id))
                        for document in documents:
                            writer.add_document(**document)
            except CORRUPTION as exc:
                raise IndexUnavailable(f"cannot write the search index: {exc!r}") from exc

    def rebuild(
        self, units: Iterable[Unit], progress: Callable[[int], None] | None, processes: int = 1
    ) -> None:
        """Index all units into a fresh generation and switch to it when complete."""
        with self.locked():
            path = self._new_generation()
            try:
                ix = windex.create_in(str(path), make_schema())
                documents = index_units(ix, units, progress, processes, PROGRESS_EVERY)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            self._publish(path)
            if progress is not None:
                progress(documents)

    def _new_generation(self) -> Path:
        """A new empty generation directory (not yet current)."""
        name = f"{GENERATION_PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        path = self.directory / name
        path.mkdir(mode=0o700)
        return path

    def _publish(self, path: Path) -> None:
        """Make a generation current atomically, then delete the others (writer lock held)."""
        temporary = self.directory / f"{CURRENT}.tmp"
        with open(temporary, "w", encoding="ascii") as handle:
            handle.write(f"v{SCHEMA_VERSION} {path.name}\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / CURRENT)
        _fsync_directory(self.directory)
        for other in self.directory.glob(f"{GENERATION_PREFIX}*"):
            if other != path:
                # Open searchers keep their memory-mapped segment files after the unlink.
                shutil.rmtree(other, ignore_errors=True)


@contextmanager
def _writer(ix: Index) -> Iterator[UnitWriter]:
    """A writer that commits on success and cancels on any error."""
    try:
        writer = UnitWriter(ix, timeout=5.0)
    except windex.LockError as exc:
        raise IndexBusy("the search index's own lock is held") from exc
    try:
        yield writer
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=merge_small)


def _acquire(fd: int, timeout: float) -> None:
    """flock a file descriptor, retrying until timeout; IndexBusy if it stays locked."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            raise IndexBusy(f"another process has been writing the search index for {timeout} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _fsync_directory(path: Path) -> None:
    """Persist a rename in a directory."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
