"""Export: choose sessions and events and stream them into a file or a download.

The one export path: `agentlog export` and `share`, the TUI's export dialog
(`Selection.event_filter` carries its view's filters) and the server's
streamed `POST /v1/sessions/{id}/export` (`export_chunks`) all write here.

Sessions are read page by page and each session's events by keyset, so an
export of any size runs in constant memory. Session filters (--tag,
--status, one --agent, --since/--until) pick sessions; event filters (--type,
--agent, --search, --since/--until) pick the events inside them, and a
session with no matching event is left out when an event filter is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from agentlog.errors import NotFound, UsageError
from agentlog.model import Event, EventType, Session, SessionStatus, SessionSummary, normalize_id
from agentlog.storage.base import (
    EventQuery,
    Page,
    SessionQuery,
    Store,
    iter_sessions,
    session_view,
)
from agentlog.transfer.fileio import open_output
from agentlog.transfer.rebuild import plain_session
from agentlog.transfer.writers import FORMATS, Writer, make_writer

# Applied to every record on its way out (share's redaction).
Transform = Callable[[Session | Event], Session | Event]
R = TypeVar("R")


@dataclass(frozen=True)
class Selection:
    """Which sessions and events leave the store."""

    session_ids: tuple[str, ...] = ()
    all: bool = False
    since: datetime | None = None
    until: datetime | None = None
    types: Sequence[EventType] | None = None
    agents: Sequence[str] | None = None
    tags: Sequence[str] | None = None
    status: SessionStatus | None = None
    text: str | None = None
    include_children: bool = False
    # Any EventQuery's filters (the TUI's view), applied inside each chosen session.
    event_filter: EventQuery | None = None

    @property
    def filters_events(self) -> bool:
        return bool(
            self.types
            or self.agents
            or self.text
            or self.since
            or self.until
            or self.event_filter is not None
        )

    @property
    def has_filters(self) -> bool:
        return self.filters_events or bool(self.tags or self.status)

    def check(self) -> None:
        if not (self.session_ids or self.all or self.has_filters):
            raise UsageError(
                "name the sessions to export, or pass --all (or a filter such as --since 7d)"
            )

    def event_query(self, session_id: str) -> EventQuery:
        if self.event_filter is not None:
            return replace(
                self.event_filter, session_id=session_id, order="asc", limit=1000, cursor=None
            )
        return EventQuery(
            session_id=session_id,
            types=self.types or None,
            agents=self.agents or None,
            since=self.since,
            until=self.until,
            text=self.text,
            order="asc",
            limit=1000,
        )

    def session_query(self) -> SessionQuery:
        return SessionQuery(
            status=self.status,
            tags=self.tags or None,
            agent=self.agents[0] if self.agents and len(self.agents) == 1 else None,
            since=self.since,
            until=self.until,
            sort="created_at",
            order="asc",
            limit=500,
        )


def selected_sessions(store: Store, sel: Selection) -> Iterator[SessionSummary]:
    """The chosen sessions with their aggregates, parents before children when asked for children."""
    if sel.session_ids:
        queue: list[str] = []
        for raw in sel.session_ids:
            try:
                queue.append(normalize_id(raw, "session id"))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        seen: set[str] = set()
        while queue:
            sid = queue.pop(0)
            if sid in seen:
                continue
            seen.add(sid)
            try:
                summary = store.get_session(sid)
            except NotFound:
                raise NotFound(
                    f"no session {sid} in {store.url}; `agentlog sessions list` shows the ids"
                ) from None
            if sel.status and summary.status != sel.status:
                continue
            if sel.tags and not set(sel.tags) <= set(summary.tags):
                continue
            yield summary
            if sel.include_children:
                children = iter_sessions(
                    store, SessionQuery(parent_session_id=sid, sort="created_at", order="asc")
                )
                queue.extend(child.id for child in children)
        return
    yield from iter_sessions(store, sel.session_query())


def session_events(
    store: Store, sel: Selection, session_id: str
) -> tuple[list[Event], EventQuery | None]:
    """The first page of a session's chosen events and the query for the next page (or None)."""
    return _first_page(store.list_events, sel, session_id)


def _first_page(
    fetch: Callable[[EventQuery], Page[R]], sel: Selection, session_id: str
) -> tuple[list[R], EventQuery | None]:
    query = sel.event_query(session_id)
    page = fetch(query)
    nxt = replace(query, cursor=page.next_cursor) if page.next_cursor else None
    return page.items, nxt


