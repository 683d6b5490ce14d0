"""A small in-memory Store for TUI tests: the read side of the protocol, plus fault injection.

The TUI only reads through the `Store` protocol, so its tests can run against
this without a database; `FlakyStore` wraps any store and fails on demand to
test the "server went away" banner.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from agentlog.errors import NotFound, ReadOnlyStore, ServerUnavailable
from agentlog.model import (
    AgentSummary,
    DurationStats,
    Event,
    EventType,
    Session,
    SessionSummary,
    SessionUpdate,
    StatsReport,
    WriteResult,
    to_us,
)
from agentlog.storage.base import (
    EventQuery,
    Page,
    SessionChanges,
    SessionQuery,
    Store,
    StoreInfo,
    change_since,
    change_token,
    decode_cursor,
    encode_cursor,
    event_key,
)


class MemoryStore:
    """Enough of the Store protocol for the TUI, kept in dicts."""

    url = "memory://"
    team_id: str | None = None

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.events: dict[str, list[Event]] = {}
        self.by_id: dict[str, Event] = {}
        self.changed: dict[str, int] = {}  # session id -> write number that last changed it
        self.writes = 0
        self.change_calls = 0

    def scoped(self, team_id: str | None, user_id: str | None = None) -> Store:
        return self  # type: ignore[return-value]

    def close(self) -> None:
        pass

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        for s in sessions:
            self.sessions[s.id] = s
        inserted = 0
        for e in events:
            if e.id in self.by_id:
                continue
            self.sessions.setdefault(e.session_id, Session(id=e.session_id))
            self.events.setdefault(e.session_id, []).append(e)
            self.by_id[e.id] = e
            inserted += 1
        for sid in {e.session_id for e in events}:
            self.events[sid].sort(key=event_key)
        self.writes += 1
        for sid in {s.id for s in sessions} | {e.session_id for e in events}:
            self.changed[sid] = self.writes
        return WriteResult(inserted=inserted)

    def update_session(self, session_id: str, changes: SessionUpdate) -> SessionSummary:
        raise ReadOnlyStore("the test store only reads")  # the TUI never writes

    def delete_session(self, session_id: str) -> int:
        raise ReadOnlyStore("the test store only reads")

    def prune(self, before: datetime) -> int:
        raise ReadOnlyStore("the test store only reads")

    # -- reads
    def _summary(self, s: Session) -> SessionSummary:
        evs = self.events.get(s.id, [])
        first = evs[0].timestamp if evs else None
        last = evs[-1].timestamp if evs else None
        return SessionSummary(
            **s.model_dump(),
            event_count=len(evs),
            error_count=sum(1 for e in evs if e.status == "error" or e.type == EventType.ERROR),
            agents=sorted({e.agent_id for e in evs if e.agent_id}),
            first_event_at=first,
            last_event_at=last,
            duration_ms=(
                max(
                    (e.timestamp - first).total_seconds() * 1000 + (e.duration_ms or 0) for e in evs
                )
                if first and last
                else None
            ),
            input_tokens=sum(e.input_tokens or 0 for e in evs),
            output_tokens=sum(e.output_tokens or 0 for e in evs),
            cost_usd=sum(e.cost_usd or 0 for e in evs),
        )

    def get_session(self, session_id: str) -> SessionSummary:
        if session_id not in self.sessions:
            raise NotFound(f"no session {session_id}")
        return self._summary(self.sessions[session_id])

    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        rows = [self._summary(s) for s in self.sessions.values()]
        if query.status:
            rows = [r for r in rows if r.status == query.status]
        if query.text:
            t = query.text.lower()
            rows = [r for r in rows if t in r.title.lower() or t in r.description.lower()]
        if query.agent:
            rows = [r for r in rows if query.agent in r.agents]
        if query.tags:
            rows = [r for r in rows if set(query.tags) <= set(r.tags)]
        if query.parent_session_id:
            rows = [r for r in rows if r.parent_session_id == query.parent_session_id]
        if query.since:
            rows = [r for r in rows if (r.last_event_at or r.created_at) >= query.since]

        def key(r: SessionSummary) -> tuple[Any, str]:
            v = getattr(r, query.sort)
            if isinstance(v, datetime):
                v = to_us(v)
            return (v if v is not None else 0, r.id)

        rows.sort(key=key, reverse=query.order == "desc")
        start = 0
        if query.cursor:
            after = decode_cursor(query.cursor, query.fingerprint())[0]
            start = next(i for i, r in enumerate(rows) if r.id == after) + 1
        chunk = rows[start : start + query.limit]
        more = start + query.limit < len(rows)
        cursor = encode_cursor(query.fingerprint(), [chunk[-1].id]) if more and chunk else None
        return Page(chunk, cursor)

    def changed_sessions(self, since: str | None = None, limit: int = 200) -> SessionChanges:
        self.change_calls += 1
        if since is None:
            return SessionChanges([], change_token(self.writes))
        after = change_since(since)
        ids = sorted(
            (sid for sid, n in self.changed.items() if n > after), key=lambda i: -self.changed[i]
        )
        rows = [self._summary(self.sessions[i]) for i in ids[:limit]]
        return SessionChanges(rows, change_token(self.writes), len(ids) > limit)

    def count_sessions(self, query: SessionQuery) -> int:
        return len(self.list_sessions(replace(query, limit=10**9)).items)

    def get_event(self, event_id: str) -> Event:
        if event_id not in self.by_id:
            raise NotFound(f"no event {event_id}")
        return self.by_id[event_id]

    def _match(self, query: EventQuery) -> list[Event]:
        if query.session_id:
            evs = list(self.events.get(query.session_id, []))
        else:
            evs = sorted(self.by_id.values(), key=event_key)
        if query.types:
            ts = set(query.types)
            evs = [e for e in evs if e.type in ts]
        if query.agents:
            evs = [e for e in evs if e.agent_id in query.agents]
        if query.status:
            evs = [e for e in evs if e.status == query.status]
        if query.parent_id:
            evs = [e for e in evs if e.parent_id == query.parent_id]
        if query.since:
            evs = [e for e in evs if e.timestamp >= query.since]
        if query.until:
            evs = [e for e in evs if e.timestamp < query.until]
        if query.text:
            t = query.text.lower()
            evs = [e for e in evs if t in (e.content or "").lower() or t in (e.name or "").lower()]
        if query.order == "desc":
            evs.reverse()
        return evs

    def list_events(self, query: EventQuery) -> Page[Event]:
        evs = self._match(query)
        start = 0
        if query.cursor:
            ts, eid = decode_cursor(query.cursor, query.fingerprint())
            k = (ts, eid)
            if query.order == "asc":
                start = next((i for i, e in enumerate(evs) if event_key(e) > k), len(evs))
            else:
                start = next((i for i, e in enumerate(evs) if event_key(e) < k), len(evs))
        chunk = evs[start : start + query.limit]
        more = start + query.limit < len(evs)
        cursor = None
        if more and chunk:
            cursor = encode_cursor(query.fingerprint(), list(event_key(chunk[-1])))
        return Page(chunk, cursor)

    def count_events(self, query: EventQuery) -> int:
        return len(self._match(query))

    def facets(self, query: EventQuery) -> dict[str, dict[str, int]]:
        evs = self._match(query)
        return {
            "type": dict(Counter(str(e.type) for e in evs)),
            "agent": dict(Counter(e.agent_id for e in evs if e.agent_id)),
            "status": dict(Counter(str(e.status) for e in evs)),
        }

    def event_keys(self, query: EventQuery) -> list[tuple[int, str]]:
        return [event_key(e) for e in self._match(query)]

    def stats(self, query: EventQuery) -> StatsReport:
        evs = self._match(query)

        def profile(kind: EventType) -> list[DurationStats]:
            groups: dict[str, list[Event]] = {}
            for e in evs:
                if e.type == kind and e.name:
                    groups.setdefault(e.name, []).append(e)
            out = []
            for name, items in sorted(groups.items()):
                ds = sorted(e.duration_ms for e in items if e.duration_ms is not None)
                out.append(
                    DurationStats(
                        name=name,
                        count=len(items),
                        p50_ms=statistics.median(ds) if ds else None,
                        p95_ms=ds[int(0.95 * (len(ds) - 1))] if ds else None,
                        max_ms=ds[-1] if ds else None,
                        total_ms=sum(ds),
                        errors=sum(1 for e in items if e.status == "error"),
                    )
                )
            return out

        timed = sorted((e for e in evs if e.duration_ms), key=lambda e: -(e.duration_ms or 0))
        return StatsReport(
            sessions=len({e.session_id for e in evs}),
            events=len(evs),
            errors=sum(1 for e in evs if e.status == "error" or e.type == EventType.ERROR),
            by_type=dict(Counter(str(e.type) for e in evs)),
            by_agent=dict(Counter(e.agent_id for e in evs if e.agent_id)),
            tools=profile(EventType.TOOL_CALL),
            models=profile(EventType.LLM_CALL),
            input_tokens=sum(e.input_tokens or 0 for e in evs),
            output_tokens=sum(e.output_tokens or 0 for e in evs),
            cost_usd=sum(e.cost_usd or 0 for e in evs),
            slowest=timed[:10],
        )

    def agents(self, since: datetime | None = None) -> list[AgentSummary]:
        return []

    def info(self) -> StoreInfo:
        return StoreInfo(self.url, "memory", 0, len(self.sessions), len(self.by_id))


class FlakyStore:
    """Delegates to `inner`; while `down` is set every call raises ServerUnavailable."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.url = "http://127.0.0.1:1/"
        self.team_id = None

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise ServerUnavailable("cannot reach the AgentLog server at http://127.0.0.1:1/")
            return target(*args, **kwargs)

        return call
