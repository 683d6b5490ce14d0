"""The one background writer per process: the agent's thread only enqueues, this thread stores.

Callers append plain tuples to one process-wide deque (atomic in CPython, no
lock, no pydantic). A daemon thread drains it, checks each event straight into
the stores' row (`rowcheck.sdk_row`: plain comparisons against the model's
limits; anything it doubts, and every session, goes through the pydantic
models, whose messages are the ones warned about), and writes per destination
("sink", one per `AgentLog`) in large transactions: when a sink has
`batch_size` events waiting (more, up to `GROUP_ROWS`, while the queue is
backed up), when its oldest waiting event is `flush_interval` seconds old, or
when someone flushes. Rows go to stores that take them (`Store.write_rows`);
any other store gets the Events they hold.
Bad records are dropped with one warning per kind and counted; a failing store
is retried and then the batch is counted as lost. Nothing here raises into the
caller.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import orjson

from agentlog.model import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    Event,
    Session,
    WriteResult,
    from_us,
    validation_message,
)
from agentlog.rowcheck import sdk_row
from agentlog.storage.base import writes_rows
from agentlog.storage.sql.rows import (
    GROUP_ROWS,
    ROW_CONTENT,
    ROW_ID,
    ROW_METADATA,
    event_values,
    row_event,
    write_rows_to,
)

logger = logging.getLogger("agentlog")


class Transport(Protocol):
    """Where a sink's batches go: any Store, a caller's borrowed Store, or
    `sdk.transport.SpoolingTransport` (a server with an offline spool)."""

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        """Store the batch (committed before it returns) or raise."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class IdleWork(Protocol):
    """A transport with background work for the writer's idle moments (sending a spool)."""

    def maintain(self) -> None: ...


# Record kinds (the second slot of every queued tuple).
EVENT = 0
SESSION = 1
MARKER = 2
CLOSE = 3

# Event tuple layout: (sink, EVENT, session_id, id, ts, type, agent_id, name,
# content, metadata, parent_id, duration_ms, status, input_tokens,
# output_tokens, cost_usd[, token details]). `ts` is int microseconds, or a 1-tuple
# holding a caller-given time that the model parses; the optional 17th slot is a dict of
# cache and reasoning token counts, there only when the caller gave one.
_EVENT_FIELDS = (
    "session_id",
    "id",
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
)

# Events a single store.write may carry: the model's batch limits, with room
# for the per-event JSON framing a remote store adds to content and metadata.
_EVENT_OVERHEAD_BYTES = 400
_BATCH_BYTES = MAX_BATCH_BYTES - 64 * 1024

RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0)

DEFAULT_MAX_QUEUE = 1_000_000
"""Records waiting for the writer before new ones are dropped (and counted)."""

QUEUE: deque[tuple[Any, ...]] = deque()
"""The process-wide queue. It is never replaced (handles cache `QUEUE.append`)."""

SINKS: list[Sink] = []
"""Every open sink; only the writer thread removes from it."""


class SdkEvent(Event):
    """An Event as the writer validates it: every check of the model, except that
    the ids the SDK made itself (event ids from `new_id`, session ids already
    normalised when the session was opened) are not parsed a second time — that
    parse was half the writer's validation cost. `parent_id` is still checked."""

    id: str
    session_id: str


