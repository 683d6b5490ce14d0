"""MCP traffic as AgentLog events: a pure mapping (frames in, `Event`s out, no I/O).

`McpMapper` keeps the state one conversation needs: requests in flight, paired
by (direction, id) with the id's JSON type (`1` never answers `"1"`), progress
tokens, calls waiting for user input (2026-07-28 `input_required`), tasks, and
the session's MCP context (protocol version, client and server, capabilities,
tool hashes). Every frame becomes an MCP_MESSAGE (a malformed one an ERROR with
its raw text); `tools/call` also becomes a TOOL_CALL whose answer is a
TOOL_RESULT or an ERROR with `parent_id` = the call and `duration_ms` = the round
trip, measured from the first request of the call to its final answer.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from agentlog.mcp.frames import (
    CLIENT_TO_SERVER,
    DIRECTIONS,
    SERVER_TO_CLIENT,
    Frame,
    clip,
    id_key,
    parse,
    valid_id,
)
from agentlog.model import (
    EVENT_FIELDS,
    MAX_AGENT_ID_CHARS,
    MAX_DURATION_MS,
    MAX_NAME_CHARS,
    Event,
    EventStatus,
    EventType,
    check_metadata,
    encodable,
    new_id,
    normalize_id,
    trusted_model,
)

META_PREFIX = "io.modelcontextprotocol/"
_META_VERSION = META_PREFIX + "protocolVersion"
_META_CLIENT = META_PREFIX + "clientInfo"
_META_CAPS = META_PREFIX + "clientCapabilities"
_META_SERVER = META_PREFIX + "serverInfo"
_ID_CHARS = 200  # a JSON-RPC id kept in metadata is cut to this many characters
_SORTED = orjson.OPT_SORT_KEYS


def other(direction: str) -> str:
    """The opposite direction."""
    return SERVER_TO_CLIENT if direction == CLIENT_TO_SERVER else CLIENT_TO_SERVER


def tool_hash(tool: Any) -> str:
    """A short, stable hash of one tool definition (name, description, input schema)."""
    if not isinstance(tool, dict):
        tool = {"value": tool}
    basis = {k: tool.get(k) for k in ("name", "description", "inputSchema")}
    data = orjson.dumps(basis, option=_SORTED, default=str)
    return hashlib.sha256(data).hexdigest()[:16]


def tool_drift(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """Tools added, removed and changed between two `{name: hash}` maps (empty lists: no drift)."""
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(n for n in set(before) & set(after) if before[n] != after[n]),
    }


def _json(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return clip(orjson.dumps(value, default=str).decode())
    except Exception:
        return clip(repr(value))


_FLAT_STR_CHARS = 1000


def _flat(metadata: dict[str, Any]) -> bool:
    """Metadata that needs no full check: short plain strings, numbers, booleans, None.

    Its keys are this module's own literals; only the values can come from the wire.
    """
    for value in metadata.values():
        kind = type(value)
        if kind is str:
            if len(value) > _FLAT_STR_CHARS or not value.isascii() or "\x00" in value:
                return False
        elif kind is int:
            if not -(2**63) <= value < 2**63:
                return False
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif kind is not bool and value is not None:
            return False
    return True


def _id_meta(value: Any) -> Any:
    if type(value) is str and len(value) > _ID_CHARS:
        return value[:_ID_CHARS]
    return value


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:limit]


@dataclass(slots=True)
class _Pending:
    """A request waiting for its answer."""

    method: str
    event_id: str
    at: float
    call_id: str | None = None  # the TOOL_CALL event of a tools/call
    call_at: float = 0.0  # when the logical call started (first request of a retry chain)
    tool: str | None = None
    cancelled: bool = False
    cancel_reason: str | None = None
    task_id: str | None = None  # tasks/get, tasks/result: the task polled
    progress_key: tuple[str, tuple[str, Any]] | None = None  # its progressToken, if any


@dataclass(slots=True)
class _Open:
    """A logical tool call still open after a response: awaiting input or a task."""

    method: str
    tool: str | None
    call_id: str | None
    event_id: str
    call_at: float


def _opened(pending: _Pending) -> _Open:
    """The logical call a request belongs to, kept open after its response."""
    return _Open(pending.method, pending.tool, pending.call_id, pending.event_id, pending.call_at)


@dataclass
class McpMapper:
    """One MCP conversation's mapping state. `feed()` each frame in the order it was seen."""

    session_id: str
    agent_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    context_version: int = 0  # bumps whenever `context` changes (the adapter saves it)
    _pending: dict[tuple[str, tuple[str, Any]], _Pending] = field(default_factory=dict)
    _progress: dict[tuple[str, tuple[str, Any]], _Pending] = field(default_factory=dict)
    _awaiting: dict[str, _Open] = field(default_factory=dict)  # requestState -> call
    _awaiting_any: list[_Open] = field(default_factory=list)  # input_required, no state
    _tasks: dict[str, _Open] = field(default_factory=dict)  # taskId -> call
    _agent_given: bool = False
    _when: float = -1.0  # the time of the last event made, and its datetime
    _stamp: datetime = field(default_factory=lambda: datetime.fromtimestamp(0, UTC))

    def __post_init__(self) -> None:
        self._agent_given = self.agent_id is not None
        self.session_id = normalize_id(self.session_id, "session_id")
        if self.agent_id is not None:
            self.agent_id = encodable(self.agent_id[:MAX_AGENT_ID_CHARS])

    # ------------------------------------------------------------ entry points
    def feed(
        self, message: Any, direction: str = CLIENT_TO_SERVER, at: float | None = None
    ) -> list[Event]:
        """The events one message gives (a stdio line, an HTTP body, a dict or JSON text)."""
        if direction not in DIRECTIONS:
            direction = CLIENT_TO_SERVER if direction in ("outgoing", "out") else SERVER_TO_CLIENT
        when = time.time() if at is None else at
        events: list[Event] = []
        for frame in parse(message):
            try:
                self._frame(frame, direction, when, events)
            except Exception as exc:  # hostile input must never stop the recording
                events.append(self._invalid(frame, direction, when, f"unmappable frame: {exc!r}"))
        return events

    def invalid(self, raw: str, direction: str, problem: str, at: float | None = None) -> Event:
        """An ERROR for bytes the framing refused before parsing (an oversized or cut-off line)."""
        when = time.time() if at is None else at
        return self._invalid(Frame("invalid", clip(raw)), direction, when, problem)

    def finish(self, reason: str, at: float | None = None) -> list[Event]:
        """The conversation ended: an ERROR for every tool call still unanswered."""
        when = time.time() if at is None else at
        events = []
        for pending in self._pending.values():
            if pending.call_id is None:
                continue
            meta: dict[str, Any] = {"mcp": "tools/call", "unanswered": True}
            text = reason
            if pending.cancelled:  # the usual end of a cancelled call: no answer ever comes
                meta["cancelled"] = True
                text = "cancelled by the caller" + (
                    f": {pending.cancel_reason}" if pending.cancel_reason else ""
                )
            events.append(
                self._event(
                    EventType.ERROR,
                    when,
                    name=pending.tool,
                    content=text,
                    metadata=meta,
                    parent_id=pending.call_id,
                    duration_ms=(when - pending.call_at) * 1000,
                    status="error",
                )
            )
        self._pending.clear()
        self._progress.clear()
        return events

    def pending_count(self) -> int:
        """Requests still waiting for an answer."""
        return len(self._pending)

    # ------------------------------------------------------------ helpers
    def _event(
        self,
        kind: EventType,
        when: float,
        *,
        name: str | None,
        content: str | None,
        metadata: dict[str, Any],
        parent_id: str | None = None,
        duration_ms: float | None = None,
        status: str = "ok",
        event_id: str | None = None,
    ) -> Event:
        # Built without pydantic validation (it cost most of the mapping's time): every field
        # is made valid here, by the same rules: ids are ours, text is `encodable` and cut,
        # content is clipped, and metadata is checked in full only when it holds anything
        # but short flat values.
        if when != self._when:  # the events of one frame share one time: one datetime
            self._when = when
            self._stamp = datetime.fromtimestamp(when, UTC)
        return trusted_model(
            Event,
            {
                "id": event_id or new_id(),
                "session_id": self.session_id,
                "timestamp": self._stamp,
                "type": kind,
                "agent_id": self.agent_id,
                "name": None if name is None else encodable(name[:MAX_NAME_CHARS]),
                "content": None if content is None else encodable(content),
                "metadata": metadata if _flat(metadata) else check_metadata(metadata),
                "parent_id": parent_id,
                "duration_ms": None
                if duration_ms is None
                else min(max(0.0, duration_ms), MAX_DURATION_MS),
                "status": EventStatus.ERROR if status == "error" else EventStatus.OK,
                "input_tokens": None,
                "output_tokens": None,
                "cost_usd": None,
                "cache_read_tokens": None,
                "cache_creation_tokens": None,
                "reasoning_tokens": None,
            },
            EVENT_FIELDS,
        )

    def _invalid(self, frame: Frame, direction: str, when: float, problem: str) -> Event:
        meta: dict[str, Any] = {"direction": direction, "mcp": "invalid", "problem": problem[:1000]}
        if frame.batch is not None:
            meta["batch_index"] = frame.batch
        return self._event(
            EventType.ERROR,
            when,
            name="mcp.invalid_frame",
            content=clip(frame.raw),
            metadata=meta,
            status="error",
        )

    def set_context(self, key: str, value: Any) -> None:
        """Add to the session's MCP context from outside the mapping (e.g. tool drift)."""
        self._set_context(key, value)

    def _set_context(self, key: str, value: Any) -> None:
        if value is not None and self.context.get(key) != value:
            self.context[key] = value
            self.context_version += 1

    def _peer(self, key: str, info: Any) -> None:
        if not isinstance(info, dict):
            return
        peer = {k: info[k] for k in ("name", "version", "title") if isinstance(info.get(k), str)}
        if peer:
            self._set_context(key, peer)
            if key == "client" and not self._agent_given and "name" in peer:
                self.agent_id = encodable(peer["name"][:MAX_AGENT_ID_CHARS])

    def _stateless_meta(self, params: Any, result: Any) -> None:
        """The 2026-07-28 era: version, client and server ride in `_meta`."""
        meta = params.get("_meta") if isinstance(params, dict) else None
        if isinstance(meta, dict) and meta:
            version = meta.get(_META_VERSION)
            if isinstance(version, str):
                self._set_context("protocol_version", version)
                self._set_context("era", "stateless")
            self._peer("client", meta.get(_META_CLIENT))
            caps = meta.get(_META_CAPS)
            if isinstance(caps, dict):
                self._set_context("client_capabilities", caps)
        meta = result.get("_meta") if isinstance(result, dict) else None
        if isinstance(meta, dict) and meta:
            self._peer("server", meta.get(_META_SERVER))

    # ------------------------------------------------------------ the mapping
    def _frame(self, frame: Frame, direction: str, when: float, out: list[Event]) -> None:
        if frame.kind == "invalid":
            out.append(self._invalid(frame, direction, when, frame.problem or "invalid"))
            return
        if frame.kind in ("request", "notification"):
            self._request(frame, direction, when, out)
        else:
            self._response(frame, direction, when, out)

    def _base_meta(self, frame: Frame, direction: str) -> dict[str, Any]:
        meta: dict[str, Any] = {"direction": direction, "mcp": frame.kind}
        if frame.id is not None:
            meta["jsonrpc_id"] = _id_meta(frame.id)
            meta["id_type"] = type(frame.id).__name__
        if frame.batch is not None:
            meta["batch_index"] = frame.batch
        return meta

    def _request(self, frame: Frame, direction: str, when: float, out: list[Event]) -> None:
        method = frame.method or ""
        params = frame.params if isinstance(frame.params, dict) else {}
        meta = self._base_meta(frame, direction)
        event_id = new_id()
        parent: str | None = None
        self._stateless_meta(params, None)

        if method == "initialize" and isinstance(frame.params, dict):
            self._set_context("era", "handshake")
            if isinstance(params.get("protocolVersion"), str):
                self._set_context("requested_protocol_version", params["protocolVersion"])
            self._peer("client", params.get("clientInfo"))
            if isinstance(params.get("capabilities"), dict):
                self._set_context("client_capabilities", params["capabilities"])

        pending: _Pending | None = None
        call_open: _Open | None = None
        if frame.kind == "request":
            pending = _Pending(method, event_id, when, call_at=when)
            if method == "tools/call":
                pending.tool = _text(params.get("name"), MAX_NAME_CHARS)
                call_open = self._retry_of(method, pending.tool, params, meta)
            elif method in ("tasks/get", "tasks/result", "tasks/cancel"):
                pending.task_id = str(params.get("taskId"))
                task = self._tasks.get(pending.task_id)
                if task is not None:
                    parent = task.call_id or task.event_id
                    meta["task_of"] = task.call_id or task.event_id
            request_meta = params.get("_meta")
            token = request_meta.get("progressToken") if isinstance(request_meta, dict) else None
            if valid_id(token):
                pending.progress_key = (direction, id_key(token))
                self._progress[pending.progress_key] = pending
            key = (direction, id_key(frame.id))
            if key in self._pending:
                meta["duplicate_id"] = True
            self._pending[key] = pending
            if direction == SERVER_TO_CLIENT and parent is None:
                parent = self._related(params)
        elif method == "notifications/progress":
            token = params.get("progressToken")
            owner = (
                self._progress.get((other(direction), id_key(token))) if valid_id(token) else None
            )
            if owner is not None:
                parent = owner.call_id or owner.event_id
        elif method == "notifications/cancelled":
            request_id = params.get("requestId")
            owner = (
                self._pending.get((direction, id_key(request_id))) if valid_id(request_id) else None
            )
            if owner is not None:
                owner.cancelled = True
                reason = params.get("reason")
                owner.cancel_reason = _text(reason, 1000) if isinstance(reason, str) else None
                parent = owner.call_id or owner.event_id
                meta["cancels"] = owner.event_id

        out.append(
            self._event(
                EventType.MCP_MESSAGE,
                when,
                name=method,
                content=_json(frame.params),
                metadata=meta,
                parent_id=parent,
                event_id=event_id,
            )
        )
        if pending is not None and method == "tools/call":
            if call_open is not None:
                pending.call_id = call_open.call_id
                pending.call_at = call_open.call_at
            else:
                call_meta: dict[str, Any] = {"direction": direction, "mcp": "tools/call"}
                if frame.id is not None:
                    call_meta["jsonrpc_id"] = _id_meta(frame.id)
                call = self._event(
                    EventType.TOOL_CALL,
                    when,
                    name=pending.tool,
                    content=_json(params.get("arguments")),
                    metadata=call_meta,
                    parent_id=event_id,
                )
                pending.call_id = call.id
                out.append(call)

    def _retry_of(
        self, method: str, tool: str | None, params: dict[str, Any], meta: dict[str, Any]
    ) -> _Open | None:
        """The open call a 2026-07-28 retry (a new id carrying input responses) continues."""
        state = params.get("requestState")
        if isinstance(state, str) and state in self._awaiting:
            found = self._awaiting.pop(state)
            meta["retry_of"] = found.event_id
            return found
        if "inputResponses" not in params:
            return None
        matches = [o for o in self._awaiting_any if o.method == method and o.tool == tool]
        if len(matches) == 1:
            self._awaiting_any.remove(matches[0])
            meta["retry_of"] = matches[0].event_id
            return matches[0]
        if len(matches) > 1:
            meta["retry_link"] = "ambiguous"
        return None

    def _related(self, params: dict[str, Any]) -> str | None:
        """The client request a server-initiated request (sampling, elicitation) serves."""
        task_meta = params.get("_meta")
        if isinstance(task_meta, dict):
            related = task_meta.get(META_PREFIX + "related-task")
            if isinstance(related, dict):
                task = self._tasks.get(str(related.get("taskId")))
                if task is not None:
                    return task.call_id or task.event_id
        calls = [p for (d, _), p in self._pending.items() if d == CLIENT_TO_SERVER]
        tool_calls = [p for p in calls if p.method == "tools/call"]
        if len(tool_calls) == 1:
            return tool_calls[0].call_id or tool_calls[0].event_id
        return None

    def _response(self, frame: Frame, direction: str, when: float, out: list[Event]) -> None:
        meta = self._base_meta(frame, direction)
        pending = (
            self._pending.pop((other(direction), id_key(frame.id)), None)
            if valid_id(frame.id)
            else None
        )
        method = pending.method if pending else None
        duration = None
        parent = None
        if pending is None:
            meta["unpaired"] = True
        else:
            duration = (when - pending.at) * 1000
            parent = pending.event_id
            if pending.cancelled:
                meta["after_cancel"] = True
            self._forget_progress(pending)
        result = frame.result if frame.kind == "result" else None
        self._stateless_meta(None, result)
        if isinstance(result, dict):
            if method == "initialize":
                self._peer("server", result.get("serverInfo"))
                if isinstance(result.get("protocolVersion"), str):
                    self._set_context("protocol_version", result["protocolVersion"])
                if isinstance(result.get("capabilities"), dict):
                    self._set_context("server_capabilities", result["capabilities"])
            elif method == "server/discover":
                self._discover(result)
            elif method == "tools/list" and isinstance(result.get("tools"), list):
                hashes = {
                    str(t.get("name"))[:MAX_NAME_CHARS]: tool_hash(t)
                    for t in result["tools"]
                    if isinstance(t, dict)
                }
                meta["tool_hashes"] = hashes
                known = dict(self.context.get("tools") or {})
                known.update(hashes)
                self._set_context("tools", known)
        status = "error" if frame.kind == "error" else "ok"
        content = _json(frame.error if frame.kind == "error" else frame.result)
        out.append(
            self._event(
                EventType.MCP_MESSAGE,
                when,
                name=method,
                content=content,
                metadata=meta,
                parent_id=parent,
                duration_ms=duration,
                status=status,
            )
        )
        if pending is not None:
            self._answer(pending, frame, direction, when, out, content)

    def _discover(self, result: dict[str, Any]) -> None:
        self._set_context("era", "stateless")
        self._peer("server", result.get("serverInfo"))
        versions = result.get("supportedVersions") or result.get("protocolVersions")
        if isinstance(versions, list):
            self._set_context("server_protocol_versions", [str(v) for v in versions][:20])
        if isinstance(result.get("capabilities"), dict):
            self._set_context("server_capabilities", result["capabilities"])

    def _forget_progress(self, pending: _Pending) -> None:
        key = pending.progress_key
        if key is not None and self._progress.get(key) is pending:
            del self._progress[key]

    def _answer(
        self,
        pending: _Pending,
        frame: Frame,
        direction: str,
        when: float,
        out: list[Event],
        content: str | None,
    ) -> None:
        """Close (or keep open) the logical call a response answers (`content`: its JSON)."""
        result = frame.result if isinstance(frame.result, dict) else {}
        if frame.kind == "result" and result.get("resultType") == "input_required":
            state = result.get("requestState")
            if isinstance(state, str):
                self._awaiting[state] = _opened(pending)
            else:
                self._awaiting_any.append(_opened(pending))
            return
        task = result.get("task") if frame.kind == "result" else None
        if pending.method == "tools/call" and isinstance(task, dict) and "taskId" in task:
            if isinstance(task.get("taskId"), str):
                self._tasks[task["taskId"]] = _opened(pending)
            return
        task_call: _Open | None = None
        if pending.method == "tasks/result":
            task_call = self._task_for(pending)
            if task_call is None or task_call.call_id is None:
                return
            call_id, call_at, tool = task_call.call_id, task_call.call_at, task_call.tool
        elif pending.method == "tools/call" and pending.call_id is not None:
            call_id, call_at, tool = pending.call_id, pending.call_at, pending.tool
        else:
            return
        meta: dict[str, Any] = {"direction": direction, "mcp": "tools/call"}
        if frame.id is not None:
            meta["jsonrpc_id"] = _id_meta(frame.id)
        if pending.cancelled:
            meta["after_cancel"] = True
        duration = (when - call_at) * 1000
        if frame.kind == "error":
            err = frame.error if isinstance(frame.error, dict) else {}
            if isinstance(err.get("code"), int):
                meta["code"] = err["code"]
            out.append(
                self._event(
                    EventType.ERROR,
                    when,
                    name=tool,
                    content=content,
                    metadata=meta,
                    parent_id=call_id,
                    duration_ms=duration,
                    status="error",
                )
            )
            return
        failed = result.get("isError") is True
        if failed:
            meta["is_error"] = True
        out.append(
            self._event(
                EventType.ERROR if failed else EventType.TOOL_RESULT,
                when,
                name=tool,
                content=content,
                metadata=meta,
                parent_id=call_id,
                duration_ms=duration,
                status="error" if failed else "ok",
            )
        )

    def _task_for(self, pending: _Pending) -> _Open | None:
        if pending.task_id is None:
            return None
        return self._tasks.pop(pending.task_id, None)
