"""`AgentLog`'s set-up: where its records go is checked when it is made, not at the first write."""

from __future__ import annotations

import pytest

from agentlog import AgentLog
from agentlog.errors import UsageError


@pytest.mark.parametrize("url", ["htp://nowhere", "postgress://u:secret@h/db", "sqlite://x.db"])
def test_a_store_url_of_no_known_kind_is_a_set_up_error(tmp_path, monkeypatch, url) -> None:
    monkeypatch.chdir(tmp_path)
    scheme = url.split("://")[0]
    with pytest.raises(UsageError, match=f"^{scheme}:// is not a kind of store; give a file path"):
        AgentLog(db=url)
    monkeypatch.setenv("AGENTLOG_DB", url)
    with pytest.raises(UsageError, match="is not a kind of store"):
        AgentLog()
    assert list(tmp_path.iterdir()) == []


def test_paths_and_sqlite_urls_are_written(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for db in ("plain.db", "sqlite:///url.db"):
        log = AgentLog(db=db)
        log.session("set-up").log("hello")
        assert log.flush()
        log.close()
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["plain.db", "url.db"]
