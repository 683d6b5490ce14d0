"""An export read on a terminal (stdout or a tty device) shows recorded controls, never obeys them."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentlog.model import Event, EventType, Session
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.export import Selection, export

AGENTLOG = [sys.executable, "-m", "agentlog"]
HOSTILE = "x\x1b]0;TITLE\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07\x9b31m\u202ey"
SID = "01900000-0000-7000-8000-000000000001"


def _hostile(store: SQLiteStore) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    store.write(
        [Session(id=SID, title="t" + HOSTILE, created_at=at, updated_at=at)],
        [
            Event(
                id="01900000-0000-7000-8000-0000000000e1",
                session_id=SID,
                timestamp=at,
                type=EventType.TOOL_RESULT,
                agent_id="a" + HOSTILE,
                name="n" + HOSTILE,
                content="c" + HOSTILE,
            )
        ],
    )


@contextmanager
def _terminal() -> Iterator[tuple[int, list[bytes]]]:
    """A pseudo-terminal whose screen (everything written to it) is collected."""
    master, slave = pty.openpty()
    screen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            screen.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield slave, screen
    finally:
        os.close(slave)
        reader.join(10)
        os.close(master)


def _obeyable(screen: bytes) -> list[str]:
    text = screen.decode("utf-8", "replace")
    return [c for c in ("\x1b", "\x07", "\x9b", "\u202e") if c in text]


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
def test_export_onto_a_tty_device_shows_controls(store, fmt) -> None:
    _hostile(store)
    with _terminal() as (slave, screen):
        export(store, Selection(all=True), fmt, os.ttyname(slave))
    shown = b"".join(screen)
    assert b"TITLE" in shown and _obeyable(shown) == []
    assert "␛]0;TITLE␇".encode() in shown or b"\\u001b]0;TITLE\\u0007" in shown


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "otlp"])
def test_cli_export_to_a_terminal_stdout_shows_controls(store, tmp_path: Path, fmt) -> None:
    _hostile(store)
    env = {**os.environ, "AGENTLOG_HOME": str(tmp_path / "home"), "TERM": "xterm"}
    with _terminal() as (slave, screen):
        done = subprocess.run(
            [*AGENTLOG, "--db", str(store.path), "export", "--all", "--format", fmt],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    shown = b"".join(screen)
    assert b"TITLE" in shown and _obeyable(shown) == []


def test_cli_export_into_a_pipe_stays_exact(store, tmp_path: Path) -> None:
    _hostile(store)
    env = {**os.environ, "AGENTLOG_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [*AGENTLOG, "--db", str(store.path), "export", "--all", "--format", "csv"],
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert ("c" + HOSTILE).encode() in done.stdout  # a file or a pipe gets the bytes recorded
