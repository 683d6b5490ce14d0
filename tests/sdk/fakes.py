"""An in-memory Store for SDK tests: the write half of the protocol, optionally failing."""

from __future__ import annotations

from collections.abc import Sequence

from agentlog.model import Event, Session, WriteResult


class FakeStore:
    """The write half of the Store protocol, in memory; fails the first `fail` writes."""

    url = "fake://memory"
    team_id = None

    def __init__(self, fail: int = 0, exc: BaseException | None = None) -> None:
        self.fail = fail
        self.exc = exc or ConnectionError("store is down")
        self.sessions: dict[str, Session] = {}
        self.events: dict[str, Event] = {}
        self.batches: list[int] = []
        self.session_writes: list[Session] = []
        self.calls = 0
        self.closed = False

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        self.calls += 1
        if self.fail:
            self.fail -= 1
            raise self.exc
        assert all(isinstance(s, Session) for s in sessions)
        assert all(isinstance(e, Event) for e in events)
        for s in sessions:
            self.sessions[s.id] = s
            self.session_writes.append(s)
        inserted = duplicates = 0
        for e in events:
            if e.id in self.events:
                duplicates += 1
                continue
            self.events[e.id] = e
            inserted += 1
            self.sessions.setdefault(e.session_id, Session(id=e.session_id))
        self.batches.append(len(events))
        return WriteResult(inserted=inserted, duplicates=duplicates)

    def close(self) -> None:
        self.closed = True

    def ordered(self, session_id: str | None = None) -> list[Event]:
        events = [e for e in self.events.values() if session_id in (None, e.session_id)]
        return sorted(events, key=lambda e: (e.timestamp, e.id))
