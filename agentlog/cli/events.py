"""`agentlog events SESSION` and `agentlog search [TEXT]`: read events with the shared filters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import (
    CursorOpt,
    EventFilters,
    JsonOpt,
    LimitOpt,
    NdjsonOpt,
    OrderOpt,
    event_filter_options,
)
from agentlog.cli.output import (
    Column,
    Format,
    output_format,
    print_json_items,
    print_ndjson,
    print_rows,
)
from agentlog.cli.render import EVENT_COLUMNS, SEARCH_COLUMNS
from agentlog.errors import UsageError
from agentlog.model import Event, utcnow
from agentlog.present import ago, offset
from agentlog.storage.base import EventQuery, Store, iter_events

AllOpt = Annotated[bool, typer.Option("--all", help="Every page (ignores --limit).")]
RelativeOpt = Annotated[
    bool,
    typer.Option(
        "--relative",
        "-r",
        help="Times relative, as the TUI shows them: +12.3s into the session (events), "
        "5m ago (search).",
    ),
]


def relative_columns(columns: list[Column], when: Callable[[Event], str]) -> list[Column]:
    """`columns` with the TIME column showing `when(event)` instead of the UTC time."""
    return [replace(c, get=when) if c.header == "TIME" else c for c in columns]


SessionOpt = Annotated[
    str | None,
    typer.Option("--session", metavar="SESSION", help="Only this session (id, prefix or latest)."),
]


def print_events(
    store: Store, query: EventQuery, fmt: Format, columns: list[Column], all_pages: bool
) -> None:
    if all_pages:
        rows = iter_events(store, replace(query, limit=1000))
        if fmt is Format.NDJSON:
            print_ndjson(rows)
        elif fmt is Format.JSON:
            print_json_items(rows)
        else:
            print_rows(list(rows), columns, fmt, empty="no events match")
        return
    page = store.list_events(query)
    print_rows(page.items, columns, fmt, next_cursor=page.next_cursor, empty="no events match")


@event_filter_options()
def events(
    ctx: typer.Context,
    session: Annotated[
        str, typer.Argument(metavar="SESSION", help="Session id, unique id prefix, or 'latest'.")
    ],
    filters: EventFilters,
    order: OrderOpt = None,
    limit: LimitOpt = 100,
    cursor: CursorOpt = None,
    all_: AllOpt = False,
    relative: RelativeOpt = False,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
) -> None:
    """A session's events in time order, filtered by type, agent, status, time, text or metadata.

    Example: agentlog events latest --type TOOL_CALL,ERROR --agent coder
    """
    fmt = output_format(json, ndjson)
    store = get_store(ctx)
    query = filters.query(store, session=session, order=order or "asc", limit=limit, cursor=cursor)
    columns = EVENT_COLUMNS
    if relative and query.session_id is not None:
        start = store.get_session(query.session_id).first_event_at
        columns = relative_columns(columns, lambda e: offset(e.timestamp, start))
    print_events(store, query, fmt, columns, all_)


@event_filter_options(search=False)
def search(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            metavar="TEXT",
            help="Words to find (any script); leave out to list what the filters match.",
        ),
    ] = "",
    session: SessionOpt = None,
    filters: EventFilters = EventFilters(),
    order: OrderOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    all_: AllOpt = False,
    relative: RelativeOpt = False,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
) -> None:
    """Search every session's events by full text, filters or both, newest first.

    Example: agentlog search timeout --type ERROR --since 7d --json | jq '.items[].session_id'
    Example: agentlog search --type ERROR --since 1d
    """
    fmt = output_format(json, ndjson)
    if not text and session is None and filters == EventFilters():
        raise UsageError("give TEXT to find, or a filter such as --type ERROR or --since 1d")
    store = get_store(ctx)
    query = filters.query(
        store, session=session, text=text, order=order or "desc", limit=limit, cursor=cursor
    )
    columns = SEARCH_COLUMNS
    if relative:
        now = utcnow()
        columns = relative_columns(columns, lambda e: ago(e.timestamp, now))
    print_events(store, query, fmt, columns, all_)


def register(app: typer.Typer) -> None:
    app.command("events")(events)
    app.command("search")(search)