@dataclass(eq=False)
class Sink:
    """One destination (an `AgentLog`): its store, batching settings and counters."""

    open_transport: Callable[[], Transport]
    batch_size: int = 500
    flush_interval: float = 0.5
    name: str = "agentlog"
    max_queue: int = DEFAULT_MAX_QUEUE
    transport: Transport | None = None
    closed: bool = False
    failing: bool = False  # the last batch was lost: try once per batch until a write works
    dropped: int = 0  # records refused: bad input, queue full, rejected by the store
    lost: int = 0  # valid records the store failed to take after every retry
    written: int = 0
    sessions: dict[str, Session] = field(default_factory=dict)
    # Events waiting, as the stores' rows (`storage.sql.rows.event_values`' order).
    events: list[tuple[Any, ...]] = field(default_factory=list)
    oldest: float = 0.0  # monotonic time the oldest waiting record arrived
    warned: set[str] = field(default_factory=set)
    # Masks secrets in every record before it is written (`AgentLog(redact=...)`); the
    # writer thread applies it, so the agent's thread pays nothing for it.
    redactor: Callable[[Any], Any] | None = None
    # The most rows worth gathering into one write while the queue is backed up: a local
    # store's large transaction (`GROUP_ROWS`); a server takes `MAX_BATCH_EVENTS` a request,
    # and gathering more only leaves it idle while the writer prepares the rest.
    group_rows: int = GROUP_ROWS

    def warn_once(self, kind: str, message: str) -> None:
        if kind not in self.warned:
            self.warned.add(kind)
            logger.warning("agentlog: %s (further problems of this kind are only counted)", message)

    def __post_init__(self) -> None:
        # The one length the agent's thread compares the queue with per call.
        self.wake_at = min(self.batch_size, self.max_queue)
        self.group_limit = max(self.batch_size, min(10 * self.batch_size, self.group_rows))

    def pending(self) -> bool:
        return bool(self.events or self.sessions)

    # Called on the agent's thread by the session handles.
    def overflow(self) -> None:
        self.dropped += 1
        self.warn_once("queue", f"the queue is full ({self.max_queue:,} records); dropping events")

    def internal_error(self, exc: BaseException) -> None:
        self.dropped += 1
        self.warn_once(f"internal:{type(exc).__name__}", f"could not record an event: {exc!r}")


@dataclass(eq=False)
class Marker:
    """A flush request: set once everything queued before it is durable."""

    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = True
    lost_before: int = 0


