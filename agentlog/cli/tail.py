"""`agentlog tail [SESSION]`: follow new events live, like `tail -f`.

It polls the Store with a keyset cursor from the last key seen. Writers
flush in batches, so an event can land a little after later-stamped ones;
each poll therefore starts `LAG` before the newest key seen and skips ids
already printed, instead of trusting a strict "after the last key".
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
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
from agentlog.model import Event, to_us, utcnow
from agentlog.storage.base import EventQuery, Store, event_cursor

LAG = timedelta(seconds=5)


class Follower:
    """Yields each matching event once, oldest first, as it appears in the store."""

    def __init__(self, store: Store, query: EventQuery, backlog: int) -> None:
        self.store = store
        self.query = replace(query, order="asc", limit=1000, cursor=None)
        self.seen: dict[str, int] = {}
        self.newest = to_us(utcnow() - LAG)
        self.backlog = backlog

    def first(self) -> list[Event]:
        """The last `backlog` matching events (oldest first); sets where following starts."""
        events: list[Event] = []
        if self.backlog > 0:
            page = self.store.list_events(replace(self.query, order="desc", limit=self.backlog))
            events = list(reversed(page.items))
            self._mark(events)
        # Everything already in the look-back window is old news, shown or not.
        self.poll()
        return events

    def poll(self) -> list[Event]:
        """Events stored since the last poll (pages through a burst)."""
        fresh: list[Event] = []
        cursor = event_cursor(self.query, self.newest - to_us_delta(LAG), "")
        while True:
            page = self.store.list_events(replace(self.query, cursor=cursor))
            fresh.extend(e for e in page.items if e.id not in self.seen)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
        self._mark(fresh)
        return fresh

    def _mark(self, events: list[Event]) -> None:
        for event in events:
            key = to_us(event.timestamp)
            self.seen[event.id] = key
            self.newest = max(self.newest, key)
        horizon = self.newest - 2 * to_us_delta(LAG)
        if len(self.seen) > 10_000:
            self.seen = {i: k for i, k in self.seen.items() if k >= horizon}


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
