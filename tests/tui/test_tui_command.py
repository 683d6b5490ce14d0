"""`agentlog tui`: the command builds the app over the right store (local, --server, FILE) or says why not."""

from __future__ import annotations

import pytest
from tui_fixture import fill
from typer.testing import CliRunner

from agentlog.cli.app import app as cli
from agentlog.storage.base import EventQuery, SessionQuery, iter_events
from agentlog.transfer.fileio import open_output
from agentlog.transfer.writers import make_writer
from agentlog.tui.app import AgentLogApp


@pytest.fixture
def runs(monkeypatch) -> list[AgentLogApp]:
    """Capture the app instead of taking over the terminal."""
    seen: list[AgentLogApp] = []

    def run(self: AgentLogApp, *args: object, **kwargs: object) -> None:
        # what the app would show, read while its store is still open
        self.seen_titles = {
            s.title: s.error_count for s in self.store.list_sessions(SessionQuery()).items
        }
        seen.append(self)

    monkeypatch.setattr(AgentLogApp, "run", run)
    monkeypatch.setattr("agentlog.cli.tui.has_terminal", lambda: True)
    return seen


def test_tui_opens_an_export_file_read_only(tmp_path, runs, sqlite_store) -> None:
    store = sqlite_store
    ids = fill(store)
    path = tmp_path / "shared.ndjson.gz"
    with open_output(path) as stream:
        writer = make_writer("ndjson", stream)
        for sid in ids.values():
            writer.begin_session(store.get_session(sid))
            for event in iter_events(store, EventQuery(session_id=sid)):
                writer.event(event)
            writer.end_session()
        writer.close()
    result = CliRunner().invoke(cli, ["tui", str(path)])
    assert result.exit_code == 0, result.output
    (app,) = runs
    assert app.source.endswith("(read-only)")
    assert app.seen_titles["flight search (failing)"] == 2
    assert len(app.seen_titles) == len(ids)


def test_tui_on_the_local_store_opens_the_latest_session(tmp_path, runs) -> None:
    db = tmp_path / "local.db"
    from agentlog.storage.sqlite.store import SQLiteStore

    store = SQLiteStore(str(db))
    ids = fill(store)
    store.close()
    result = CliRunner().invoke(cli, ["--db", str(db), "tui", "--session", "latest"])
    assert result.exit_code == 0, result.output
    (app,) = runs
    assert app.start_session == ids["text"]  # the most recent activity


def test_tui_refuses_a_missing_file_and_file_with_server(tmp_path, runs) -> None:
    result = CliRunner().invoke(cli, ["tui", str(tmp_path / "nope.ndjson")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    result = CliRunner().invoke(cli, ["tui", str(tmp_path), "--server", "http://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "not both" in result.output
    assert runs == []


def test_tui_without_a_terminal_is_one_clear_line(tmp_path) -> None:
    """Piped or in a CI job, it says what to use instead of hanging on a screen nobody sees."""
    import os
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "agentlog", "--db", str(tmp_path / "x.db"), "tui"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"AGENTLOG_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "agentlog: error: agentlog tui needs a terminal (stdin and stdout); for scripts and "
        "pipes use `agentlog sessions list`, `agentlog events SESSION` or `agentlog tail` (--json)"
    ]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("bad.ndjson", b"hello world\n"),
        ("bad2.ndjson", b"a,b\n1,2\n"),
        ("lines.json", b'{"kind": "session"}\n{"kind": "event"}\n{"kind": "event"}\n'),
        ("bad.txt", b"hello world\n"),
    ],
)
def test_an_unreadable_file_gets_tui_advice_not_import_options(
    tmp_path, runs, name: str, body: bytes
) -> None:
    """tui has no --format: a file it cannot read says what tui opens instead."""
    bad = tmp_path / name
    bad.write_bytes(body)
    result = CliRunner().invoke(cli, ["tui", str(bad)])
    assert result.exit_code != 0 and result.stderr.count("\n") == 1, result.stderr
    assert "--format" not in result.stderr, result.stderr
    assert "tui opens an AgentLog export" in result.stderr, result.stderr
    assert runs == []
