"""The export record shape: one dict per session or event, the same in every format.

Every exporter writes these dicts and every importer reads them back through
the SDK's pydantic models, so a round trip is lossless: ids, microsecond
timestamps (ISO 8601 with `Z`), unicode, metadata and nulls. Checksums for
`migrate --verify` are taken over the same dicts, so two backends agree on a
session exactly when their exports would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from agentlog.fastcheck import event_from
from agentlog.model import Event, Session

# The event record is the storage layer's (`Store.list_event_records` returns it).
from agentlog.storage.base import Store, event_record, ts_text

FORMAT_NAME = "agentlog"
FORMAT_VERSION = 1

# Exported session fields. team_id and created_by are set by a server for its
# tenant; they are not the user's data and would be wrong in another store.
SESSION_FIELDS: tuple[str, ...] = (
    "id",
    "title",
    "description",
    "status",
    "parent_session_id",
    "tags",
    "metadata",
    "created_at",
    "updated_at",
    "ended_at",
)
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "session_id",
    "timestamp",
    "type",
    "agent_id",
    "name",
    "content",
    "metadata",
    "parent_id",
    "duration_ms",
    "status",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "cache_read_tokens",
    "cache_creation_tokens",
    "reasoning_tokens",
)
# Keys other tools put on sessions (aggregates of SessionSummary, tenancy):
# accepted on import and dropped, since the store derives or assigns them.
DERIVED_SESSION_KEYS = frozenset(
    {
        "event_count",
        "error_count",
        "agents",
        "first_event_at",
        "last_event_at",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "team_id",
        "created_by",
    }
)
# Compared for conflicts and checksums. updated_at is left out: a store may
# bump it on an idempotent upsert, which is not a change of content.
SESSION_COMPARED = tuple(f for f in SESSION_FIELDS if f != "updated_at")


def session_record(session: Session) -> dict[str, Any]:
    """A session as its export dict (without `kind`)."""
    return {
        "id": session.id,
        "title": session.title,
        "description": session.description,
        "status": session.status.value,
        "parent_session_id": session.parent_session_id,
        "tags": list(session.tags),
        "metadata": session.metadata,
        "created_at": ts_text(session.created_at),
        "updated_at": ts_text(session.updated_at),
        "ended_at": ts_text(session.ended_at) if session.ended_at else None,
    }


def event_line(event: Event) -> bytes:
    """One NDJSON event line: the record with `kind` first, built in one step (the hot path)."""
    return orjson.dumps(
        {
            "kind": "event",
            "id": event.id,
            "session_id": event.session_id,
            "timestamp": ts_text(event.timestamp),
            "type": event.type,
            "agent_id": event.agent_id,
            "name": event.name,
            "content": event.content,
            "metadata": event.metadata,
            "parent_id": event.parent_id,
            "duration_ms": event.duration_ms,
            "status": event.status,
            "input_tokens": event.input_tokens,
            "output_tokens": event.output_tokens,
            "cost_usd": event.cost_usd,
            "cache_read_tokens": event.cache_read_tokens,
            "cache_creation_tokens": event.cache_creation_tokens,
            "reasoning_tokens": event.reasoning_tokens,
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )


def record_line(record: dict[str, Any]) -> bytes:
    """One NDJSON event line from an event record (`event_record` / `list_event_records`)."""
    return orjson.dumps({"kind": "event", **record}, option=orjson.OPT_APPEND_NEWLINE)


def header(exported_at: str | None = None) -> dict[str, Any]:
    """The first record of a file. Exports leave out the time by default, so the same
    data always gives the same bytes (two exports can be diffed or checksummed)."""
    head: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if exported_at:
        head["exported_at"] = exported_at
    return head


def check_version(version: Any, where: str) -> int:
    """The file's format version, or ValueError when it is not one this code reads."""
    if version is None:
        return FORMAT_VERSION
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{where}: format version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{where}: the file is AgentLog format version {version}, newer than this "
            f"AgentLog reads ({FORMAT_VERSION}); upgrade agentlog (pip install -U agentlog)"
        )
    return version


def upgrade(kind: str, data: dict[str, Any], version: int) -> dict[str, Any]:
    """Transform a record of an older format version into the current shape.

    Version 1 is the first and current version, so there is nothing to do yet;
    a version 2 adds its step here (and keeps reading version 1 files).
    """
    return data


def parse_session(data: dict[str, Any]) -> Session:
    """A session record → Session (pydantic ValidationError/ValueError when invalid)."""
    clean = {k: v for k, v in data.items() if k not in DERIVED_SESSION_KEYS}
    return Session.model_validate(clean)


def parse_event(data: dict[str, Any]) -> Event:
    """An event record → Event (the model's ValidationError when invalid), canonical ones fast."""
    return event_from(data)


def diff_fields(a: dict[str, Any], b: dict[str, Any], fields: Iterable[str]) -> list[str]:
    """The fields whose values differ (JSON-compared, so metadata key order is ignored)."""
    out = []
    for name in fields:
        left, right = a.get(name), b.get(name)
        if left != right and _canon(left) != _canon(right):
            out.append(name)
    return out


def session_diff(a: Session, b: Session) -> list[str]:
    return diff_fields(session_record(a), session_record(b), SESSION_COMPARED)


def event_diff(a: Event, b: Event) -> list[str]:
    return diff_fields(event_record(a), event_record(b), EVENT_FIELDS)


def _canon(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class Checksum:
    """A running content hash of one session: its compared fields, then its events in order."""

    __slots__ = ("_hash", "events")

    def __init__(self, session: Session | None = None) -> None:
        self._hash = hashlib.blake2b(digest_size=16)
        self.events = 0
        if session is not None:
            self.add_session(session)

    def add_session(self, session: Session) -> None:
        rec = session_record(session)
        self._hash.update(_canon({k: rec[k] for k in SESSION_COMPARED}))
        self._hash.update(b"\n")

    def add_event(self, event: Event) -> None:
        self._hash.update(_canon(event_record(event)))
        self._hash.update(b"\n")
        self.events += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def session_checksum(store: Store, session_id: str) -> tuple[int, str]:
    """(event count, content checksum) of one session as `store` holds it."""
    from agentlog.storage.base import EventQuery, iter_events

    digest = Checksum(store.get_session(session_id))
    for event in iter_events(store, EventQuery(session_id=session_id, order="asc")):
        digest.add_event(event)
    return digest.events, digest.hexdigest()


__all__ = [
    "DERIVED_SESSION_KEYS",
    "EVENT_FIELDS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SESSION_COMPARED",
    "SESSION_FIELDS",
    "Checksum",
    "check_version",
    "diff_fields",
    "event_diff",
    "event_line",
    "event_record",
    "header",
    "parse_event",
    "parse_session",
    "record_line",
    "session_checksum",
    "session_diff",
    "session_record",
    "ts_text",
    "upgrade",
]
