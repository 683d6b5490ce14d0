"""`sqlite.synchronous`: normal by default (a process crash loses nothing committed), full on request."""

from __future__ import annotations

import pytest

from agentlog.errors import ConfigError
from agentlog.storage import open_store


def _level(store) -> int:
    return store._db.reader().execute("PRAGMA synchronous").fetchone()[0]


def test_normal_by_default_full_when_configured(tmp_path, monkeypatch) -> None:
    with open_store(str(tmp_path / "a.db")) as store:
        assert _level(store) == 1  # NORMAL
    monkeypatch.setenv("AGENTLOG_SQLITE_SYNCHRONOUS", "full")
    with open_store(str(tmp_path / "b.db")) as store:
        assert _level(store) == 2  # FULL
        with store._db.lock:
            assert store._db.writer().execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_bad_value_is_a_one_line_config_error(monkeypatch) -> None:
    from agentlog.config import Settings

    monkeypatch.setenv("AGENTLOG_SQLITE_SYNCHRONOUS", "sometimes")
    with pytest.raises(ConfigError, match="use one of normal, full"):
        Settings.load()
