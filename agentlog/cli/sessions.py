"""`agentlog sessions list|show|new|update|end|delete`: sessions from the shell."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar

import typer

from agentlog.cli.context import get_store, stale_after
from agentlog.cli.options import (
    CursorOpt,
    JsonOpt,
    LimitOpt,
    NdjsonOpt,
    OrderOpt,
    SearchOpt,
    SessionStatusOpt,
    SetTagOpt,
    SinceOpt,
    TagOpt,
    UntilOpt,
    YesOpt,
    json_object,
    tags,
)
from agentlog.cli.output import (
    Format,
    is_terminal,
    message,
    output_format,
    print_json,
    print_ndjson,
    print_object,
    print_rows,
    write_line,
)
from agentlog.cli.render import TREE_NOTE, session_columns, session_fields, tree_fields
from agentlog.cli.resolve import resolve_session_id
from agentlog.errors import InvalidInput, UsageError
from agentlog.model import (
    Session,
    SessionStatus,
    SessionSummary,
    SessionUpdate,
    utcnow,
    validation_message,
)
from agentlog.present import plural
from agentlog.storage.base import SessionQuery, SessionSort, Store, iter_sessions
from agentlog.storage.tree import TreeTotals, root_tree_totals, session_tree_totals

M = TypeVar("M")

sessions_app = typer.Typer(
    help="List, inspect, create, change and delete sessions.\n\n"
    "Example: agentlog sessions list --status failed --since 7d",
    no_args_is_help=True,
)

SessionArg = Annotated[
    str, typer.Argument(metavar="SESSION", help="Session id, unique id prefix, or 'latest'.")
]
SortOpt = Annotated[SessionSort, typer.Option("--sort", help="Sort key.")]
TitleOpt = Annotated[str | None, typer.Option("--title", help="Session title.")]
DescriptionOpt = Annotated[
    str | None, typer.Option("--description", "-d", help="Longer description.")
]
MetaJsonOpt = Annotated[
    str | None,
    typer.Option("--metadata", "-m", metavar="JSON", help="Metadata object, e.g. '{\"run\": 7}'."),
]


def _model(build: Callable[[], M], what: str) -> M:
    """Build a pydantic model from CLI values; a validation error names the field."""
    try:
        return build()
    except ValueError as exc:
        raise InvalidInput(f"{what}: {validation_message(exc)}") from None


@sessions_app.command("list")
def list_sessions(
    ctx: typer.Context,
    status: SessionStatusOpt = None,
    tag: TagOpt = None,
    agent: Annotated[
        str | None, typer.Option("--agent", "-a", help="Only sessions this agent took part in.")
    ] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    search: SearchOpt = None,
    parent: Annotated[
        str | None, typer.Option("--parent", metavar="SESSION", help="Only children of SESSION.")
    ] = None,
    replay_of: Annotated[
        str | None,
        typer.Option(
            "--replay-of", metavar="SESSION", help="Only replays of SESSION (agentlog replay llm)."
        ),
    ] = None,
    sort: SortOpt = "last_event_at",
    order: OrderOpt = None,
    limit: LimitOpt = 50,
    cursor: CursorOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Every page (ignores --limit).")] = False,
    json: JsonOpt = False,
    ndjson: NdjsonOpt = False,
) -> None:
    """List sessions with their aggregates, most recently active first.

    Example: agentlog sessions list --tag eval --status failed --since 7d --json
    """
    fmt = output_format(json, ndjson)
    store = get_store(ctx)
    query = SessionQuery(
        status=status,
        tags=tags(tag),
        agent=agent,
        since=since,
        until=until,
        text=search,
        parent_session_id=resolve_session_id(store, parent) if parent else None,
        replay_of=resolve_session_id(store, replay_of) if replay_of else None,
        sort=sort,
        order=order or ("asc" if sort == "title" else "desc"),
        limit=limit,
        cursor=cursor,
    )
    stale = stale_after(ctx)
    if all_:
        rows = iter_sessions(store, query)
        if fmt is Format.NDJSON:
            print_ndjson(row for batch in _batches(rows) for row in _with_trees(store, batch))
        else:
            every = list(rows)
            _print_sessions(store, every, fmt, stale, None, "no sessions match")
        return
    page = store.list_sessions(query)
    unfiltered = query == SessionQuery(sort=query.sort, order=query.order, limit=limit)
    empty = (
        "no sessions yet: record some with the SDK or `agentlog run`, or try `agentlog demo`"
        if unfiltered
        else "no sessions match"
    )
    _print_sessions(store, page.items, fmt, stale, page.next_cursor, empty)


def _print_sessions(
    store: Store,
    rows: list[SessionSummary],
    fmt: Format,
    stale: timedelta | None,
    next_cursor: str | None,
    empty: str,
) -> None:
    """The list's rows, a run's tokens and cost with its child sessions' (one query)."""
    trees = root_tree_totals(store, rows)
    if fmt is not Format.TABLE:
        print_rows(_with_trees(store, rows, trees), [], fmt, next_cursor=next_cursor, empty=empty)
        return
    columns = session_columns(rows, stale_after=stale, trees=trees)
    print_rows(rows, columns, fmt, next_cursor=next_cursor, empty=empty)
    if trees:
        message(TREE_NOTE)


def _with_trees(
    store: Store, rows: list[SessionSummary], trees: Mapping[str, TreeTotals] | None = None
) -> list[Any]:
    """Rows for --json/--ndjson: a run with child sessions carries their sum as `tree`
    (as `sessions show --json` does)."""
    trees = root_tree_totals(store, rows) if trees is None else trees
    return [
        s.to_json_dict() | {"tree": trees[s.id].to_json_dict()} if s.id in trees else s
        for s in rows
    ]


