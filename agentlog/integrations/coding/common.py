"""What every coding-agent mapping shares: stable ids, content that fits, MCP tool names, usage."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import orjson

from agentlog.fastcheck import event_of
from agentlog.model import (
    MAX_CONTENT_BYTES,
    Event,
    EventStatus,
    EventType,
    Session,
    name_id,
    parse_ts,
)

NAMESPACE = uuid.UUID("3b0c6a5e-1f7d-5e2a-9c4b-7d8e9f0a1b2c")
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KEEP_BYTES = MAX_CONTENT_BYTES - 4096  # room for the truncation note


def stable_id(*parts: str) -> str:
    """The same id for the same foreign record on every import (so re-imports add nothing).

    `uuid.uuid5(NAMESPACE, name)`, computed without building UUID objects (a third of
    the cost; an import makes one or two per event).
    """
    return name_id(NAMESPACE, ":".join(parts))


def as_uuid(value: Any, *fallback: str) -> str:
    """`value` when it already is a UUID (the tool's own id), else a stable id from `fallback`."""
    text = str(value)
    if _CANONICAL.fullmatch(text):
        return text
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return stable_id(*fallback, str(value))


def fit(text: str) -> tuple[str, int]:
    """`text` cut to fit an event's content limit, and how many bytes were cut (0 if none)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= KEEP_BYTES:
        return text, 0
    kept = data[:KEEP_BYTES].decode("utf-8", "ignore")
    cut = len(data) - len(kept.encode("utf-8"))
    return kept + f"\n… [{cut:,} more bytes not kept by agentlog]", cut


def as_text(value: Any) -> str:
    """Tool input or output as text: strings as they are, text blocks joined, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict) and item.get("type") == "text":
                parts.append(str(item.get("text", "")))
            elif isinstance(item, dict) and item.get("type") == "image":
                parts.append("[image]")
            else:
                parts.append(as_text(item))
        return "\n".join(parts)
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def mcp_parts(tool: str) -> tuple[str, str] | None:
    """(server, tool) for an MCP tool name `mcp__server__tool`, else None."""
    if not tool.startswith("mcp__"):
        return None
    server, sep, name = tool[5:].partition("__")
    return (server, name) if sep and server and name else None


def tool_metadata(tool: str, call_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"tool_call_id": call_id}
    parts = mcp_parts(tool)
    if parts:
        meta["mcp_server"], meta["mcp_tool"] = parts
    return meta


def when(value: Any, default: Any = None) -> Any:
    """A record's timestamp, or `default` when it has none or it is not a time."""
    if value in (None, ""):
        return default
    try:
        return parse_ts(value)
    except ValueError:
        return default


def count(value: Any) -> int:
    """A token count from foreign JSON: non-negative int, anything else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class EventBuffer:
    """What a mapper made since the last `take()`: events by id (a re-read line replaces its
    event) and the sessions they touched, handed over together."""

    def __init__(self) -> None:
        self.events: dict[str, Event] = {}
        self.touched: set[str] = set()  # ids of the sessions the events belong to

    def _add(self, event: Event) -> None:
        self.events[event.id] = event

    def sessions(self, ids: set[str] | None = None) -> list[Session]:
        """The sessions with these ids (all, when None), as they stand now."""
        raise NotImplementedError

    def _taken_sessions(self) -> list[Session]:
        """The sessions to hand over with the events (and forget them)."""
        sessions = self.sessions(self.touched)
        self.touched = set()
        return sessions

    def take(self) -> tuple[list[Session], list[Event]]:
        """Sessions touched and events made since the last call."""
        events = list(self.events.values())
        sessions = self._taken_sessions()
        self.events = {}
        return sessions, events


def tool_result(
    source: str,
    session_id: str,
    call_id: str,
    *,
    at: datetime,
    agent: str | None,
    content: Any,
    metadata: dict[str, Any],
    parent_id: str,
    started: datetime | None = None,
    status: EventStatus = EventStatus.OK,
) -> Event:
    """The TOOL_RESULT answering call `call_id`: a stable id, and its round trip when the
    call's start is known."""
    duration = (at - started).total_seconds() * 1000 if started and at >= started else None
    return event_of(
        id=stable_id(source, session_id, "result", call_id),
        session_id=session_id,
        timestamp=at,
        type=EventType.TOOL_RESULT,
        agent_id=agent,
        content=content,
        metadata=metadata,
        parent_id=parent_id,
        duration_ms=duration,
        status=status,
    )