def iter_selected(store: Store, sel: Selection) -> Iterator[tuple[Session, Iterator[list[Event]]]]:
    """(session, its events page by page) for every chosen session, streamed."""
    return _iter_selected(store, sel, lambda view: view.list_events)


def iter_selected_records(
    store: Store, sel: Selection
) -> Iterator[tuple[Session, Iterator[list[dict[str, Any]]]]]:
    """`iter_selected` with each event as its export record (`Store.list_event_records`)."""
    return _iter_selected(store, sel, lambda view: view.list_event_records)


def _iter_selected(
    store: Store, sel: Selection, reader: Callable[[Store], Callable[[EventQuery], Page[R]]]
) -> Iterator[tuple[Session, Iterator[list[R]]]]:
    for summary in selected_sessions(store, sel):
        # Each session's events through its own team's view: ids are per team, so a
        # view over every team could not tell two teams' sessions of one id apart.
        fetch = reader(session_view(store, summary))
        first, nxt = _first_page(fetch, sel, summary.id)
        if not first and sel.filters_events:
            continue
        yield plain_session(summary), _pages(fetch, first, nxt)


def _pages(
    fetch: Callable[[EventQuery], Page[R]], first: list[R], nxt: EventQuery | None
) -> Iterator[list[R]]:
    if first:
        yield first
    while nxt is not None:
        page = fetch(nxt)
        if page.items:
            yield page.items
        nxt = replace(nxt, cursor=page.next_cursor) if page.next_cursor else None


def estimate_events(store: Store, sel: Selection) -> int | None:
    """How many events the export will hold (for the progress bar), or None when unknown cheaply."""
    if sel.event_filter is not None:
        return None
    if sel.session_ids and not sel.filters_events and not sel.include_children:
        total = 0
        for raw in sel.session_ids:
            try:
                total += store.get_session(normalize_id(raw)).event_count
            except (NotFound, ValueError):
                return None
        return total
    if sel.session_ids:
        return None
    if not sel.tags and not sel.status:
        return store.count_events(
            EventQuery(
                types=sel.types or None,
                agents=sel.agents or None,
                since=sel.since,
                until=sel.until,
                text=sel.text,
            )
        )
    if not sel.filters_events:
        return sum(s.event_count for s in iter_sessions(store, sel.session_query()))
    return None


@dataclass
class ExportStats:
    sessions: int
    events: int
    bytes: int
    path: str


def export(
    store: Store,
    sel: Selection,
    fmt: str,
    path: str | Path | None,
    *,
    transform: Transform | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ExportStats:
    """Write the chosen sessions and events to `path` (`-`/None = stdout) in `fmt`."""
    _check(sel, fmt)
    with open_output(path) as stream:
        writer = make_writer(fmt, stream)
        for written in _write(store, sel, writer, transform):
            if on_progress is not None:
                on_progress(written)
        writer.close()
        size = getattr(writer, "bytes", 0)
    return ExportStats(
        writer.sessions, writer.events, size, "-" if path in (None, "-") else str(path)
    )


def export_chunks(
    store: Store, sel: Selection, fmt: str = "ndjson", *, transform: Transform | None = None
) -> Iterator[bytes]:
    """The same export as byte chunks, one per page of events (a streamed HTTP download)."""
    _check(sel, fmt)
    sink = _Chunks()
    writer = make_writer(fmt, sink)
    for _ in _write(store, sel, writer, transform):
        writer.flush()
        if chunk := sink.take():
            yield chunk
    writer.close()
    if chunk := sink.take():
        yield chunk


def _check(sel: Selection, fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    sel.check()


def _write(
    store: Store, sel: Selection, writer: Writer, transform: Transform | None
) -> Iterator[int]:
    """Write every chosen session into `writer`; yield the events written after each page."""
    if transform is None:
        # The fast path: records straight from the store, no Event per row.
        for session, records in iter_selected_records(store, sel):
            writer.begin_session(session)
            for page in records:
                writer.write_records(page)
                yield writer.events
            writer.end_session()
    else:
        for session, pages in iter_selected(store, sel):
            writer.begin_session(transform(session))  # type: ignore[arg-type]
            for events in pages:
                writer.write_events([transform(e) for e in events])  # type: ignore[misc]
                yield writer.events
            writer.end_session()


class _Chunks:
    """A write-only stream that keeps what it is given until the generator yields it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(data)
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


__all__ = [
    "ExportStats",
    "Selection",
    "Transform",
    "estimate_events",
    "export",
    "export_chunks",
    "iter_selected",
    "iter_selected_records",
    "selected_sessions",
]
