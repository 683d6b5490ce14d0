"""The handle an agent logs through: one session, its event helpers and timed tool calls.

Every method only builds a tuple and appends it to the writer's queue (see
`writer.py`); ids are made here so callers can thread `parent_id` at once.
Nothing here raises into the agent: a problem is warned about once and counted.
"""

from __future__ import annotations

import contextvars
import os
import time
import traceback
import weakref
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson

from agentlog.model import EventType, check_metadata, new_id, new_id_unlocked
from agentlog.sdk import writer as _w

if TYPE_CHECKING:
    from collections.abc import Iterable

    from agentlog.mcp.mapping import McpMapper
    from agentlog.model import Event
    from agentlog.sdk.client import AgentLog

_QUEUE = _w.QUEUE
_append = _w.QUEUE.append
_EVENT = _w.EVENT
_time_ns = time.time_ns

_CURRENT: contextvars.ContextVar[SessionHandle | None] = contextvars.ContextVar(
    "agentlog_session", default=None
)

_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

_OPEN: weakref.WeakSet[SessionHandle] = weakref.WeakSet()
"""Sessions this process started and has not ended (touched on open and end, never per event).

Weak, so a handle the agent dropped without ending costs nothing here; a forked
child starts with none (its parent's sessions are the parent's to end)."""

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_OPEN.clear)


def end_open_sessions(signal_name: str) -> None:
    """End every session still open in this process as failed, killed by `signal_name`.

    Called from the SIGTERM handler (`lifecycle.py`) before its flush, so the
    killed run shows as ended and failed and says why. Takes no lock: the
    handler runs on the main thread, which may hold any lock when interrupted
    (`SessionHandle._terminate`)."""
    handles: list[SessionHandle] = []
    for _ in range(5):  # another thread may open or end one while we copy
        try:
            handles = list(_OPEN)
            break
        except RuntimeError:
            continue
    for handle in handles:
        try:
            handle._terminate(signal_name)
        except Exception:  # the next one still ends; nothing is logged from a handler
            pass


def current_session() -> SessionHandle | None:
    """The session entered with `with` in this thread or task, if any."""
    return _CURRENT.get()


