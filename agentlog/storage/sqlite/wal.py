"""WAL checkpoints on a thread of their own, so a store's writer never waits on their fsyncs.

SQLite's automatic checkpoint runs inside the commit that crosses its threshold:
the writer copies every page written since the last one back into the database
file and fsyncs both files, and the events behind it wait (a third of ingest's
wall time here: `bench/RESULTS.md`, issue 21, session 10). Instead, after each
commit the writer reads how many WAL frames wait to be copied — `mxFrame` minus
`nBackfill` in the wal-index header of the `-shm` file, whose layout is part of
SQLite's documented file format (https://www.sqlite.org/walformat.html) — and
past `threshold` wakes a thread that runs a PASSIVE checkpoint on its own
connection. A passive checkpoint never takes the write lock: it copies beside
the writer, which keeps appending.

The writer's own automatic checkpoint stays on at `BACKSTOP_PAGES`: it bounds the
WAL if the thread falls behind or the `-shm` file cannot be read, and it is what
resets the WAL to its start (a checkpoint that copies everything while no one
writes), cheaply, since the thread has copied most frames already.
"""

from __future__ import annotations

import sqlite3
import struct
import threading
from pathlib import Path
from typing import BinaryIO

_HEADER_BYTES = 100  # the wal-index header and the start of its checkpoint info
_MX_FRAME = struct.Struct("=I")  # native byte order, as SQLite writes the -shm file
_MX_FRAME_AT, _BACKFILL_AT = 16, 96


class BackgroundCheckpoints:
    """One store file's checkpoint thread, started at the first commit that needs it."""

    def __init__(self, path: Path, busy_timeout_ms: int, threshold: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._threshold = threshold
        self._shm: BinaryIO | None = None
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        # Reentrant: a signal handler that closes the store may run while this thread is in
        # after_commit (handlers run on the main thread, between its bytecodes).
        self._lock = threading.RLock()
        self.runs = 0  # checkpoints the thread has completed (for tests and benchmarks)

    def pending_frames(self) -> int | None:
        """WAL frames not yet copied into the database file (None if unknown)."""
        try:
            if self._shm is None:
                self._shm = open(f"{self._path}-shm", "rb", buffering=0)  # noqa: SIM115
            self._shm.seek(0)
            head = self._shm.read(_HEADER_BYTES)
        except OSError:
            return None
        if len(head) < _HEADER_BYTES:
            return None
        frames = _MX_FRAME.unpack_from(head, _MX_FRAME_AT)[0]
        copied = _MX_FRAME.unpack_from(head, _BACKFILL_AT)[0]
        # Read without SQLite's locks, a header being rewritten may look odd: only the
        # schedule depends on it, and the backstop bounds the WAL whatever it says.
        return frames - copied if frames >= copied else None

    def after_commit(self) -> None:
        """Called by the writer after each commit: wake the thread if enough frames wait."""
        pending = self.pending_frames()
        if pending is None or pending < self._threshold:
            return
        with self._lock:
            if self._stop:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="agentlog-wal-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                if self._stop:
                    return
                self._wake.clear()
                try:
                    if conn is None:
                        conn = sqlite3.connect(
                            str(self._path), isolation_level=None, check_same_thread=False
                        )
                        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.runs += 1
                except sqlite3.Error:
                    # Busy (another process checkpoints) or the file went away: the next
                    # wake tries again, and the writer's backstop bounds the WAL meanwhile.
                    pass
        finally:
            if conn is not None:
                conn.close()

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread (after the checkpoint it may be running) and let go of the file."""
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout)
        if self._shm is not None:
            self._shm.close()
            self._shm = None
