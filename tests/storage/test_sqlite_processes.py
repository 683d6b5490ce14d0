"""A new store file opened while another process is still creating it (an agent and the MCP
proxies it starts, two CLI commands at once)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentlog.model import Session
from agentlog.storage.base import SessionQuery
from agentlog.storage.sqlite.conn import use_wal
from agentlog.storage.sqlite.store import SQLiteStore


@contextmanager
def _being_created(path: Path, seconds: float = 0.2) -> Iterator[None]:
    """Another opener's first write on the new file: in its rollback journal, not yet committed,
    for `seconds`. A `PRAGMA journal_mode = WAL` meanwhile fails at once ("database is
    locked"): SQLite does not call the busy handler for that switch."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE first_opener (x)")
    done = threading.Timer(seconds, lambda: other.execute("COMMIT"))
    done.start()
    try:
        yield
    finally:
        done.join()
        other.close()


def test_switching_a_new_file_to_wal_waits_for_its_first_opener(tmp_path):
    path = tmp_path / "new.db"
    with _being_created(path):
        conn = sqlite3.connect(path, isolation_level=None)
        use_wal(conn, 5000)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.close()


def test_a_store_opened_while_another_process_creates_the_file_opens(tmp_path):
    path = tmp_path / "new.db"
    with _being_created(path):
        store = SQLiteStore(path)
        store.write(sessions=[Session(title="opened second")])
    assert store.count_sessions(SessionQuery()) == 1
    store.close()
