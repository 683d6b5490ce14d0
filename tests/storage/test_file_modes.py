"""A new SQLite store's folder is owner-only (0700) and its files 0600: they hold every team's data."""

from __future__ import annotations

import stat

from agentlog.model import Event, EventType, new_id
from agentlog.storage.sqlite.store import SQLiteStore


def test_new_store_folder_and_files_are_owner_only(tmp_path):
    path = tmp_path / "home" / "agentlog.db"
    store = SQLiteStore(path)
    try:
        store.write(events=[Event(session_id=new_id(), type=EventType.LOG, content="x")])
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for f in path.parent.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    finally:
        store.close()
