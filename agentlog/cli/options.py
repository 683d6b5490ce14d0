"""Shared CLI options, defined once as Typer `Annotated` aliases and reused by every command.

Options that take several values accept both repetition and comma lists
(`--type TOOL_CALL --type ERROR` or `--type TOOL_CALL,ERROR`); the helpers
below turn them into the Store's query values with one-line usage errors.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
import typer

from agentlog.cli.resolve import resolve_session_id
from agentlog.errors import UsageError
from agentlog.model import EventStatus, EventType, SessionStatus
from agentlog.storage.base import EventQuery, Store
from agentlog.timeparse import TIME_HELP, parse_time


def _since(value: str) -> datetime:
    return parse_time(value, "--since")


def _until(value: str) -> datetime:
    return parse_time(value, "--until")


# -- output
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document (for scripts and jq).")
]
NdjsonOpt = Annotated[
    bool, typer.Option("--ndjson", help="Print one JSON object per line (for scripts).")
]

# -- paging
LimitOpt = Annotated[
    int,
    typer.Option("--limit", "-n", min=1, max=1000, help="How many rows per page (1-1000)."),
]
CursorOpt = Annotated[
    str | None,
    typer.Option("--cursor", help="Continue from the next_cursor a previous page printed."),
]
OrderOpt = Annotated[
    Literal["asc", "desc"] | None,
    typer.Option("--order", help="asc (oldest first) or desc (newest first)."),
]

# -- filters
TypeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--type",
        "-t",
        metavar="TYPE",
        help="Event type (repeat or comma list): " + ", ".join(t.value for t in EventType),
    ),
]
AgentOpt = Annotated[
    list[str] | None,
    typer.Option("--agent", "-a", metavar="AGENT", help="Agent id (repeat or comma list)."),
]
EventStatusOpt = Annotated[
    EventStatus | None,
    typer.Option("--status", case_sensitive=False, help="Event status."),
]
SessionStatusOpt = Annotated[
    SessionStatus | None,
    typer.Option("--status", case_sensitive=False, help="Session status."),
]
SinceOpt = Annotated[
    datetime | None,
    typer.Option("--since", metavar="WHEN", parser=_since, help=f"From this time: {TIME_HELP}."),
]
UntilOpt = Annotated[
    datetime | None,
    typer.Option("--until", metavar="WHEN", parser=_until, help=f"Before this time: {TIME_HELP}."),
]
SearchOpt = Annotated[
    str | None,
    typer.Option("--search", "-s", metavar="TEXT", help="Full-text search."),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="TAG", help="Tag (repeat or comma list; all must match)."),
]
SetTagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="TAG", help="Tag the session (repeat or comma list)."),
]
MetadataOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata",
        "-m",
        metavar="KEY=VALUE",
        help="Match a metadata value (repeatable; all must match).",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
NameOpt = Annotated[
    list[str] | None,
    typer.Option("--name", metavar="NAME", help="Tool, model, node or MCP method (repeatable)."),
]


# -- converters from raw option values to query values
def split_values(values: list[str] | None) -> list[str]:
    """Flatten repeated and comma-separated values, dropping blanks."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def event_types(values: list[str] | None) -> list[EventType] | None:
    """`--type` values → EventTypes (None when not given), or a one-line UsageError."""
    names = split_values(values)
    if not names:
        return None
    types: list[EventType] = []
    for name in names:
        try:
            types.append(EventType.parse(name))
        except ValueError as exc:
            raise UsageError(f"--type: {exc}") from None
    return types


def agents(values: list[str] | None) -> list[str] | None:
    return split_values(values) or None


def tags(values: list[str] | None) -> list[str] | None:
    return split_values(values) or None


def metadata_filters(values: list[str] | None) -> dict[str, str]:
    """`--metadata key=value` pairs → {key: value}, or a UsageError naming the bad pair."""
    out: dict[str, str] = {}
    for pair in values or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--metadata: {pair!r} is not KEY=VALUE (e.g. --metadata env=prod)")
        out[key.strip()] = value
    return out


def json_object(text: str | None, option: str) -> dict | None:
    """A JSON object given on the command line, or a UsageError naming the option."""
    if text is None:
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UsageError(
            f"{option}: not valid JSON ({exc}); e.g. {option} '{{\"k\": 1}}'"
        ) from None
    if not isinstance(value, dict):
        raise UsageError(
            f"{option}: must be a JSON object like '{{\"k\": 1}}', got {type(value).__name__}"
        )
    return value


@dataclass(frozen=True)
class EventFilters:
    """The event filter options `events`, `search`, `stats` and `tail` share, as given."""

    type_: list[str] | None = None
    agent: list[str] | None = None
    name: list[str] | None = None
    status: EventStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    search: str | None = None
    metadata: list[str] | None = None

    def query(
        self,
        store: Store,
        *,
        session: str | None = None,
        text: str | None = None,
        order: Literal["asc", "desc"] = "asc",
        limit: int = 100,
        cursor: str | None = None,
    ) -> EventQuery:
        """The one EventQuery these filters make (`text` stands in for --search, as in `search`)."""
        return EventQuery(
            # An empty SESSION (a script's unset variable) is a mistake, never "every session".
            session_id=resolve_session_id(store, session) if session is not None else None,
            types=event_types(self.type_),
            agents=agents(self.agent),
            names=split_values(self.name) or None,
            status=self.status,
            since=self.since,
            until=self.until,
            text=(text if text is not None else self.search) or None,
            metadata=metadata_filters(self.metadata),
            order=order,
            limit=limit,
            cursor=cursor,
        )


_FILTER_OPTIONS: tuple[tuple[str, object], ...] = (
    ("type_", TypeOpt),
    ("agent", AgentOpt),
    ("name", NameOpt),
    ("status", EventStatusOpt),
    ("since", SinceOpt),
    ("until", UntilOpt),
    ("search", SearchOpt),
    ("metadata", MetadataOpt),
)


def event_filter_options(
    *, search: bool = True, times: bool = True
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the shared event filters (sqlite-utils' `output_options`, for Typer).

    The command declares one parameter `filters: EventFilters`; in its place the
    command line gets --type, --agent, --name, --status, --since, --until,
    --search (unless `search=False`: `search` takes its text as an argument) and
    --metadata, defined once here, handed back as one `EventFilters`. `times=False`
    leaves out --since/--until (`tail` follows what arrives from now on).
    """
    left_out = set() if search else {"search"}
    if not times:
        left_out |= {"since", "until"}
    options = [(n, a) for n, a in _FILTER_OPTIONS if n not in left_out]

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(fn, eval_str=True)
        declared = list(signature.parameters.values())
        at = [p.name for p in declared].index("filters")
        added = [
            inspect.Parameter(
                n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=a
            )
            for n, a in options
        ]
        params = [*declared[:at], *added, *declared[at + 1 :]]

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> None:
            given = {n: kwargs.pop(n, None) for n, _ in options}
            fn(*args, filters=EventFilters(**given), **kwargs)

        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]  # read by inspect.signature, which Typer uses
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate


__all__ = [
    "AgentOpt",
    "CursorOpt",
    "EventFilters",
    "EventStatusOpt",
    "JsonOpt",
    "LimitOpt",
    "MetadataOpt",
    "NameOpt",
    "NdjsonOpt",
    "OrderOpt",
    "SearchOpt",
    "SessionStatusOpt",
    "SetTagOpt",
    "SinceOpt",
    "TagOpt",
    "TypeOpt",
    "UntilOpt",
    "YesOpt",
    "agents",
    "event_filter_options",
    "event_types",
    "json_object",
    "metadata_filters",
    "split_values",
    "tags",
]