class Writer:
    """Drains `QUEUE` on one daemon thread."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.signalled = False
        self.sinks = SINKS
        self.lost_total = 0
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="agentlog-writer", daemon=True)
        self.thread.start()

    def poke(self) -> None:
        if not self.signalled:
            self.signalled = True
            self.wake.set()

    # ------------------------------------------------------------ the loop
    def _run(self) -> None:
        while True:
            try:
                self._wait()
                self._drain()
                self._commit_due()
                self._maintain()
            except Exception:  # never let the writer die: log and keep going
                logger.exception("agentlog: writer error (continuing)")
                time.sleep(0.05)

    def _wait(self) -> None:
        if not QUEUE:
            timeout = 0.5
            now = time.monotonic()
            for sink in self.sinks:
                if sink.pending():
                    timeout = min(timeout, max(0.0, sink.oldest + sink.flush_interval - now))
            if timeout > 0:
                self.wake.wait(timeout)
        # Cleared before draining, so a producer that saw `signalled` set has
        # its record drained below.
        self.wake.clear()
        self.signalled = False

    def _drain(self) -> None:
        pop = QUEUE.popleft
        while True:
            try:
                item = pop()
            except IndexError:
                return
            sink = item[0]
            kind = item[1]
            if kind == EVENT:
                self._accept_event(sink, item)
            elif kind == SESSION:
                self._accept_session(sink, item[2])
            elif kind == MARKER:
                self._flush_marker(item[2])
            elif kind == CLOSE:
                self._close_sink(sink, item[2])

    def _accept_event(self, sink: Sink, item: tuple[Any, ...]) -> None:
        if sink.closed:
            return
        row = sdk_row(item)  # plain checks, straight to the stores' row
        if row is None:
            try:
                row = event_values(self._model_event(item))
            except Exception as exc:
                sink.dropped += 1
                sink.warn_once(
                    f"event:{_error_kind(exc)}", f"dropped an event: {validation_message(exc)}"
                )
                return
        if not sink.events and not sink.sessions:
            sink.oldest = time.monotonic()
        sink.events.append(row)
        waiting = len(sink.events)
        # Group commit: with more records already queued behind this one, keep
        # gathering them (up to `group_limit`), so a writer that fell behind catches
        # up in fewer, larger transactions; an idle queue commits at `batch_size`.
        if waiting >= sink.batch_size and (not QUEUE or waiting >= sink.group_limit):
            self._commit(sink)

    @staticmethod
    def _model_event(item: tuple[Any, ...]) -> Event:
        """The model's Event for a record `sdk_row` had doubts about (its limits, its messages)."""
        values = dict(zip(_EVENT_FIELDS, item[2:16], strict=True))
        if len(item) > 16:
            values.update(item[16])
        ts = values["timestamp"]
        if values["status"] is None:
            del values["status"]
        # The SDK's own clock (int microseconds), or a caller's time to parse.
        values["timestamp"] = from_us(ts) if type(ts) is int else ts[0]
        return SdkEvent(**values)

    def _accept_session(self, sink: Sink, values: dict[str, Any]) -> None:
        if sink.closed:
            return
        try:
            session = Session(**values)
        except Exception as exc:
            sink.dropped += 1
            sink.warn_once(
                f"session:{_error_kind(exc)}", f"dropped a session: {validation_message(exc)}"
            )
            return
        if not sink.events and not sink.sessions:
            sink.oldest = time.monotonic()
        # A later version of the same session (e.g. its end) replaces the earlier one.
        sink.sessions.pop(session.id, None)
        sink.sessions[session.id] = session

    def _flush_marker(self, marker: Marker) -> None:
        for sink in self.sinks:
            if sink.pending():
                self._commit(sink)
        marker.ok = self.lost_total == marker.lost_before
        marker.done.set()

    def _close_sink(self, sink: Sink, marker: Marker) -> None:
        if sink.pending():
            self._commit(sink)
        sink.closed = True
        with _lock:
            if sink in SINKS:
                SINKS.remove(sink)
        if sink.transport is not None:
            try:
                sink.transport.close()
            except Exception as exc:
                sink.warn_once("close", f"closing the store failed: {exc}")
            sink.transport = None
        marker.ok = self.lost_total == marker.lost_before
        marker.done.set()

    def _commit_due(self) -> None:
        now = time.monotonic()
        for sink in self.sinks:
            if sink.pending() and now - sink.oldest >= sink.flush_interval:
                self._commit(sink)

    def _maintain(self) -> None:
        """Let transports do idle work (a spooling transport probes its server)."""
        for sink in self.sinks:
            if isinstance(sink.transport, IdleWork):
                try:
                    sink.transport.maintain()
                except Exception as exc:
                    sink.warn_once("maintain", f"background sync failed: {exc}")

    # ------------------------------------------------------------ writing
    def _commit(self, sink: Sink) -> None:
        sessions = list(sink.sessions.values())
        batch: list[Any] = sink.events
        sink.sessions = {}
        sink.events = []
        if sink.redactor is not None:
            try:
                sessions = [sink.redactor(s) for s in sessions]
                batch = [sink.redactor(row_event(row)) for row in batch]
            except Exception as exc:  # never write what could not be masked
                sink.dropped += len(sessions) + len(batch)
                sink.warn_once("redact", f"dropped records that could not be redacted: {exc!r}")
                return
        first = True
        # Rows into a store that takes them go in large transactions; anything else (Events,
        # or a store that gets the Events rows hold) in the API's batch limits.
        rows = bool(batch) and batch[0].__class__ is tuple
        local = rows and writes_rows(sink.transport) is not None
        for chunk in chunk_events(batch, GROUP_ROWS) if local else chunk_events(batch):
            self._write(sink, sessions if first else [], chunk)
            first = False
        if first:  # sessions only
            self._write(sink, sessions, [])

    def _write(self, sink: Sink, sessions: list[Session], events: list[Any]) -> None:
        """Write sessions and events (rows, or Events once redacted) with retries."""
        count = len(sessions) + len(events)
        # A healthy store gets retries; one that just failed a whole batch gets a
        # single attempt per batch, so a dead store cannot stall the writer.
        delays = (0.0,) if sink.failing else (0.0, *RETRY_DELAYS)
        for delay in delays:
            if delay:
                time.sleep(delay)
            try:
                if sink.transport is None:
                    sink.transport = sink.open_transport()
                result: WriteResult = _send(sink.transport, sessions, events)
            except Exception as exc:
                if _record_error(exc) and count > 1 and sink.transport is not None:
                    self._write_apart(sink, sink.transport, sessions, events)  # write around it
                    return
                if _refuses_batch(exc):  # the batch itself is bad: retrying cannot help
                    sink.dropped += count
                    sink.warn_once(
                        f"refused:{type(exc).__name__}", f"the store refused a batch: {exc}"
                    )
                    return
                sink.warn_once(
                    f"store:{type(exc).__name__}",
                    f"writing to {sink.name} failed ({type(exc).__name__}: {exc}); retrying",
                )
                continue
            if sink.failing:
                sink.failing = False
                logger.warning("agentlog: %s takes writes again", sink.name)
            sink.written += len(events) - _count_rejected(sink, result)
            return
        sink.lost += count
        self.lost_total += count
        if not sink.failing:
            sink.failing = True
            logger.warning(
                "agentlog: gave up on a batch of %d records for %s; until it recovers, "
                "each batch is tried once and counted in .lost when it fails",
                count,
                sink.name,
            )

    def _write_apart(
        self, sink: Sink, transport: Transport, sessions: list[Session], events: list[Any]
    ) -> None:
        """A batch failed because of what a record holds: write it in halves, so only
        the records that fail on their own are dropped (warned and counted)."""
        records: list[Any] = [*sessions, *events]
        pending = [records]
        while pending:
            part = pending.pop()
            part_sessions = [r for r in part if isinstance(r, Session)]
            part_events = [r for r in part if not isinstance(r, Session)]
            try:
                result: WriteResult = _send(transport, part_sessions, part_events)
            except Exception as exc:
                if not _record_error(exc) and not _refuses_batch(exc):
                    # The store itself failed midway: what is left goes through the
                    # normal path (retries, then counted as lost).
                    rest = [r for p in pending for r in p] + part
                    self._write(
                        sink,
                        [r for r in rest if isinstance(r, Session)],
                        [r for r in rest if not isinstance(r, Session)],
                    )
                    return
                if len(part) > 1:
                    half = len(part) // 2
                    pending.append(part[half:])  # popped second: order kept
                    pending.append(part[:half])
                    continue
                sink.dropped += 1
                kind = "session" if part_sessions else "event"
                record = part[0]
                record_id = record[ROW_ID] if isinstance(record, tuple) else record.id
                sink.warn_once(
                    f"record:{type(exc).__name__}",
                    f"dropped {kind} {record_id} the store could not take "
                    f"({type(exc).__name__}: {exc}); the rest of its batch was written",
                )
                continue
            sink.written += len(part_events) - _count_rejected(sink, result)

    # ------------------------------------------------------------ from callers
    def flush(self, timeout: float | None, *, wake: bool = True) -> bool:
        """Wait until everything queued before now is committed. `wake=False` (a signal
        handler's flush) leaves the writer to find the request within its idle wait
        (half a second at most) rather than set its wake: the interrupted thread may
        hold that Event's lock."""
        marker = Marker(lost_before=self.lost_total)
        QUEUE.append((None, MARKER, marker))
        if wake:
            self.poke()
        return marker.done.wait(timeout) and marker.ok

    def close_sink(self, sink: Sink, timeout: float | None) -> bool:
        marker = Marker(lost_before=self.lost_total)
        QUEUE.append((sink, CLOSE, marker))
        self.poke()
        return marker.done.wait(timeout) and marker.ok


