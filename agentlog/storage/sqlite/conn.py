"""SQLite connections for one store file: a reader per thread, one locked writer, one-line faults.

The store is called at once from FastAPI's thread pool, TUI workers and the
SDK's writer thread. Each thread reads on its own connection (WAL lets
readers run beside the writer); every write goes through the single writer
connection under a lock, inside `BEGIN IMMEDIATE`, so two processes never
deadlock and a failed write leaves nothing half-done. Every `sqlite3.Error`
becomes an `AgentLogError` whose one line says what to do.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from agentlog.errors import (
    AgentLogError,
    DatabaseLocked,
    DiskFull,
    NotAnAgentLogDatabase,
    ReadOnlyStore,
    StoreError,
)
from agentlog.storage.sql.textsearch import text_matches
from agentlog.storage.sqlite.wal import BackgroundCheckpoints

DEFAULT_BUSY_TIMEOUT_MS = 5000
# No memory map: mapped file pages count in the process's RSS (an export of a 2.3 GB
# store peaked at 940 MB through a 1 GiB map, 122 MB at 64 MiB, 60 MB at 0), and with
# 64 MiB a server ingesting 2 KB events peaked at 145-151 MiB, ~30 of it the map
# (116 MiB without). Store pages and searches measured the same at 1 GiB, 256 MiB,
# 64 MiB and 0 (bench/RESULTS.md, Store, 2026-11-25, and Ingest, 2026-12-03): the
# pages sit in the OS cache either way, read by a syscall instead of a page fault.
MMAP_BYTES = 0
# Checkpoint the WAL every 4,000 pages (16 MB) instead of 1,000: with the SDK's
# 1,000-event batches the default checkpointed (and fsynced) every other commit,
# which halved ingest (bench_store: ~12k -> ~20k events/s). A thread of the store's
# does it (`wal.BackgroundCheckpoints`); the writer's own automatic checkpoint is the
# backstop, four times further on.
WAL_CHECKPOINT_PAGES = 4000
BACKSTOP_PAGES = 4 * WAL_CHECKPOINT_PAGES
# What the WAL file keeps of its size once a checkpoint lets the writer start it over:
# a burst grows it past the threshold while a checkpoint copies (~75 MB for 100,000
# events), and without a limit the file stays that size for as long as the store is
# open (a server, a long agent). Twice a checkpoint's worth, so steady ingest, which
# wraps at about that size, does not shrink and regrow it on every cycle.
WAL_KEEP_BYTES = 2 * WAL_CHECKPOINT_PAGES * 4096
SQLITE_HEADER = b"SQLite format 3\x00"

# Primary result codes (sqlite3.h); extended codes carry them in the low byte.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


def _primary(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock (what a wait may cure)."""
    return _primary(exc) in (_BUSY, _LOCKED) or "database is locked" in str(exc)


def translate(exc: sqlite3.Error, path: Path) -> AgentLogError:
    """The user-facing error for a sqlite3 failure on `path`."""
    primary = _primary(exc)
    text = str(exc)
    if _is_busy(exc):
        return DatabaseLocked(
            f"the database {path} is locked by another process; wait for it to finish "
            "(or close it) and try again"
        )
    if primary == _READONLY or "readonly database" in text:
        return ReadOnlyStore(
            f"cannot write to {path}: the file or its folder is read-only; fix the permissions "
            "or point AGENTLOG_HOME / --db at a writable place"
        )
    if primary == _FULL or "disk is full" in text:
        return DiskFull(
            f"the disk holding {path} is full, nothing was written; free some space or run "
            "`agentlog db prune --older-than 30d`"
        )
    if primary == _NOTADB or "not a database" in text:
        return NotAnAgentLogDatabase(
            f"{path} is not an AgentLog database (not a SQLite file); point --db at another file"
        )
    if primary == _CORRUPT:
        return StoreError(
            f"the database {path} is damaged ({text}); run `agentlog db check` and restore a backup"
        )
    if primary == _CANTOPEN:
        return ReadOnlyStore(
            f"cannot open {path}: the folder is missing or not writable; fix the permissions "
            "or point AGENTLOG_HOME / --db at a writable place"
        )
    if primary == _IOERR:
        return StoreError(f"the disk failed while using {path} ({text}); check the disk and retry")
    return StoreError(f"the database {path} failed: {text}")


