"""Rewrite one session's events through the Store protocol (for --overwrite and strict rollback).

The Store writes events idempotently and never replaces one, so replacing or
removing single events means erasing the session and writing it back. The
events are spooled to a temporary file on the way, so memory stays bounded
for a session of any size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Set

import orjson

from agentlog.model import MAX_BATCH_EVENTS, Event, Session
from agentlog.storage.base import EventQuery, Store, iter_events
from agentlog.transfer.records import event_record, parse_event


def plain_session(summary: Session) -> Session:
    """The stored fields of a session (a SessionSummary carries aggregates too)."""
    return Session.model_construct(
        **{name: getattr(summary, name) for name in Session.model_fields}
    )


def rebuild_session(
    store: Store,
    session_id: str,
    *,
    drop: Set[str] = frozenset(),
    replace: Mapping[str, Event] | None = None,
    session: Session | None = None,
) -> int:
    """Write the session back without the `drop` ids and with `replace`'s versions; return events kept.

    `session` restores the session row as it was (a rollback); by default it is kept as it is.
    """
    replace = replace or {}
    session = session or plain_session(store.get_session(session_id))
    kept = 0
    with tempfile.TemporaryFile(prefix="agentlog-rebuild-") as spool:
        for event in iter_events(store, EventQuery(session_id=session_id)):
            if event.id in drop:
                continue
            spool.write(orjson.dumps(event_record(replace.get(event.id, event))) + b"\n")
            kept += 1
        store.delete_session(session_id)
        store.write([session], [])
        spool.seek(0)
        batch: list[Event] = []
        for line in spool:
            batch.append(parse_event(orjson.loads(line)))
            if len(batch) >= MAX_BATCH_EVENTS:
                store.write([], batch)
                batch = []
        if batch:
            store.write([], batch)
    return kept


__all__ = ["plain_session", "rebuild_session"]
