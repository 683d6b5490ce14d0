"""`agentlog events SESSION` and `agentlog search TEXT`: read events with the shared filters."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

import typer

from agentlog.cli.context import get_store
from agentlog.cli.options import (
    AgentOpt,
    CursorOpt,
    EventStatusOpt,
    JsonOpt,
    LimitOpt,
    MetadataOpt,
    NdjsonOpt,
    OrderOpt,
    SearchOpt,
    SinceOpt,
    TypeOpt,
    UntilOpt,
    agents,
    event_types,
    metadata_filters,
    split_values,
)
from agentlog.cli.output import Column, Format, output_format, print_ndjson, print_rows
from agentlog.cli.render import EVENT_COLUMNS, SEARCH_COLUMNS
from agentlog.cli.resolve import resolve_session_id
from agentlog.model import EventStatus
from agentlog.storage.base import EventQuery, Store, iter_events

NameOpt = Annotated[
    list[str] | None,
    typer.Option("--name", metavar="NAME", help="Tool, model, node or MCP method (repeatable)."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every page (ignores --limit).")]
SessionOpt = Annotated[
    str | None,
    typer.Option("--session", metavar="SESSION", help="Only this session (id, prefix or latest)."),
]


def build_query(
    store: Store,
    *,
    session: str | None,
    type_: list[str] | None,
    agent: list[str] | None,
    name: list[str] | None,
    status: EventStatus | None,
    since: datetime | None,
    until: datetime | None,
    text: str | None,
    metadata: list[str] | None,
    order: str,
    limit: int,
    cursor: str | None,
) -> EventQuery:
    """The EventQuery for the shared filter options (used by events, search, stats, tail)."""
    return EventQuery(
        session_id=resolve_session_id(store, session) if session else None,
        types=event_types(type_),
        agents=agents(agent),
        names=split_values(name) or None,
        status=status,
        since=since,
        until=until,
        text=text or None,
        metadata=metadata_filters(metadata),
        order=order,  # type: ignore[arg-type]
        limit=limit,
        cursor=cursor,
    )


def print_events(
    store: Store, query: EventQuery, fmt: Format, columns: list[Column], all_pages: bool
) -> None:
    if all_pages:
        rows = iter_events(store, replace(query, limit=1000))
        if fmt is Format.NDJSON:
            print_ndjson(rows)
        else:
            print_rows(list(rows), columns, fmt, empty="no events match")
        return
    page = store.list_events(query)
    print_rows(page.items, columns, fmt, next_cursor=page.next_cursor, empty="no events match")


def events(
    ctx: typer.Context,
    session: Annotated[
        str, typer.Argument(metavar="SESSION", help="Session id, unique id prefix, or 'latest'.")
    ],
    type_: TypeOpt = None,
    agent: AgentOpt = None,
    name: NameOpt = None,
    status: EventStatusOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    search: SearchOpt = None,
    metadata: MetadataOpt = None,
    order: OrderOpt = None,
    limit: LimitOpt = 100,
    cursor: CursorOpt = None,
    all_: AllOpt = False,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
) -> None:
    """A session's events in time order, filtered by type, agent, status, time, text or metadata.

    Example: agentlog events latest --type TOOL_CALL,ERROR --agent coder
    """
    fmt = output_format(json, ndjson)
    store = get_store(ctx)
    query = build_query(
        store,
        session=session,
        type_=type_,
        agent=agent,
        name=name,
        status=status,
        since=since,
        until=until,
        text=search,
        metadata=metadata,
        order=order or "asc",
        limit=limit,
        cursor=cursor,
    )
    print_events(store, query, fmt, EVENT_COLUMNS, all_)


def search(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Words to find (any script).")],
    session: SessionOpt = None,
    type_: TypeOpt = None,
    agent: AgentOpt = None,
    name: NameOpt = None,
    status: EventStatusOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    metadata: MetadataOpt = None,
    order: OrderOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    all_: AllOpt = False,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
) -> None:
    """Full-text search over every session's events, newest first.

    Example: agentlog search timeout --type ERROR --since 7d --json | jq '.items[].session_id'
    """
    fmt = output_format(json, ndjson)
    store = get_store(ctx)
    query = build_query(
        store,
        session=session,
        type_=type_,
        agent=agent,
        name=name,
        status=status,
        since=since,
        until=until,
        text=text,
        metadata=metadata,
        order=order or "desc",
        limit=limit,
        cursor=cursor,
    )
    print_events(store, query, fmt, SEARCH_COLUMNS, all_)


def register(app: typer.Typer) -> None:
    app.command("events")(events)
    app.command("search")(search)
