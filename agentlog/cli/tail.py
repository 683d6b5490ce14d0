"""`agentlog tail [SESSION]`: follow new events live, like `tail -f`.

Events are found by when they were stored, not by their timestamps: a timed
tool call is stamped when it started and stored when it ended, possibly
minutes later. Each poll asks the store which sessions changed
(`Store.changed_sessions`, one query when nothing happened); for a changed
session the follower knows which event ids it already had, reads the recent
window of that session, and when the event count says something older
arrived late, reads the session's (timestamp, id) keys to find exactly which.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Annotated

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import (
    AgentOpt,
    EventStatusOpt,
    MetadataOpt,
    NameOpt,
    NdjsonOpt,
    SearchOpt,
    TypeOpt,
    build_query,
)
from agentlog.cli.output import dumps, out, write_line
from agentlog.cli.render import event_line
from agentlog.model import Event, SessionSummary, from_us, to_us, utcnow
from agentlog.storage.base import EventQuery, SessionQuery, Store, event_key, iter_events

LAG = timedelta(seconds=5)  # the recent window read first for a changed session
KNOWN_AT_START = 20  # the most recently active sessions, whose event ids are read at the start


@dataclass
class _Known:
    """The event ids of one session the follower has accounted for, and its newest time."""

    ids: set[str] = field(default_factory=set)
    newest_us: int = 0


class Follower:
    """Yields each matching event once, oldest first, as it is stored."""

    def __init__(self, store: Store, query: EventQuery, backlog: int) -> None:
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
        self.token = self.store.changed_sessions().token  # first: nothing stored after is missed
        self.started_us = to_us(utcnow())
        if self.query.session_id is not None:
            self._learn(self.query.session_id)
        else:
            for s in self.store.list_sessions(SessionQuery(limit=KNOWN_AT_START)).items:
                self._learn(s.id)
        events: list[Event] = []
        if self.backlog > 0:
            page = self.store.list_events(replace(self.query, order="desc", limit=self.backlog))
            events = list(reversed(page.items))
        return events

    def _learn(self, session_id: str, before_us: int | None = None) -> _Known:
        """The session's event ids as old news: all it holds now, or those stamped before `before_us`."""
        keys = self.store.event_keys(EventQuery(session_id=session_id))
        if before_us is not None:
            keys = [k for k in keys if k[0] < before_us]
        known = self.known[session_id] = _Known(
            {i for _, i in keys}, max((ts for ts, _ in keys), default=0)
        )
        return known

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
                known = self._learn(s.id, self.started_us - to_us_delta(LAG))
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
    return int(delta.total_seconds() * 1_000_000)


def tail(
    ctx: typer.Context,
    session: Annotated[
        str | None,
        typer.Argument(
            metavar="[SESSION]", help="One session (id, prefix or latest); default all."
        ),
    ] = None,
    type_: TypeOpt = None,
    agent: AgentOpt = None,
    name: NameOpt = None,
    status: EventStatusOpt = None,
    search: SearchOpt = None,
    metadata: MetadataOpt = None,
    lines: Annotated[
        int,
        typer.Option("--lines", "-n", min=0, max=1000, help="Show this many recent events first."),
    ] = 10,
    interval: Annotated[
        float, typer.Option("--interval", min=0.05, help="Seconds between polls.")
    ] = 0.5,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0, help="Stop after this many seconds.")
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Stop after this many new events.")
    ] = None,
    ndjson: NdjsonOpt = False,
) -> None:
    """Follow new events live (Ctrl-C stops); --ndjson prints one JSON object per event.

    Example: agentlog tail latest --type ERROR,TOOL_CALL
    """
    store = get_store(ctx)
    query = build_query(
        store,
        session=session,
        type_=type_,
        agent=agent,
        name=name,
        status=status,
        text=search,
        metadata=metadata,
        limit=1000,
    )
    console = out()
    with_session = query.session_id is None

    def show(events: list[Event]) -> None:
        for event in events:
            if ndjson:
                write_line(dumps(event))
            else:
                console.print(event_line(event, with_session=with_session), soft_wrap=True)
        sys.stdout.flush()

    follower = Follower(store, query, lines)
    deadline = None if timeout is None else time.monotonic() + timeout
    new = 0
    try:
        show(follower.first())
        while count is None or new < count:
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(interval)
            fresh = follower.poll()
            if count is not None:
                fresh = fresh[: count - new]
            new += len(fresh)
            show(fresh)
    except KeyboardInterrupt:
        return


def register(app: typer.Typer) -> None:
    app.command("tail")(tail)
