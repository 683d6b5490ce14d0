"""Write requests: parse once, check each item into the store's row, store the good ones in one call.

A body whose events are all in canonical form is read and checked in one
compiled pass from its JSON bytes (`batchcheck.batch_rows`); any other body is
parsed with orjson and each event checked on its own (`rowcheck.json_row`),
falling back to the model (and its exact messages) for whatever is not
canonical. The store takes the rows as they are where it can
(`Store.write_rows`), else the Events they hold.

A batch with some bad records stores the rest and answers 207 with the failed
items by kind and index (their index in the request's `events` or `sessions`,
not among the good ones). An event whose session record was rejected is
rejected too unless that session exists already: storing it would create the
untitled session the request did not ask for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
from pydantic import ValidationError

from agentlog.batchcheck import batch_rows, json_row
from agentlog.errors import InvalidInput, PayloadTooLarge, UsageError
from agentlog.fastcheck import event_from
from agentlog.model import (
    MAX_BATCH_EVENTS,
    BatchError,
    Event,
    Session,
    WriteResult,
    normalize_id,
    validation_message,
)
from agentlog.rowcheck import Row
from agentlog.server.state import ServerState
from agentlog.storage.base import Store, session_exists
from agentlog.storage.sql.rows import ROW_ID, ROW_SESSION, event_values, row_record, write_rows_to


def parse_json(body: bytes) -> Any:
    if not body:
        raise UsageError("the request body is empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in str(exc):
            # JSON may escape a lone surrogate ("\\ud800"); orjson refuses it, the
            # stdlib reads it, and the model turns it into U+FFFD (the text rule).
            try:
                return json.loads(body)
            except ValueError:
                pass
        raise UsageError(f"the request body is not valid JSON: {exc}") from None


def parse_batch(
    body: bytes, *, session_id: str | None = None
) -> tuple[list[Session], list[BatchError], list[Any] | Rows]:
    """The batch's good sessions, the errors of its bad ones (kind "session") and its event
    items (raw, or already checked `Rows` when the whole body was canonical), or a 4xx
    for its shape."""
    fast = batch_rows(body) if session_id is None else None
    if fast is not None:
        return (*_sessions(fast[0]), Rows(fast[1]))
    data = parse_json(body)
    if isinstance(data, list) and session_id is not None:
        data = {"events": data}
    if not isinstance(data, dict):
        raise InvalidInput(
            'the body must be a JSON object like {"sessions": [...], "events": [...]}'
        )
    unknown = set(data) - {"sessions", "events"}
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(sorted(unknown))}; use sessions and events"
        )
    # Absent means none; null or any other non-array is a malformed request.
    raw_sessions = data.get("sessions", [])
    raw_events = data.get("events", [])
    if not isinstance(raw_sessions, list) or not isinstance(raw_events, list):
        raise InvalidInput("sessions and events must be JSON arrays")
    if len(raw_events) > MAX_BATCH_EVENTS:
        raise PayloadTooLarge(
            f"the batch has {len(raw_events):,} events; the limit is {MAX_BATCH_EVENTS:,} per request",
            details={"limit_events": MAX_BATCH_EVENTS},
        )
    if session_id is not None and raw_sessions:
        raise InvalidInput(
            "this endpoint takes events only; upsert sessions with POST /v1/sessions"
        )
    return (*_sessions(raw_sessions), raw_events)


def _sessions(raw_sessions: list[Any]) -> tuple[list[Session], list[BatchError]]:
    """Each session record checked on its own: the good ones, and an error per bad one."""
    sessions: list[Session] = []
    errors: list[BatchError] = []
    for index, item in enumerate(raw_sessions):
        if not isinstance(item, dict):
            errors.append(
                BatchError(index=index, error="a session must be a JSON object", kind="session")
            )
            continue
        try:
            session = Session.model_validate(item)
        except ValidationError as exc:
            raw_id = item.get("id")
            errors.append(
                BatchError(
                    index=index,
                    id=raw_id if isinstance(raw_id, str) else None,
                    error=validation_message(exc),
                    kind="session",
                )
            )
            continue
        sessions.append(session.model_copy(update={"team_id": None, "created_by": None}))
    return sessions, errors


def _orphans(
    store: Store,
    sessions: list[Session],
    session_errors: list[BatchError],
    rows: list[Row],
    positions: list[int],
) -> tuple[list[Row], list[int], list[BatchError]]:
    """Take out the events whose session's only record in the batch was rejected and which
    does not exist already; each gets an error naming the session's problem."""
    given = {s.id for s in sessions}
    refused: dict[str, BatchError] = {}
    for err in session_errors:
        try:
            sid = normalize_id(err.id, "id")
        except ValueError:
            continue  # no usable id: its events fail on their own session_id, or go ahead
        if sid not in given:
            refused.setdefault(sid, err)
    wanted = {row[ROW_SESSION] for row in rows} & refused.keys()
    missing = {sid for sid in wanted if not session_exists(store, sid)}
    if not missing:
        return rows, positions, []
    kept: list[Row] = []
    kept_positions: list[int] = []
    errors: list[BatchError] = []
    for row, position in zip(rows, positions, strict=True):
        sid = row[ROW_SESSION]
        if sid in missing:
            err = refused[sid]
            errors.append(
                BatchError(
                    index=position,
                    id=row[ROW_ID],
                    error=f"session_id: session {sid} does not exist and its record "
                    f"sessions[{err.index}] was rejected ({err.error}); "
                    "send the event again with a valid session record",
                )
            )
        else:
            kept.append(row)
            kept_positions.append(position)
    return kept, kept_positions, errors


