"""The server's database and key files are owner-only: new ones 0600 in 0700, old ones tightened (issue 9, item 12)."""

from __future__ import annotations

import os
import sqlite3
import stat

from agentlog.server.tokens import KeyRing
from agentlog.storage.accounts.sqlite import SQLiteAccounts


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_accounts_database_is_private(tmp_path):
    path = tmp_path / "new" / "server.db"
    accounts = SQLiteAccounts(path)
    try:
        assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
        for suffix in ("-wal", "-shm"):
            if os.path.exists(str(path) + suffix):
                assert _mode(str(path) + suffix) & 0o077 == 0
    finally:
        accounts.close()


def test_an_existing_readable_database_is_tightened_with_a_warning(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    path = folder / "server.db"
    sqlite3.connect(path).close()
    os.chmod(path, 0o644)
    accounts = SQLiteAccounts(path)
    try:
        assert _mode(path) == 0o600
        assert any("was mode 0644" in w for w in accounts.warnings)
        # the folder is not changed (it may be shared on purpose), but named
        assert _mode(folder) == 0o755
        assert any("chmod 700" in w for w in accounts.warnings)
    finally:
        accounts.close()


def test_an_existing_signing_key_file_is_tightened(tmp_path):
    ring = KeyRing(tmp_path)
    os.chmod(ring.path, 0o644)
    KeyRing(tmp_path)
    assert _mode(ring.path) == 0o600


def test_an_open_folder_is_named_once_per_process(tmp_path, caplog):
    """`agentlog serve` opens its accounts database before and after it starts the app: one line."""
    folder = tmp_path / "shared"
    folder.mkdir()
    os.chmod(folder, 0o755)
    path = folder / "server.db"
    with caplog.at_level("WARNING", logger="agentlog.server"):
        for _ in range(2):
            SQLiteAccounts(path).close()
    assert [r.getMessage() for r in caplog.records].count(
        f"the folder {folder} is mode 0755: other users can list it; consider chmod 700 {folder}"
    ) == 1
