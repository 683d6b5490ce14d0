"""The store's WAL checkpoints on their own thread: they happen, they copy, they stop."""

from __future__ import annotations

import sqlite3
import threading
import time

from agentlog.model import Event, EventType, Session
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.storage.sqlite.wal import BackgroundCheckpoints


def _wal_file(tmp_path):
    path = tmp_path / "w.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (x BLOB)")
    return path, conn


def _wait(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the checkpoint thread did not get there"
        time.sleep(0.01)


def test_frames_past_the_threshold_are_copied_by_the_thread(tmp_path):
    path, conn = _wal_file(tmp_path)
    checkpoints = BackgroundCheckpoints(path, busy_timeout_ms=1000, threshold=200)
    conn.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,) for _ in range(10)])
    checkpoints.after_commit()
    assert 10 <= checkpoints.pending_frames() < 200  # below the threshold: no thread
    assert not any(t.name == "agentlog-wal-checkpoint" for t in threading.enumerate())
    conn.executemany("INSERT INTO t VALUES (?)", [(b"y" * 4000,) for _ in range(100)])
    checkpoints.after_commit()
    _wait(lambda: checkpoints.runs >= 1)
    assert checkpoints.pending_frames() == 0
    checkpoints.close()
    assert not any(t.name == "agentlog-wal-checkpoint" for t in threading.enumerate())
    conn.close()
    # Everything written is in the database file itself now.
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone() == (110,)


def test_no_shm_file_means_nothing_is_scheduled(tmp_path):
    path = tmp_path / "rollback.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    checkpoints = BackgroundCheckpoints(path, busy_timeout_ms=1000, threshold=1)
    assert checkpoints.pending_frames() is None
    checkpoints.after_commit()
    assert checkpoints.runs == 0
    checkpoints.close()


def test_a_store_writing_past_the_threshold_checkpoints_beside_its_writer(tmp_path, monkeypatch):
    store = SQLiteStore(tmp_path / "s.db")
    monkeypatch.setattr(store._db.checkpoints, "_threshold", 50)
    s = Session(title="big")
    events = [
        Event(session_id=s.id, type=EventType.LOG, content=f"line {k} " + "z" * 3000)
        for k in range(400)
    ]
    store.write([s], events[:200])
    store.write([], events[200:])
    _wait(lambda: store._db.checkpoints.runs >= 1)
    assert store.get_session(s.id).event_count == 400
    assert store.count_events(EventQuery(session_id=s.id, text="line 399")) == 1
    store.close()
    assert not any(t.name == "agentlog-wal-checkpoint" for t in threading.enumerate())
    again = SQLiteStore(tmp_path / "s.db")
    assert again.get_session(s.id).event_count == 400
    again.close()


def test_the_wal_gives_back_a_bursts_size_once_a_checkpoint_lets_it_start_over(
    tmp_path, monkeypatch
):
    """A burst grows the WAL; once a checkpoint has copied it all, the next write starts it
    over and the file is cut to `WAL_KEEP_BYTES` instead of keeping its peak while open."""
    from agentlog.storage.sqlite import conn

    monkeypatch.setattr(conn, "WAL_KEEP_BYTES", 256 * 1024)
    store = SQLiteStore(tmp_path / "s.db")
    monkeypatch.setattr(store._db.checkpoints, "_threshold", 10**9)  # no background copy
    wal = tmp_path / "s.db-wal"
    s = Session(title="burst")
    burst = [
        Event(session_id=s.id, type=EventType.LOG, content=f"line {k} " + "z" * 3000)
        for k in range(600)
    ]
    store.write([s], burst)
    peak = wal.stat().st_size
    assert peak > 1024 * 1024
    with store._db.lock:
        store._db.writer().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    store.write([], [Event(session_id=s.id, type=EventType.LOG, content="after")])
    assert wal.stat().st_size <= 256 * 1024
    assert store.get_session(s.id).event_count == 601
    store.close()