def _count_rejected(sink: Sink, result: WriteResult) -> int:
    """Count the records the store rejected as dropped (a session is a record too) and warn
    once; the number of rejected events, which were not written."""
    if not result.errors:
        return 0
    sink.dropped += len(result.errors)
    first = result.errors[0]
    sink.warn_once(
        "rejected",
        f"the store rejected {'a' if first.kind == 'session' else 'an'} {first.kind}: {first.error}",
    )
    return sum(1 for err in result.errors if err.kind == "event")


def _record_error(exc: Exception) -> bool:
    """An error a record's content causes (text or a value the driver cannot take),
    as opposed to an unreachable, locked or full store, which retrying may fix."""
    from agentlog.errors import AgentLogError

    if isinstance(exc, AgentLogError | OSError):
        return False
    if isinstance(exc, UnicodeError | ValueError | TypeError | OverflowError):
        return True
    # DB-API data errors (sqlite3 / psycopg), matched by name so no driver is imported here.
    return type(exc).__name__ in ("DataError", "IntegrityError", "InterfaceError")


def _refuses_batch(exc: Exception) -> bool:
    from agentlog.errors import AgentLogError

    return (
        isinstance(exc, AgentLogError)
        and 400 <= exc.http_status < 500
        and exc.code not in ("rate_limited", "unauthorized", "forbidden")
    )


