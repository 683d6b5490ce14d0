"""`agentlog tail [SESSION]`: follow new events live, like `tail -f`.

The following itself is `agentlog.storage.follow.Follower` (the TUI's follow
uses the same one): events are found by when they were stored, so a timed
tool call stamped minutes before it was stored still shows.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import (
    EventFilters,
    NdjsonOpt,
    event_filter_options,
)
from agentlog.cli.output import dumps, out, write_line
from agentlog.cli.render import event_line
from agentlog.model import Event
from agentlog.storage.follow import Follower


@event_filter_options(times=False)
def tail(
    ctx: typer.Context,
    session: Annotated[
        str | None,
        typer.Argument(
            metavar="[SESSION]", help="One session (id, prefix or latest); default all."
        ),
    ] = None,
    filters: EventFilters = EventFilters(),
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
    store = get_store(ctx, access="follow")
    query = filters.query(store, session=session, limit=1000)
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
