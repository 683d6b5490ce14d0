"""Live follow: each matching event once, as it is stored (CLI `tail`, the TUI's follow).

Events are found by when they were stored, not by their timestamps: a timed
tool call is stamped when it started and stored when it ended, possibly
minutes later, so "keys newer than the last one shown" misses it. Each poll
asks the store which sessions changed (`Store.changed_sessions`, one query
when nothing happened); for a changed session the follower knows which event
ids it already had, reads the recent window of that session, and when the
event count says something older arrived late, reads the session's
(timestamp, id) keys to find exactly which. Built on the Store protocol only,
so it follows every backend alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from agentlog.model import Event, SessionStatus, SessionSummary, from_us, to_us, utcnow
from agentlog.storage.base import EventQuery, SessionQuery, Store, event_key, iter_events

LAG = timedelta(seconds=5)  # the recent window read first for a changed session
KNOWN_AT_START = 20  # the most recently active sessions, whose event ids are read at the start
# ... and every running session (up to this many): a timed tool call of any of them may be
# stored minutes after its stamp, so its ids must be known to tell that call from old news.
ACTIVE_AT_START = 500


@dataclass
class _Known:
    """The event ids of one session the follower has accounted for, and its newest time."""

    ids: set[str] = field(default_factory=set)
    newest_us: int = 0


class Follower:
    """Yields each matching event once, oldest first, as it is stored."""

    def __init__(self, store: Store, query: EventQuery, backlog: int = 0) -> None:
        self.store = store
        self.query = replace(query, order="asc", limit=1000, cursor=None)
        self.unfiltered = EventQuery(session_id=query.session_id, limit=1000)
        self.filtered = self.query != replace(self.unfiltered, order="asc")
        self.backlog = backlog
        self.token: str | None = None
        self.known: dict[str, _Known] = {}
        self.started_us = to_us(utcnow())

    def first(self) -> list[Event]:
        """The last `backlog` matching events (oldest first); sets where following starts."""
        self._begin()
        events: list[Event] = []
        if self.backlog > 0:
            page = self.store.list_events(replace(self.query, order="desc", limit=self.backlog))
            events = list(reversed(page.items))
        return events

    def start(self) -> list[tuple[int, str]]:
        """Start following now; the (timestamp, id) keys of the matching events already stored.

        For a view that loaded its keys before following began: these may include
        keys the view already shows, or that a later `poll` reports again, but
        never miss one in between, so the caller adds only the keys it lacks.
        """
        learned = self._begin()
        if self.query.session_id is not None and not self.filtered:
            return learned  # the session's keys, just read to learn its ids
        return self.store.event_keys(self.query)

    def _begin(self) -> list[tuple[int, str]]:
        """Take the store's change token, then learn what is already there (the followed session's keys)."""
        self.token = self.store.changed_sessions().token  # first: nothing stored after is missed
        self.started_us = to_us(utcnow())
        if self.query.session_id is not None:
            return self._learn(self.query.session_id)
        for s in self.store.list_sessions(SessionQuery(limit=KNOWN_AT_START)).items:
            self._learn(s.id)
        running = SessionQuery(status=SessionStatus.ACTIVE, limit=ACTIVE_AT_START)
        for s in self.store.list_sessions(running).items:
            if s.id not in self.known:
                self._learn(s.id)
        return []

    def _learn(self, session_id: str, before_us: int | None = None) -> list[tuple[int, str]]:
        """Take the session's event ids as old news: all it holds now, or those stamped before `before_us`."""
        keys = self.store.event_keys(EventQuery(session_id=session_id))
        if before_us is not None:
            keys = [k for k in keys if k[0] < before_us]
        self.known[session_id] = _Known(
            {i for _, i in keys}, max((ts for ts, _ in keys), default=0)
        )
        return keys

    def poll(self) -> list[Event]:
        """Events stored since the last poll, oldest first."""
        if self.token is None:
            self.first()
        changes = self.store.changed_sessions(self.token)
        self.token = changes.token
        fresh: list[Event] = []
        for s in changes.sessions:
            if self.query.session_id in (None, s.id):
                fresh.extend(self._new_in(s))
        fresh.sort(key=event_key)
        return fresh

    def _new_in(self, s: SessionSummary) -> list[Event]:
        known = self.known.get(s.id)
        if known is None:
            if to_us(s.created_at) >= self.started_us - to_us_delta(LAG):
                known = self.known[s.id] = _Known()  # born while tailing: every event is new
            else:
                # Not among the sessions read at the start: what is stamped before it is old.
                self._learn(s.id, self.started_us - to_us_delta(LAG))
                known = self.known[s.id]
        missing = s.event_count - len(known.ids)
        if missing <= 0:
            return []
        window = from_us(max(known.newest_us - to_us_delta(LAG), 0))
        base = EventQuery(session_id=s.id, limit=1000)
        new = [
            e for e in iter_events(self.store, replace(base, since=window)) if e.id not in known.ids
        ]
        if len(new) < missing:
            # Stored late, stamped before the window: find it by id among the session's keys.
            keys = self.store.event_keys(EventQuery(session_id=s.id))
            have = known.ids | {e.id for e in new}
            late = [ts for ts, i in keys if i not in have]
            if late:
                since = from_us(min(late))
                new = [
                    e
                    for e in iter_events(self.store, replace(base, since=since))
                    if e.id not in known.ids
                ]
        known.ids.update(e.id for e in new)
        known.newest_us = max([known.newest_us, *(to_us(e.timestamp) for e in new)])
        if new and self.filtered:
            oldest = min(e.timestamp for e in new)
            ids = {e.id for e in new}
            wanted = replace(
                self.query, session_id=s.id, since=max(oldest, self.query.since or oldest)
            )
            new = [e for e in iter_events(self.store, wanted) if e.id in ids]
        return new


def to_us_delta(delta: timedelta) -> int:
    """A timedelta in whole microseconds (the unit of the stores' keys)."""
    return int(delta.total_seconds() * 1_000_000)


__all__ = ["Follower"]