def use_wal(conn: sqlite3.Connection, timeout_ms: int) -> None:
    """Put `conn`'s file in WAL mode, waiting up to `timeout_ms` for another process creating it.

    While another connection holds its first write to a new file (in a rollback
    journal), SQLite answers the switch with "database is locked" at once, without
    calling the busy handler: an agent and the MCP proxies it started, opening one
    new file together, failed that way (one proxy run in 80 exited before relaying
    a byte; four bare openers at once, 46 times in 600). So the switch is retried here.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    pause = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


@contextlib.contextmanager
def translated(path: Path) -> Iterator[None]:
    """Re-raise any sqlite3 error inside the block as its AgentLogError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc


SYNCHRONOUS = ("normal", "full")
"""`normal`: a commit survives a crash of the process (WAL, the default); `full`: it also
survives a power loss or an OS crash, at the cost of an fsync per commit (bench/RESULTS.md)."""


def connect(
    path: Path,
    *,
    read_only: bool,
    busy_timeout_ms: int,
    immutable: bool = False,
    synchronous: str = "normal",
) -> sqlite3.Connection:
    """A connection in autocommit mode (we BEGIN ourselves) with the store's pragmas.

    `immutable` reads a file no process can change (its folder is read-only, so
    no -wal/-shm can exist beside it): SQLite then needs no shared-memory file.
    """
    if read_only:
        uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -16000")  # 16 MB per connection
    # Reads through a memory map skip a syscall per page (see MMAP_BYTES for its size).
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    conn.create_function("agentlog_match", 3, _sql_match, deterministic=True)
    return conn


def _sql_match(query: str, name: str | None, content: str | None) -> int:
    return int(text_matches(query, name, content))


class Connections:
    """The open connections of one store file, shared by the store and its scoped views."""

    def __init__(
        self, path: Path, *, read_only: bool, busy_timeout_ms: int, synchronous: str = "normal"
    ) -> None:
        if synchronous not in SYNCHRONOUS:
            raise StoreError(
                f"synchronous {synchronous!r} is not one of {', '.join(SYNCHRONOUS)}; "
                "set AGENTLOG_SQLITE_SYNCHRONOUS to normal or full"
            )
        self.synchronous = synchronous
        self.path = path
        self.read_only = read_only
        self.immutable = False
        # Why writes are refused when the store opened itself read-only (a read-only file).
        self.read_only_reason: str | None = None
        self.busy_timeout_ms = busy_timeout_ms
        self.lock = threading.RLock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._readers: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._all_lock = threading.Lock()
        self._writer: sqlite3.Connection | None = None
        self.checkpoints = BackgroundCheckpoints(path, busy_timeout_ms, WAL_CHECKPOINT_PAGES)
        self.closed = False

    def _new(self, read_only: bool) -> sqlite3.Connection:
        if self.closed:
            raise StoreError(f"the store {self.path} is closed; open it again")
        with translated(self.path):
            conn = connect(
                self.path,
                read_only=read_only,
                busy_timeout_ms=self.busy_timeout_ms,
                immutable=self.immutable,
                synchronous=self.synchronous,
            )
        with self._all_lock:
            self._all.append(conn)
        return conn

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self.closed:
            self._close_dead_readers()
            conn = self._new(self.read_only)
            self._local.conn = conn
            with self._all_lock:
                self._readers.append((weakref.ref(threading.current_thread()), conn))
        return conn

    def _close_dead_readers(self) -> None:
        """Close the connections of threads that have ended (TUI workers come and go)."""
        with self._all_lock:
            dead = [
                (t, c) for t, c in self._readers if (thread := t()) is None or not thread.is_alive()
            ]
            if not dead:
                return
            gone = {id(c) for _, c in dead}
            self._readers = [(t, c) for t, c in self._readers if id(c) not in gone]
            self._all = [c for c in self._all if id(c) not in gone]
        for _, conn in dead:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    @property
    def open_writer(self) -> sqlite3.Connection | None:
        """The writer if one was opened (without opening one)."""
        return self._writer

    @property
    def open_connections(self) -> int:
        return len(self._all)

    def writer(self) -> sqlite3.Connection:
        """The one write connection (callers hold `lock`)."""
        if self.read_only:
            raise ReadOnlyStore(
                self.read_only_reason
                or f"the store {self.path} was opened read-only; open it without --read-only "
                "to write"
            )
        if self._writer is None:
            self._writer = self._new(False)
            self._writer.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
            self._writer.execute(f"PRAGMA journal_size_limit = {WAL_KEEP_BYTES}")
        return self._writer

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` … `COMMIT` on the writer, under the lock; rolled back on any error."""
        with self.lock, translated(self.path):
            conn = self.writer()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self.checkpoints.after_commit()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.checkpoints.close()
            with self._all_lock:
                conns, self._all, self._readers = self._all, [], []
            for conn in conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._writer = None
