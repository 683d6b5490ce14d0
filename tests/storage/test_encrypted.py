"""Encryption at rest: event content and metadata sealed on every backend, opened on every read."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agentlog.errors import ConfigError
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery
from agentlog.storage.encrypted import META_KEY, PREFIX, EncryptedStore, encrypted, new_key
from agentlog.storage.sqlite.store import SQLiteStore
from tests.storage.conftest import Make

SECRET = "the launch code is swordfish"


def _write(store, make: Make) -> str:
    session = make.session(title="plain title")
    store.write(
        [session],
        [
            make.event(session.id, content=SECRET, name="vault", metadata={"card": "4111-1111"}),
            make.event(session.id, content="second", metadata={}),
        ],
    )
    return session.id


def test_sqlite_file_holds_no_plaintext_and_every_read_opens_it(tmp_path: Path, make) -> None:
    path = tmp_path / "sealed.db"
    store = encrypted(SQLiteStore(path), new_key())
    sid = _write(store, make)
    events = store.list_events(EventQuery(session_id=sid)).items
    assert [e.content for e in events] == [SECRET, "second"]
    assert events[0].metadata == {"card": "4111-1111"} and events[1].metadata == {}
    assert store.get_event(events[0].id).content == SECRET
    (record, _) = store.list_event_records(EventQuery(session_id=sid)).items
    assert record["content"] == SECRET and "4111" in str(record["metadata"])
    assert store.list_events(EventQuery(text="swordfish")).items == []  # sealed: not searchable
    assert store.get_session(sid).title == "plain title"  # sessions are not sealed
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("sealed.db"))
    assert b"swordfish" not in raw and b"4111" not in raw
    with sqlite3.connect(path) as db:
        content, metadata = db.execute("select content, metadata from events limit 1").fetchone()
    assert content.startswith(PREFIX) and META_KEY in metadata


def test_postgres_holds_no_plaintext(make) -> None:
    if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        pytest.skip("needs AGENTLOG_TEST_POSTGRES_URL")
    from agentlog.storage.postgres.testing import temporary_store

    inner = temporary_store()
    store = encrypted(inner, new_key())
    try:
        sid = _write(store, make)
        assert store.list_events(EventQuery(session_id=sid)).items[0].content == SECRET
        with inner._pool.connection() as conn:  # what the database itself holds
            rows = conn.execute("select content, metadata::text from events").fetchall()
        assert all("swordfish" not in (c or "") and "4111" not in m for c, m in rows)
        assert any((c or "").startswith(PREFIX) for c, _ in rows)
    finally:
        store.close()


def test_content_only_keeps_metadata_filterable(tmp_path: Path, make) -> None:
    store = encrypted(SQLiteStore(tmp_path / "s.db"), new_key(), "content")
    _write(store, make)
    found = store.list_events(EventQuery(metadata={"card": "4111-1111"})).items
    assert [e.content for e in found] == [SECRET]
    store.close()


def test_a_rotated_key_reads_old_and_new_and_a_missing_key_loses_nothing(
    tmp_path: Path, make
) -> None:
    old, new = new_key(), new_key()
    path = tmp_path / "rot.db"
    first = encrypted(SQLiteStore(path), old)
    sid = _write(first, make)
    first.close()
    rotated = encrypted(SQLiteStore(path), f"{new},{old}")
    rotated.write([], [make.event(sid, content="after the rotation")])
    assert [e.content for e in rotated.list_events(EventQuery(session_id=sid)).items] == [
        SECRET,
        "second",
        "after the rotation",
    ]
    rotated.close()
    only_new = encrypted(SQLiteStore(path), new)
    contents = [e.content for e in only_new.list_events(EventQuery(session_id=sid)).items]
    only_new.close()
    assert contents[2] == "after the rotation"
    assert contents[0].startswith(PREFIX)  # sealed with the retired key: kept, not dropped


def test_scoped_stores_stay_sealed(tmp_path: Path, make) -> None:
    store = encrypted(SQLiteStore(tmp_path / "s.db"), new_key())
    scoped = store.scoped("")
    assert isinstance(scoped, EncryptedStore)
    sid = _write(scoped, make)
    assert store.list_events(EventQuery(session_id=sid)).items[0].content == SECRET
    store.close()


def test_bad_keys_and_fields_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="key 2 is not a Fernet key"):
        encrypted(SQLiteStore(tmp_path / "a.db"), f"{new_key()},not-a-key")
    with pytest.raises(ConfigError, match="use content, metadata or content,metadata"):
        encrypted(SQLiteStore(tmp_path / "b.db"), new_key(), "content,title")


def test_open_store_seals_with_the_environments_key(tmp_path: Path, make, monkeypatch) -> None:
    monkeypatch.setenv("AGENTLOG_ENCRYPTION_KEY", new_key())
    store = open_store(str(tmp_path / "env.db"))
    assert isinstance(store, EncryptedStore)
    _write(store, make)
    store.close()
    assert b"swordfish" not in (tmp_path / "env.db").read_bytes()
    monkeypatch.setenv("AGENTLOG_ENCRYPTION_KEY", "garbage")
    with pytest.raises(ConfigError, match="not a Fernet key"):
        open_store(str(tmp_path / "env.db"))


def test_the_cli_reads_and_exports_in_clear_and_refuses_a_bad_key(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AGENTLOG_HOME": str(tmp_path / "home"),
        "AGENTLOG_ENCRYPTION_KEY": new_key(),
    }
    env.pop("AGENTLOG_SERVER", None)
    agentlog = [sys.executable, "-m", "agentlog"]
    record = (
        "from agentlog import AgentLog\n"
        "log = AgentLog()\n"
        f"with log.session('t') as s: s.user_input({SECRET!r})\n"
        "log.close()\n"
    )
    subprocess.run([sys.executable, "-c", record], env=env, check=True, timeout=60)
    shown = subprocess.run(
        [*agentlog, "events", "latest", "--json"], env=env, capture_output=True, text=True
    )
    assert SECRET in shown.stdout, shown.stderr
    out = tmp_path / "out.ndjson"
    subprocess.run([*agentlog, "export", "--all", "-o", str(out)], env=env, check=True, timeout=60)
    assert SECRET in out.read_text()
    bad = subprocess.run(
        [*agentlog, "sessions", "list"],
        env={**env, "AGENTLOG_ENCRYPTION_KEY": "nope"},
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "not a Fernet key" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    raw = b"".join(p.read_bytes() for p in (tmp_path / "home").rglob("*.db*") if p.is_file())
    assert raw and b"swordfish" not in raw


def test_the_server_seals_what_it_is_sent(tmp_path: Path, make, monkeypatch) -> None:
    monkeypatch.setenv("AGENTLOG_ENCRYPTION_KEY", new_key())
    from agentlog.server.testing import remote_store

    remote = remote_store(tmp_path)
    try:
        sid = _write(remote, make)
        assert remote.list_events(EventQuery(session_id=sid)).items[0].content == SECRET
    finally:
        remote.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("*.db*") if p.is_file())
    assert raw and b"swordfish" not in raw
