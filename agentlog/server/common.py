"""Helpers every route shares: fast JSON responses and query parameters → Store queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import Query
from starlette.responses import Response

from agentlog.errors import InvalidInput
from agentlog.model import (
    EventStatus,
    EventType,
    SessionStatus,
    format_ts,
    normalize_id,
    parse_ts,
)
from agentlog.storage.base import MAX_PAGE, EventQuery, SessionQuery, SessionSort
from agentlog.wire import EventParam, SessionParam


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    if hasattr(value, "to_json_dict"):
        return value.to_json_dict()
    if hasattr(value, "public"):
        return value.public()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(type(value).__name__)


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json", headers=headers)


def page_response(items: list[Any], next_cursor: str | None) -> Response:
    return json_response({"items": items, "next_cursor": next_cursor})


def check_id(value: str, what: str) -> str:
    """A canonical UUID, or NotFound-equivalent 404 for junk (a junk id names nothing)."""
    from agentlog.errors import NotFound

    try:
        return normalize_id(value, what)
    except ValueError:
        raise NotFound(f"no {what} {value[:60]!r}") from None


def time_param(value: str | None, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_ts(value, name)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def _values(values: list[str] | None) -> list[str] | None:
    """Repeated values taken as given (agent ids, names and tags may contain commas)."""
    out = [v for v in values or () if v != ""]
    return out or None


def _types(values: list[str] | None) -> list[EventType] | None:
    names = _split(values)
    if not names:
        return None
    try:
        return [EventType.parse(n) for n in names]
    except ValueError as exc:
        raise InvalidInput(f"type: {exc}") from None


def _metadata(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in values or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"metadata: {pair[:80]!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


# Declared in the OpenAPI document the way they are checked, so clients and conformance
# tools know a malformed id or time is refused (422) rather than "valid but unmatched".
UUID_PARAM: dict[str, Any] = {"format": "uuid"}
# RFC 3339 with a year the store keeps (1970..9999 in UTC; the pattern stays a year inside
# each end, so no offset can carry a matching time outside the range).
TIME_PATTERN = (
    r"^(19[7-9][1-9]|19[89][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9])"
    r"-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"([Zz]|[+-](0[0-9]|1[0-3]):[0-5][0-9])$"
)
TIME_PARAM: dict[str, Any] = {"format": "date-time", "pattern": TIME_PATTERN}
# Filters never match a NUL (no stored text holds one), so one is refused on every backend.
NO_NUL: dict[str, Any] = {"pattern": "^[^\\x00]*$"}


# Each query parameter is named by its `agentlog.wire` constant (the alias), the
# name RemoteStore sends; the Python names below are only local.
def _limit(alias: str) -> Any:
    return Query(alias=alias, ge=1, le=MAX_PAGE, description="Page size (1-1000).")


def _cursor(alias: str) -> Any:
    return Query(alias=alias, max_length=4096, description="next_cursor of the previous page.")


def _order(alias: str) -> Any:
    return Query(alias=alias, description="Oldest first (asc) or newest first (desc).")


def _since(alias: str) -> Any:
    return Query(
        alias=alias,
        max_length=64,
        description="ISO 8601 time (inclusive).",
        json_schema_extra=TIME_PARAM,
    )


def _until(alias: str) -> Any:
    return Query(
        alias=alias,
        max_length=64,
        description="ISO 8601 time (exclusive).",
        json_schema_extra=TIME_PARAM,
    )


def _uuid(alias: str) -> Any:
    return Query(alias=alias, max_length=64, json_schema_extra=UUID_PARAM)


def _repeated(alias: str) -> Any:
    return Query(
        alias=alias,
        description="Repeat for several values.",
        json_schema_extra={"items": {"type": "string", **NO_NUL}},
    )


async def event_query(
    type: Annotated[
        list[str] | None,
        Query(
            alias=EventParam.TYPE,
            description="Event types; repeat or comma-separate (any case).",
            json_schema_extra={"items": {"type": "string", "enum": [t.value for t in EventType]}},
        ),
    ] = None,
    agent: Annotated[list[str] | None, _repeated(EventParam.AGENT)] = None,
    name: Annotated[list[str] | None, _repeated(EventParam.NAME)] = None,
    status: Annotated[EventStatus | None, Query(alias=EventParam.STATUS)] = None,
    since: Annotated[str | None, _since(EventParam.SINCE)] = None,
    until: Annotated[str | None, _until(EventParam.UNTIL)] = None,
    q: Annotated[
        str | None,
        Query(
            alias=EventParam.TEXT,
            max_length=1000,
            description="Full-text search.",
            json_schema_extra=NO_NUL,
        ),
    ] = None,
    metadata: Annotated[
        list[str] | None,
        Query(
            alias=EventParam.METADATA,
            description="KEY=VALUE, repeatable.",
            json_schema_extra={
                "items": {"type": "string", "pattern": r"^[^=\x00]*[^=\s\x00][^=\x00]*=[^\x00]*$"}
            },
        ),
    ] = None,
    parent_id: Annotated[str | None, _uuid(EventParam.PARENT)] = None,
    session_filter: Annotated[str | None, _uuid(EventParam.SESSION)] = None,
    order: Annotated[Literal["asc", "desc"], _order(EventParam.ORDER)] = "asc",
    limit: Annotated[int, _limit(EventParam.LIMIT)] = 100,
    cursor: Annotated[str | None, _cursor(EventParam.CURSOR)] = None,
) -> EventQuery:
    def uuid_or_422(value: str | None, what: str) -> str | None:
        if value in (None, ""):
            return None
        try:
            return normalize_id(value, what)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None

    return EventQuery(
        session_id=uuid_or_422(session_filter, "session_id"),
        types=_types(type),
        agents=_values(agent),
        names=_values(name),
        status=status,
        since=time_param(since, "since"),
        until=time_param(until, "until"),
        text=q or None,
        metadata=_metadata(metadata),
        parent_id=uuid_or_422(parent_id, "parent_id"),
        order=order,
        limit=limit,
        cursor=cursor or None,
    )


async def session_query(
    status: Annotated[SessionStatus | None, Query(alias=SessionParam.STATUS)] = None,
    tag: Annotated[list[str] | None, _repeated(SessionParam.TAG)] = None,
    agent: Annotated[
        str | None, Query(alias=SessionParam.AGENT, max_length=200, json_schema_extra=NO_NUL)
    ] = None,
    since: Annotated[str | None, _since(SessionParam.SINCE)] = None,
    until: Annotated[str | None, _until(SessionParam.UNTIL)] = None,
    q: Annotated[
        str | None,
        Query(
            alias=SessionParam.TEXT,
            max_length=1000,
            description="Search title and description.",
            json_schema_extra=NO_NUL,
        ),
    ] = None,
    parent_session_id: Annotated[str | None, _uuid(SessionParam.PARENT)] = None,
    replay_of: Annotated[str | None, _uuid(SessionParam.REPLAY_OF)] = None,
    sort: Annotated[SessionSort, Query(alias=SessionParam.SORT)] = "last_event_at",
    order: Annotated[Literal["asc", "desc"], _order(SessionParam.ORDER)] = "desc",
    limit: Annotated[int, _limit(SessionParam.LIMIT)] = 100,
    cursor: Annotated[str | None, _cursor(SessionParam.CURSOR)] = None,
) -> SessionQuery:
    parent = replayed = None
    try:
        if parent_session_id:
            parent = normalize_id(parent_session_id, "parent_session_id")
        if replay_of:
            replayed = normalize_id(replay_of, "replay_of")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return SessionQuery(
        status=status,
        tags=_values(tag),
        agent=agent or None,
        since=time_param(since, "since"),
        until=time_param(until, "until"),
        text=q or None,
        parent_session_id=parent,
        replay_of=replayed,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor or None,
    )
