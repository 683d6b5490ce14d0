"""Helpers for the portability tests: sessions and events with known values, a CLI runner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner, Result

from agentlog.model import Event, EventType, Session
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.export import Selection, export

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_session(n: int, **kw: Any) -> Session:
    values: dict[str, Any] = {"title": f"session {n}", "created_at": T0, "updated_at": T0, **kw}
    return Session(id=f"01900000-0000-7000-8000-{n:012d}", **values)


def make_event(session: Session, n: int, **kw: Any) -> Event:
    values: dict[str, Any] = {
        "id": f"01900000-0001-7000-8000-{int(session.id[-6:]) * 100000 + n:012d}",
        "session_id": session.id,
        "timestamp": T0 + timedelta(seconds=n),
        "type": EventType.TOOL_CALL if n % 2 else EventType.LLM_CALL,
        "agent_id": "planner" if n % 3 else "coder",
        "name": "search",
        "content": f"step {n} of {session.title} ünïcødé",
        "metadata": {"n": n, "nested": {"ok": n % 2 == 0}},
        "duration_ms": n * 1.5,
    }
    values.update(kw)
    return Event(**values)


def fill(store: SQLiteStore, sessions: int = 3, events: int = 5) -> list[Session]:
    """Sessions 1..N with `events` events each; session 2 is a child of session 1."""
    made = []
    for i in range(1, sessions + 1):
        parent = made[0].id if i == 2 and made else None
        s = make_session(i, parent_session_id=parent, tags=["t"] if i % 2 else [])
        made.append(s)
        store.write([s], [make_event(s, j) for j in range(events)])
    return made


def dump(store: SQLiteStore, path: Path) -> list[bytes]:
    """The store as NDJSON lines without the header (its time differs per export)."""
    export(store, Selection(all=True), "ndjson", path)
    return path.read_bytes().splitlines()[1:]


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


class Cli:
    """Runs `agentlog --db DB ...` in-process with stdout and stderr apart."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | bytes | None = None) -> Result:
        from agentlog.cli.app import app

        return self.runner.invoke(app, ["--db", str(self.db), *args], input=input)
