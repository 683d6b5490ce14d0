"""LangGraph adapter fixtures: a recorder that runs real graphs into a SQLite store and reads them back."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("langgraph", reason="needs the langgraph extra")

from agentlog import AgentLog
from agentlog.integrations.langgraph import AgentLogCallback
from agentlog.model import Event, EventType, Session
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery


@dataclass
class Recorded:
    """What a run left in the store: sessions oldest first, events by session in order."""

    sessions: list[Session]
    events: dict[str, list[Event]] = field(default_factory=dict)

    @property
    def root(self) -> Session:
        roots = [s for s in self.sessions if s.parent_session_id is None]
        assert len(roots) == 1, [s.title for s in roots]
        return roots[0]

    def children(self, session: Session) -> list[Session]:
        return [s for s in self.sessions if s.parent_session_id == session.id]

    def session(self, title: str) -> Session:
        found = [s for s in self.sessions if s.title == title]
        assert len(found) == 1, (title, [s.title for s in self.sessions])
        return found[0]

    def of(self, session: Session, *types: EventType) -> list[Event]:
        events = self.events[session.id]
        return [e for e in events if not types or e.type in types]

    def all(self, *types: EventType) -> list[Event]:
        return [e for s in self.sessions for e in self.of(s, *types)]

    def by_id(self) -> dict[str, Event]:
        return {e.id: e for s in self.sessions for e in self.events[s.id]}


class Recorder:
    def __init__(self, path: str) -> None:
        self.path = path
        self.log = AgentLog(path, flush_interval=0.05)

    def callback(self, **kwargs: Any) -> AgentLogCallback:
        return AgentLogCallback(self.log, **kwargs)

    def config(self, **configurable: Any) -> dict[str, Any]:
        config: dict[str, Any] = {"callbacks": [self.callback()]}
        if configurable:
            config["configurable"] = configurable
        return config

    def read(self) -> Recorded:
        assert self.log.flush(10)
        store = open_store(self.path)
        try:
            sessions = sorted(
                store.list_sessions(SessionQuery(limit=1000)).items,
                key=lambda s: (s.created_at, s.id),
            )
            recorded = Recorded(sessions)
            for s in sessions:
                recorded.events[s.id] = store.list_events(
                    EventQuery(session_id=s.id, limit=1000)
                ).items
            return recorded
        finally:
            store.close()


@pytest.fixture
def recorder(tmp_path):
    rec = Recorder(str(tmp_path / "agentlog.db"))
    yield rec
    rec.log.close(timeout=10)


@pytest.fixture(autouse=True)
def _quiet_deprecations():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*create_react_agent.*")
        yield
