"""The `store` fixture every contract test runs against, once per registered backend.

Adding a backend is one line in BACKENDS: a factory taking the test's
tmp_path, and the environment variable it needs (the backend's tests skip
with a reason while that variable is unset).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentlog.model import Event, EventType, Session, new_id
from agentlog.storage.base import Store
from agentlog.storage.sqlite.store import SQLiteStore


@dataclass(frozen=True)
class Backend:
    open: Callable[[Path], Store]
    env: str | None = None  # the tests skip unless this variable is set


def _remote(tmp: Path) -> Store:
    from agentlog.server.testing import remote_store  # RemoteStore over an in-process server

    return remote_store(tmp)


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend(lambda tmp: SQLiteStore(tmp / "store.db")),
    "remote": Backend(_remote),
    "postgres": Backend(
        lambda tmp: __import__(
            "agentlog.storage.postgres.testing"
        ).storage.postgres.testing.temporary_store(),
        "AGENTLOG_TEST_POSTGRES_URL",
    ),
}


@pytest.fixture(params=list(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = BACKENDS[request.param]
    if backend.env and not os.environ.get(backend.env):
        pytest.skip(f"the {request.param} backend needs {backend.env} set")
    opened = backend.open(tmp_path)
    try:
        yield opened
    finally:
        opened.close()


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Make:
    """Deterministic sessions and events for tests (times count up from T0)."""

    def __init__(self) -> None:
        self.tick = 0

    def at(self, seconds: float) -> datetime:
        return T0 + timedelta(seconds=seconds)

    def session(self, **fields: Any) -> Session:
        fields.setdefault("created_at", T0)
        fields.setdefault("updated_at", fields["created_at"])
        return Session(**fields)

    def event(self, session_id: str, type: EventType | str = EventType.LOG, **fields: Any) -> Event:
        if "timestamp" not in fields:
            self.tick += 1
            fields["timestamp"] = self.at(self.tick)
        return Event(session_id=session_id, type=type, **fields)

    def events(self, session_id: str, n: int, **fields: Any) -> list[Event]:
        return [self.event(session_id, **fields) for _ in range(n)]


@pytest.fixture
def make() -> Make:
    return Make()


__all__ = ["BACKENDS", "T0", "Backend", "Make", "new_id"]
