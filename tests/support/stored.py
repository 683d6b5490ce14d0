"""What a store file holds, read back whole: for tests of importers and hooks."""

from __future__ import annotations

from pathlib import Path

from agentlog.model import Event, SessionSummary
from agentlog.storage import EventQuery, SessionQuery, open_store


def read(db: Path) -> tuple[list[SessionSummary], list[Event]]:
    """Every session (up to 100) of the file at `db`, and their events (up to 1,000 each)."""
    with open_store(str(db)) as store:
        sessions = store.list_sessions(SessionQuery(limit=100)).items
        events = [
            e
            for s in sessions
            for e in store.list_events(EventQuery(session_id=s.id, limit=1000)).items
        ]
    return sessions, events