class Rows(list[Row]):
    """Event rows checked with the whole body (`batchcheck.batch_rows`)."""


def validate_events(
    raw_events: list[Any] | Rows, *, session_id: str | None = None
) -> tuple[list[Row], list[int], list[BatchError]]:
    """Rows of the good events, each one's index in the request, and the errors of the bad ones."""
    if raw_events.__class__ is Rows:
        return raw_events, list(range(len(raw_events))), []
    good: list[Row] = []
    positions: list[int] = []
    errors: list[BatchError] = []
    for index, item in enumerate(raw_events):
        item_id = (
            item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None
        )
        if not isinstance(item, dict):
            errors.append(BatchError(index=index, id=None, error="an event must be a JSON object"))
            continue
        if session_id is not None:
            given = item.get("session_id")
            if given is None:
                item = {**item, "session_id": session_id}
            elif str(given).lower() != session_id:
                errors.append(
                    BatchError(
                        index=index, id=item_id, error="session_id does not match the URL's session"
                    )
                )
                continue
        row = json_row(item)
        if row is not None:
            good.append(row)
            positions.append(index)
            continue
        try:
            good.append(event_values(event_from(item)))
            positions.append(index)
        except ValidationError as exc:
            errors.append(BatchError(index=index, id=item_id, error=validation_message(exc)))
    return good, positions, errors


def store_batch(
    state: ServerState,
    store: Store,
    team_id: str | None,
    sessions: list[Session],
    raw_events: list[Any] | Rows,
    *,
    session_id: str | None = None,
    session_errors: Sequence[BatchError] = (),
) -> WriteResult:
    rows, positions, errors = validate_events(raw_events, session_id=session_id)
    if session_errors:
        rows, positions, orphaned = _orphans(store, sessions, list(session_errors), rows, positions)
        errors.extend(orphaned)
    result = write_rows_to(store, sessions, rows) if (sessions or rows) else WriteResult()
    failed: set[int] = set()
    for err in result.errors:
        failed.add(err.index)
        position = positions[err.index] if 0 <= err.index < len(positions) else err.index
        errors.append(err.model_copy(update={"index": position}))
    errors.sort(key=lambda e: e.index)
    announce_written(state, team_id, rows, result.inserted, len(errors), failed)
    # Sessions first, as the request lists them; then events, each list by index.
    return WriteResult(
        inserted=result.inserted,
        duplicates=result.duplicates,
        errors=[*session_errors, *errors],
    )


def announce_written(
    state: ServerState,
    team_id: str | None,
    events: Sequence[Event | Row],
    inserted: int,
    rejected: int,
    failed: set[int],
) -> None:
    """After a committed write: count it and tell live followers (any write route)."""
    state.metrics.events_ingested.inc(inserted)
    if rejected:
        state.metrics.events_rejected.inc(rejected)
    if team_id is not None and state.broker.wanted():
        stored = [
            row_record(e) if isinstance(e, tuple) else e.to_json_dict()
            for i, e in enumerate(events)
            if i not in failed
        ]
        state.broker.publish(team_id, stored)