def as_text(value: Any) -> str | None:
    """Content as text, taken now (so later mutation by the agent cannot change it)."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):  # a str subclass (an enum, a markup string): its text
        return str.__str__(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        return orjson.dumps(value, option=_JSON_OPTIONS, default=str).decode()
    except Exception:
        try:
            return repr(value)
        except Exception:
            return f"<unprintable {type(value).__name__}>"


def _exception_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _exception_message(exc: BaseException) -> str:
    """str(exc), cut; an exception whose __str__ fails must not make the SDK raise."""
    try:
        return str(exc)[:1000]
    except Exception:
        return f"<{type(exc).__qualname__}: str() failed>"


class SessionHandle:
    """One session (a run of an agent). Use as a context manager or call `end()`."""

    __slots__ = (
        "__weakref__",
        "_ended",
        "_fields",
        "_joined",
        "_log",
        "_mcp",
        "_sink",
        "_tokens",
        "agent_id",
        "id",
        "parent_session_id",
        "title",
    )

    def __init__(
        self,
        log: AgentLog,
        session_id: str,
        fields: dict[str, Any],
        agent_id: str,
        joined: bool,
    ) -> None:
        self._log = log
        self._sink = log._sink
        self.id = session_id
        self.title: str = fields.get("title") or ""
        self.parent_session_id: str | None = fields.get("parent_session_id")
        self.agent_id = agent_id
        self._fields = fields
        self._joined = joined
        self._ended = False
        self._tokens: list[contextvars.Token[SessionHandle | None]] = []
        self._mcp: McpMapper | None = None
        if not joined:
            _OPEN.add(self)

    def __repr__(self) -> str:
        return f"<SessionHandle {self.id} {self.title!r} agent={self.agent_id!r}>"

    @property
    def joined(self) -> bool:
        """True when this handle joined an existing session (AGENTLOG_SESSION_ID)."""
        return self._joined

    # ------------------------------------------------------------ context manager
    def __enter__(self) -> SessionHandle:
        self._tokens.append(_CURRENT.set(self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tokens:
                _CURRENT.reset(self._tokens.pop())
        except ValueError:  # exited in another context than entered; nothing to restore
            pass
        failed = exc is not None and not (
            isinstance(exc, GeneratorExit) or (isinstance(exc, SystemExit) and not exc.code)
        )
        if failed and exc is not None and not getattr(exc, "__agentlog_logged__", False):
            self.error(exc)
        self.end("failed" if failed else "completed")

    # ------------------------------------------------------------ the generic event
    def event(
        self,
        type: EventType | str,
        content: Any = None,
        *,
        name: str | None = None,
        agent_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        parent_id: str | None = None,
        duration_ms: float | None = None,
        status: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
        timestamp: Any = None,
        event_id: str | None = None,
        cache_read_tokens: int | None = None,
        cache_creation_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        **unknown: Any,
    ) -> str:
        """Record one event of any type; returns its id (for `parent_id` threading).

        `timestamp` (a datetime) and `event_id` (from `agentlog.model.new_id()`)
        let an adapter stamp a span at its start and give its id to children
        before the span itself is written. An unknown keyword is ignored with one
        warning (the SDK never raises into the agent); the event is recorded with
        the fields it knows. The token details (`cache_read_tokens`,
        `cache_creation_tokens`, `reasoning_tokens`) belong on an LLM_CALL."""
        eid = event_id or new_id()
        try:
            sink = self._sink
            if unknown:
                _ignore_unknown(sink, "event", unknown)
            n = len(_QUEUE)
            if n >= sink.wake_at:
                if n >= sink.max_queue:
                    sink.overflow()
                    return eid
                _w.poke()
            if content is not None and content.__class__ is not str:
                content = as_text(content)
            if metadata is not None and metadata.__class__ is dict:
                metadata = metadata.copy()
            record: tuple[Any, ...] = (
                sink,
                _EVENT,
                self.id,
                eid,
                _time_ns() // 1000 if timestamp is None else (timestamp,),
                type,
                agent_id or self.agent_id,
                name,
                content,
                metadata,
                parent_id,
                duration_ms,
                status,
                input_tokens,
                output_tokens,
                cost_usd,
            )
            if (
                cache_read_tokens is not None
                or cache_creation_tokens is not None
                or reasoning_tokens is not None
            ):  # a 17th slot, only when given: the common record stays as it was
                record += (
                    {
                        "cache_read_tokens": cache_read_tokens,
                        "cache_creation_tokens": cache_creation_tokens,
                        "reasoning_tokens": reasoning_tokens,
                    },
                )
            _append(record)
        except Exception as exc:
            self._sink.internal_error(exc)
        return eid

    def _emit(
        self,
        eid: str,
        ts_us: int,
        type: EventType,
        content: str | None,
        name: str | None,
        agent_id: str | None,
        metadata: dict[str, Any] | None,
        parent_id: str | None,
        duration_ms: float | None,
        status: str | None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
    ) -> None:
        """An adapter's event in the queue's own form, for callbacks on an agent's hot path.

        `ts_us` is microseconds since the epoch (the SDK clock's form, which the
        writer checks at parsing speed; a datetime costs it the full model), and
        `metadata` a dict the caller built for this event and gives away (not
        copied). Like every method here it never raises."""
        try:
            sink = self._sink
            n = len(_QUEUE)
            if n >= sink.wake_at:
                if n >= sink.max_queue:
                    sink.overflow()
                    return
                _w.poke()
            if content is not None and content.__class__ is not str:
                content = as_text(content)
            _append(
                (
                    sink,
                    _EVENT,
                    self.id,
                    eid,
                    ts_us,
                    type,
                    agent_id or self.agent_id,
                    name,
                    content,
                    metadata,
                    parent_id,
                    duration_ms,
                    status,
                    input_tokens,
                    output_tokens,
                    cost_usd,
                )
            )
        except Exception as exc:
            self._sink.internal_error(exc)

    def _put(self, eid: str, ts: Any, type: EventType, content: Any, **fields: Any) -> str:
        """Like `event` with a given id and time (tool calls are stamped at their start)."""
        try:
            sink = self._sink
            if len(_QUEUE) >= sink.max_queue:
                sink.overflow()
                return eid
            metadata = fields.get("metadata")
            _append(
                (
                    sink,
                    _EVENT,
                    self.id,
                    eid,
                    ts,
                    type,
                    fields.get("agent_id") or self.agent_id,
                    fields.get("name"),
                    as_text(content),
                    metadata.copy() if metadata.__class__ is dict else metadata,
                    fields.get("parent_id"),
                    fields.get("duration_ms"),
                    fields.get("status"),
                    None,
                    None,
                    None,
                )
            )
            _w.poke() if len(_QUEUE) >= sink.batch_size else None
        except Exception as exc:
            self._sink.internal_error(exc)
        return eid

    # ------------------------------------------------------------ helpers by type
    def user_input(self, text: Any, **fields: Any) -> str:
        """What the user asked."""
        return self.event(EventType.USER_INPUT, text, **fields)

    def agent_output(self, text: Any, **fields: Any) -> str:
        """What the agent answered."""
        return self.event(EventType.AGENT_OUTPUT, text, **fields)

    def llm_call(
        self,
        model: str | None = None,
        prompt: Any = None,
        response: Any = None,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
        duration_ms: float | None = None,
        cache_read_tokens: int | None = None,
        cache_creation_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        **fields: Any,
    ) -> str:
        """One model call. Content is JSON `{"prompt": ..., "response": ...}` (those given).

        `input_tokens` counts every prompt token; `cache_read_tokens` and
        `cache_creation_tokens` say how many of them were read from or written to the
        provider's prompt cache, and `reasoning_tokens` how many of `output_tokens` were
        reasoning (breakdowns: never added to the totals)."""
        body: dict[str, Any] = {}
        if prompt is not None:
            body["prompt"] = prompt
        if response is not None:
            body["response"] = response
        return self.event(
            EventType.LLM_CALL,
            body or None,
            name=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd,
            duration_ms=duration_ms,
            cache_read_tokens=cache_read_tokens,
            cache_creation_tokens=cache_creation_tokens,
            reasoning_tokens=reasoning_tokens,
            **fields,
        )

    def tool_call(
        self,
        name: str,
        args: Any = None,
        *,
        agent_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        parent_id: str | None = None,
        **unknown: Any,
    ) -> ToolCall:
        """A timed tool call: `with s.tool_call("search", {"q": ...}) as call: call.result(...)`."""
        if unknown:
            _ignore_unknown(self._sink, "tool_call", unknown)
        return ToolCall(self, name, args, agent_id, metadata, parent_id)

    def tool_result(
        self, name: str | None, result: Any, *, parent_id: str | None = None, **fields: Any
    ) -> str:
        """A tool's result logged on its own (`parent_id` = the call's id)."""
        return self.event(EventType.TOOL_RESULT, result, name=name, parent_id=parent_id, **fields)

    def mcp_message(
        self,
        method: str | None,
        payload: Any = None,
        *,
        direction: str = "outgoing",
        metadata: dict[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """One MCP JSON-RPC message; `direction` is "outgoing" or "incoming"."""
        meta = {"direction": direction}
        if metadata:
            meta.update(metadata)
        return self.event(EventType.MCP_MESSAGE, payload, name=method, metadata=meta, **fields)

    def log_mcp_message(
        self, message: Any, direction: str = "client->server", *, at: float | None = None
    ) -> list[str]:
        """One MCP JSON-RPC message (dict, JSON text or bytes) mapped like the proxy maps it.

        `direction` is "client->server" or "server->client" (or "outgoing" /
        "incoming" as seen by the client). Requests are paired with their
        responses inside this session; `tools/call` gives TOOL_CALL and
        TOOL_RESULT / ERROR events; the MCP context (protocol version, client,
        server) goes into the session's metadata under "mcp". Returns the ids
        of the events written.
        """
        try:
            if self._mcp is None:
                from agentlog.mcp.mapping import McpMapper

                self._mcp = McpMapper(self.id, agent_id=self.agent_id)
            mapper = self._mcp
            seen = mapper.context_version
            events = mapper.feed(message, direction, at)
            if mapper.context_version != seen:
                self.update_metadata({"mcp": mapper.context})
            return self.add_events(events)
        except Exception as exc:
            self._sink.internal_error(exc)
            return []

    def add_events(self, events: Iterable[Event]) -> list[str]:
        """Events already built (by a mapping such as `agentlog.mcp`), queued with their own ids."""
        ids = []
        for event in events:
            ids.append(
                self._put(
                    event.id,
                    (event.timestamp,),
                    event.type,
                    event.content,
                    agent_id=event.agent_id,
                    name=event.name,
                    metadata=event.metadata,
                    parent_id=event.parent_id,
                    duration_ms=event.duration_ms,
                    status=event.status.value,
                )
            )
        return ids

    def update_metadata(self, changes: dict[str, Any]) -> None:
        """Merge `changes` into the session's metadata (written with the next batch)."""
        if self._joined:  # the session row belongs to the process that started it
            return
        try:
            meta = dict(self._fields.get("metadata") or {})
            meta.update(changes)
            try:  # kept whole, an oversized one would fail every later write of the session
                meta = check_metadata(meta, "session metadata")
            except ValueError as exc:
                self._sink.warn_once(
                    "session_metadata_update", f"session metadata not updated: {exc}"
                )
                return
            self._fields["metadata"] = meta
            self._fields["updated_at"] = datetime.now(UTC)
            self._log._enqueue_session(dict(self._fields))
        except Exception as exc:
            self._sink.internal_error(exc)

    def state_update(self, state: Any, *, name: str | None = None, **fields: Any) -> str:
        """A snapshot or change of the agent's state (a graph node's output, memory, ...)."""
        return self.event(EventType.STATE_UPDATE, state, name=name, **fields)

    def handoff(
        self,
        to_agent: str,
        content: Any = None,
        *,
        from_agent: str | None = None,
        child_session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """Control passes from this agent to `to_agent`."""
        source = from_agent or fields.get("agent_id") or self.agent_id
        meta: dict[str, Any] = {"from_agent": source, "to_agent": to_agent}
        if child_session_id:
            meta["child_session_id"] = child_session_id
        if metadata:
            meta.update(metadata)
        fields.setdefault("agent_id", source)
        return self.event(EventType.HANDOFF, content, name=to_agent, metadata=meta, **fields)

    def error(self, error: BaseException | str, **fields: Any) -> str:
        """An error: an exception (type, message and traceback) or a message."""
        meta = fields.pop("metadata", None)
        if isinstance(error, BaseException):
            content = _exception_text(error)
            if meta is None or isinstance(meta, dict):  # anything else: event() warns of it
                meta = dict(meta or {})
                meta.setdefault("exception", type(error).__qualname__)
                meta.setdefault("message", _exception_message(error))
            try:
                error.__agentlog_logged__ = True  # type: ignore[attr-defined]
            except Exception:
                pass
        else:
            content = error
        fields.setdefault("status", "error")
        return self.event(EventType.ERROR, content, metadata=meta, **fields)

    def log(self, text: Any, *, level: str | None = None, **fields: Any) -> str:
        """A plain log line (`level` goes in metadata)."""
        meta = fields.get("metadata")
        if level and (meta is None or isinstance(meta, dict)):  # else: event() warns of it
            fields["metadata"] = {**(meta or {}), "level": level}
        return self.event(EventType.LOG, text, **fields)

    # ------------------------------------------------------------ sessions
    def child(
        self, agent_id: str | None = None, title: str | None = None, **kwargs: Any
    ) -> SessionHandle:
        """A sub-agent's session under this one (its `parent_session_id` is this id)."""
        return self._log._open_session(
            title if title is not None else (agent_id or ""),
            agent_id=agent_id,
            parent_session_id=self.id,
            join=False,
            **kwargs,
        )

    def end(self, status: str = "completed") -> None:
        """Mark the session completed or failed (once; later calls do nothing)."""
        if self._ended:
            return
        self._ended = True
        _OPEN.discard(self)
        if self._joined:  # the session belongs to the process that started it
            return
        try:
            now = datetime.now(UTC)
            fields = dict(self._fields, status=str(status), ended_at=now, updated_at=now)
            self._log._enqueue_session(fields)
        except Exception as exc:
            self._sink.internal_error(exc)

    def _terminate(self, signal_name: str) -> None:
        """End as failed because the process was killed: an ERROR event says so, and
        the session's metadata `ended_by` names the signal (for filters and scripts).

        Runs in a signal handler, on a thread interrupted at any point, so it takes no
        lock the interrupted code may hold: no `new_id` (its id lock), no `poke` (the
        writer's wake), no warning (logging): it builds the records itself and appends
        them to the queue (a deque: atomic, lock-free); the handler's flush collects them."""
        if self._ended or self._joined:
            return
        self._ended = True
        _OPEN.discard(self)
        now = datetime.now(UTC)
        text = f"terminated by {signal_name}"
        _append(
            (
                self._sink,
                _EVENT,
                self.id,
                new_id_unlocked(),
                _time_ns() // 1000,
                EventType.ERROR,
                self.agent_id,
                None,
                text,
                {"signal": signal_name},
                None,
                None,
                "error",
                None,
                None,
                None,
            )
        )
        meta = dict(self._fields.get("metadata") or {})
        meta["ended_by"] = signal_name
        fields = dict(self._fields, metadata=meta, status="failed", ended_at=now, updated_at=now)
        self._fields = fields
        if not self._log.closed:
            _append((self._sink, _w.SESSION, fields))


class ToolCall:
    """A tool call being timed. Logged on exit as TOOL_CALL (stamped at its start),
    then TOOL_RESULT (if `result` was given) or ERROR (if an exception escaped)."""

    __slots__ = (
        "_agent_id",
        "_args",
        "_has_result",
        "_metadata",
        "_parent_id",
        "_result",
        "_result_ts",
        "_session",
        "_start_us",
        "_t0",
        "id",
        "name",
    )

    def __init__(
        self,
        session: SessionHandle,
        name: str,
        args: Any,
        agent_id: str | None,
        metadata: dict[str, Any] | None,
        parent_id: str | None,
    ) -> None:
        self._session = session
        self.name = name
        self.id = new_id()
        self._args = as_text(args)
        self._agent_id = agent_id
        self._metadata = metadata
        self._parent_id = parent_id
        self._has_result = False
        self._result: Any = None
        self._result_ts = 0
        self._start_us = _time_ns() // 1000
        self._t0 = time.perf_counter()

    def __enter__(self) -> ToolCall:
        self._start_us = _time_ns() // 1000
        self._t0 = time.perf_counter()
        return self

    def result(self, value: Any) -> None:
        """The tool's result (logged as TOOL_RESULT when the block ends)."""
        self._result = as_text(value)
        self._has_result = True
        self._result_ts = _time_ns() // 1000

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        s = self._session
        duration_ms = (time.perf_counter() - self._t0) * 1000.0
        failed = exc is not None
        s._put(
            self.id,
            self._start_us,
            EventType.TOOL_CALL,
            self._args,
            name=self.name,
            agent_id=self._agent_id,
            metadata=self._metadata,
            parent_id=self._parent_id,
            duration_ms=duration_ms,
            status="error" if failed else "ok",
        )
        if self._has_result:
            s._put(
                new_id(),
                self._result_ts,
                EventType.TOOL_RESULT,
                self._result,
                name=self.name,
                agent_id=self._agent_id,
                parent_id=self.id,
            )
        if failed and exc is not None:
            s.error(exc, name=self.name, agent_id=self._agent_id, parent_id=self.id)


def _ignore_unknown(sink: Any, method: str, unknown: dict[str, Any]) -> None:
    """Warn once per set of unknown keywords; the call goes on without them."""
    names = ", ".join(sorted(unknown))
    sink.warn_once(
        f"unknown-keyword:{method}:{names}",
        f"{method}() ignored unknown keyword(s) {names}; "
        "put extra fields in metadata={...} (the event was recorded without them)",
    )