def _batches(rows: Iterable[SessionSummary], size: int = 500) -> Iterator[list[SessionSummary]]:
    batch: list[SessionSummary] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@sessions_app.command("show")
def show(ctx: typer.Context, session: SessionArg, json: JsonOpt = False) -> None:
    """One session with its aggregates (events, errors, agents, duration, tokens, cost).

    Example: agentlog sessions show latest
    """
    store = get_store(ctx)
    summary = store.get_session(resolve_session_id(store, session))
    children = store.list_sessions(SessionQuery(parent_session_id=summary.id, limit=100))
    # A supervisor's tokens are on its workers' sessions: add the whole tree's totals.
    tree = session_tree_totals(store, summary) if children.items else None
    fmt = output_format(json)
    if fmt is Format.JSON:
        doc = summary.to_json_dict() | {"children": [c.id for c in children.items]}
        if tree is not None and tree.sub_sessions:
            doc["tree"] = tree.to_json_dict()
        print_json(doc)
        return
    fields = session_fields(summary, stale_after=stale_after(ctx))
    if children.items:
        fields.append(("child sessions", [c.id for c in children.items]))
    if tree is not None and tree.sub_sessions:
        fields += tree_fields(tree)
    print_object(summary, fmt, fields=fields)


@sessions_app.command("new")
def new(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="Session title.")] = "",
    description: DescriptionOpt = None,
    tag: SetTagOpt = None,
    parent: Annotated[
        str | None, typer.Option("--parent", metavar="SESSION", help="Parent session (sub-agent).")
    ] = None,
    metadata: MetaJsonOpt = None,
    json: JsonOpt = False,
) -> None:
    """Create a session and print its id (for scripts: SID=$(agentlog sessions new "nightly")).

    Example: agentlog sessions new "nightly eval" --tag eval
    """
    store = get_store(ctx, access="record")
    parent_id = resolve_session_id(store, parent) if parent else None
    meta = json_object(metadata, "--metadata") or {}
    session = _model(
        lambda: Session(
            title=title,
            description=description or "",
            tags=tags(tag) or [],
            parent_session_id=parent_id,
            metadata=meta,
        ),
        "session",
    )
    store.write(sessions=[session])
    if output_format(json) is Format.JSON:
        print_json(store.get_session(session.id))
    else:
        write_line(session.id)


@sessions_app.command("update")
def update(
    ctx: typer.Context,
    session: SessionArg,
    title: TitleOpt = None,
    description: DescriptionOpt = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Replace the tags (repeat or comma list).")
    ] = None,
    status: SessionStatusOpt = None,
    metadata: MetaJsonOpt = None,
    json: JsonOpt = False,
) -> None:
    """Change a session's title, description, tags, status or metadata.

    Example: agentlog sessions update latest --title "nightly eval #12" --tag eval,nightly
    """
    changes = _model(
        lambda: SessionUpdate(
            title=title,
            description=description,
            tags=tags(tag) if tag is not None else None,
            status=status,
            metadata=json_object(metadata, "--metadata"),
        ),
        "session",
    )
    if not changes.model_dump(exclude_none=True):
        raise UsageError(
            "nothing to change; give --title, --description, --tag, --status or --metadata"
        )
    store = get_store(ctx)
    updated = store.update_session(resolve_session_id(store, session), changes)
    _print_session(updated, json)


@sessions_app.command("end")
def end(
    ctx: typer.Context,
    session: SessionArg,
    status: Annotated[
        Literal["completed", "failed"], typer.Option("--status", help="How it ended.")
    ] = "completed",
    json: JsonOpt = False,
) -> None:
    """Mark a session completed (or failed) and record when it ended.

    Example: agentlog sessions end "$SID" --status failed
    """
    store = get_store(ctx)
    changes = SessionUpdate(status=SessionStatus(status), ended_at=utcnow())
    updated = store.update_session(resolve_session_id(store, session), changes)
    _print_session(updated, json)


@sessions_app.command("delete")
def delete(ctx: typer.Context, session: SessionArg, yes: YesOpt = False) -> None:
    """Erase a session, its child sessions and all their events (asks first unless --yes).

    Child sessions are a run's sub-agents and workers, at any depth.

    Example: agentlog sessions delete 0193a8f2 --yes
    """
    store = get_store(ctx)
    summary = store.get_session(resolve_session_id(store, session))
    if not yes:
        if not is_terminal(sys.stdin):
            raise UsageError("refusing to delete without confirmation; add --yes")
        label = summary.title or "(untitled)"
        tree = session_tree_totals(store, summary)
        what = f" and its {plural(summary.event_count, 'event')}"
        if tree.sub_sessions:
            below = plural(tree.sub_sessions, "child session")
            what = f", its {below} (sub-agents, workers) and their {plural(tree.events, 'event')}"
        typer.confirm(f"Delete session {summary.id} '{label}'{what}?", abort=True, err=True)
    deleted = store.delete_session_tree(summary.id)
    children = f", {plural(deleted.sub_sessions, 'child session')}" if deleted.sub_sessions else ""
    message(f"deleted session {summary.id}{children} ({plural(deleted.events, 'event')})")


def _print_session(summary: SessionSummary, json: bool) -> None:
    if output_format(json) is Format.JSON:
        print_json(summary)
    else:
        message(f"session {summary.id}: {summary.status.value}")


def register(app: typer.Typer) -> None:
    app.add_typer(sessions_app, name="sessions")
