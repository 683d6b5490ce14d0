"""SQLite faults become one-line AgentLogErrors and never leave a file half-written."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from agentlog.errors import (
    DatabaseLocked,
    DiskFull,
    NotAnAgentLogDatabase,
    NotFound,
    ReadOnlyStore,
    SchemaTooNew,
    StoreError,
    UsageError,
)
from agentlog.model import Event, EventType, Session, new_id
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite.conn import translate
from agentlog.storage.sqlite.store import SQLiteStore


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


def event(sid: str, content: str = "x") -> Event:
    return Event(session_id=sid, type=EventType.LOG, content=content)


def test_a_text_file_is_not_a_database(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, not a database\n" * 10)
    with pytest.raises(NotAnAgentLogDatabase) as exc:
        SQLiteStore(path)
    assert "not an AgentLog database" in one_line(exc)
    assert path.read_text() == "hello, not a database\n" * 10


def test_another_apps_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE songs (title TEXT)")
    before = path.read_bytes()
    with pytest.raises(NotAnAgentLogDatabase, match="not an AgentLog database"):
        SQLiteStore(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("how", ["migration", "user_version"])
def test_newer_schema_asks_for_an_upgrade(tmp_path, how):
    path = tmp_path / "future.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        if how == "migration":
            conn.execute(
                "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('agentlog', 'm099_future', 'now')"
            )
        else:
            conn.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaTooNew) as exc:
        SQLiteStore(path)
    assert "upgrade agentlog" in one_line(exc) and "99" in str(exc.value)


def test_locked_database_is_reported_and_nothing_half_written(tmp_path):
    path = tmp_path / "locked.db"
    store = SQLiteStore(path, busy_timeout_ms=100)
    sid = new_id()
    store.write(events=[event(sid)])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked) as exc:
            store.write(sessions=[Session(title="blocked")], events=[event(sid), event(new_id())])
        assert "locked by another process" in one_line(exc)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.get_session(sid).event_count == 1
    assert store.write(events=[event(sid)]).inserted == 1
    store.close()


def test_disk_full_rolls_back_the_whole_batch(tmp_path):
    path = tmp_path / "full.db"
    store = SQLiteStore(path)
    sid = new_id()
    store.write(events=[event(sid)])
    pages = store._db.writer().execute("PRAGMA page_count").fetchone()[0]
    store._db.writer().execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(DiskFull) as exc:
        store.write(events=[event(sid, "y" * 4000) for _ in range(50)])
    assert "full" in one_line(exc)
    assert store.get_session(sid).event_count == 1
    assert store.count_events(EventQuery()) == 1
    store.close()


def test_read_only_store_reads_but_refuses_writes(tmp_path):
    path = tmp_path / "ro.db"
    with SQLiteStore(path) as rw:
        sid = new_id()
        rw.write(events=[event(sid, "readable words")])
    with SQLiteStore(path, read_only=True) as ro:
        assert ro.get_session(sid).event_count == 1
        with pytest.raises(ReadOnlyStore) as exc:
            ro.write(events=[event(sid)])
        assert "read-only" in one_line(exc)


def test_read_only_missing_file(tmp_path):
    with pytest.raises(NotFound, match="no AgentLog database"):
        SQLiteStore(tmp_path / "absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "home"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ReadOnlyStore) as exc:
            SQLiteStore(folder / "store.db")
        one_line(exc)
    finally:
        folder.chmod(stat.S_IRWXU)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (5, DatabaseLocked),
        (6, DatabaseLocked),
        (8, ReadOnlyStore),
        (13, DiskFull),
        (26, NotAnAgentLogDatabase),
        (11, StoreError),
        (14, ReadOnlyStore),
        (10, StoreError),
        (1, StoreError),
        (8 | 1 << 8, ReadOnlyStore),
    ],
)
def test_sqlite_codes_map_to_errors(tmp_path, code, error):
    exc = sqlite3.OperationalError("boom")
    exc.sqlite_errorcode = code
    translated = translate(exc, tmp_path / "x.db")
    assert type(translated) is error
    assert "\n" not in str(translated) and str(tmp_path / "x.db") in str(translated)


def test_closed_store_says_so(tmp_path):
    store = SQLiteStore(tmp_path / "closed.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count_events(EventQuery())
    store.close()  # closing twice is harmless


def test_memory_path_is_refused():
    with pytest.raises(UsageError, match="needs a file"):
        SQLiteStore(":memory:")


def test_kill_9_mid_write_leaves_a_consistent_file(tmp_path):
    """A writer killed at any moment loses at most its open transaction, never the file."""
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "killed.db"
    SQLiteStore(path).close()
    script = (
        "import sys\n"
        "from agentlog.model import Event, EventType, new_id\n"
        "from agentlog.storage.sqlite.store import SQLiteStore\n"
        "store = SQLiteStore(sys.argv[1])\n"
        "sid = new_id()\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    store.write(events=[Event(session_id=sid, type=EventType.LOG, content='kiwi ' * 50)"
        " for _ in range(200)])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with SQLiteStore(path) as store:
        assert store.check() == []
        info = store.info()
        assert info.events > 0 and info.events % 200 == 0  # whole batches only
        assert store.count_events(EventQuery(text="kiwi")) == info.events