def _error_kind(exc: Exception) -> str:
    """A short key for "the same problem" so each kind is warned about once."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            # The message without its numbers and quoted values: "content is N bytes"
            # is one kind whatever N is, "nested too deep" another than "not a dict".
            what = re.sub(r"'[^']*'|[\d,.]+", "_", str(first.get("msg", "")))[:80]
            return f"{where}:{first.get('type')}:{what}"
        except Exception:
            pass
    return type(exc).__name__


def _send(transport: Transport, sessions: list[Session], events: list[Any]) -> WriteResult:
    """One write of rows (the writer's form) or of Events (once redacted)."""
    if events and events[0].__class__ is tuple:
        return write_rows_to(transport, sessions, events)  # type: ignore[arg-type]
    return transport.write(sessions, events)


def _size(event: Any) -> int:
    """An upper bound of an event's share of a request (rows and Events alike)."""
    if event.__class__ is tuple:
        content = event[ROW_CONTENT]
        return (
            _EVENT_OVERHEAD_BYTES + (len(content) * 4 if content else 0) + len(event[ROW_METADATA])
        )
    size = _EVENT_OVERHEAD_BYTES + (len(event.content) * 4 if event.content else 0)
    if event.metadata:
        size += len(orjson.dumps(event.metadata, option=orjson.OPT_NON_STR_KEYS, default=str))
    return size


def chunk_events(events: list[Any], max_events: int | None = None) -> list[list[Any]]:
    """Split into store.write-sized batches (MAX_BATCH_EVENTS and MAX_BATCH_BYTES), or, given
    `max_events`, batches of that many alone: rows go `GROUP_ROWS` at a time to a store
    that takes rows, which is local or splits its requests to the API's limits itself
    (`RemoteStore.write_rows`)."""
    if max_events is not None:
        return [events[lo : lo + max_events] for lo in range(0, len(events), max_events)]
    if len(events) <= MAX_BATCH_EVENTS and sum(map(_size, events)) <= _BATCH_BYTES:
        return [events] if events else []
    chunks: list[list[Any]] = []
    current: list[Any] = []
    size = 0
    for event in events:
        cost = _size(event)
        if current and (len(current) >= MAX_BATCH_EVENTS or size + cost > _BATCH_BYTES):
            chunks.append(current)
            current, size = [], 0
        current.append(event)
        size += cost
    if current:
        chunks.append(current)
    return chunks


# ---------------------------------------------------------------- the process-wide writer
_lock = threading.Lock()
_writer: Writer | None = None


def writer() -> Writer:
    """The running writer, started on first use (and again in a forked child)."""
    global _writer
    w = _writer
    if w is not None and w.pid == os.getpid() and w.thread.is_alive():
        return w
    with _lock:
        w = _writer
        if w is None or w.pid != os.getpid() or not w.thread.is_alive():
            w = _writer = Writer()
    return w


def poke() -> None:
    w = _writer
    if w is not None:
        w.poke()


def current() -> Writer | None:
    return _writer


def register(sink: Sink) -> Writer:
    """Add a sink and make sure the writer runs."""
    w = writer()
    with _lock:
        SINKS.append(sink)
    return w


def _after_fork_in_child() -> None:
    # The parent's thread does not exist here and its store connections must not
    # be shared: forget queued records (the parent writes them) and reopen lazily.
    global _writer
    QUEUE.clear()
    _writer = None
    for sink in SINKS:
        sink.transport = None
        sink.events = []
        sink.sessions = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
