"""`AgentLogProcessor`: an OpenAI Agents SDK TracingProcessor writing each trace as one session.

The SDK calls processors synchronously as spans start and end; this one only
enqueues through the AgentLog SDK and never raises into the agent. A span's
event is stamped at its start and written at its end; ids are made at the
start so children point at their agent span (`parent_id`), a tool's result or
error at its TOOL_CALL.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agents.tracing import TracingProcessor

from agentlog.integrations import pricing
from agentlog.integrations.openai_agents.mapping import KINDS, span_event, when
from agentlog.model import EventType, new_id

if TYPE_CHECKING:
    from agentlog.sdk.client import AgentLog
    from agentlog.sdk.handle import SessionHandle


@dataclass(slots=True)
class _Span:
    event_id: str | None
    parent_event: str | None
    agent: str | None


@dataclass(slots=True)
class _Trace:
    handle: SessionHandle
    spans: dict[str, _Span] = field(default_factory=dict)
    failed: bool = False


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"openai-agents {version('openai-agents')}"
    except PackageNotFoundError:
        return None


class AgentLogProcessor(TracingProcessor):
    """Records Agents SDK traces: `add_trace_processor(AgentLogProcessor())`.

    `log` is the AgentLog to write to (default: the process's default one);
    `prices` overrides the price table used for `cost_usd`.
    """

    def __init__(
        self,
        log: AgentLog | None = None,
        *,
        tags: list[str] | None = None,
        prices: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self._log = log
        self._tags = list(tags or ())
        self._prices = prices
        self._traces: dict[str, _Trace] = {}
        self._lock = threading.Lock()
        self._version = _version()
        self.last_session_id: str | None = None

    def _agentlog(self) -> AgentLog:
        if self._log is None or self._log.closed:
            from agentlog.sdk.client import default_log

            self._log = default_log()
        return self._log

    def _internal(self, exc: Exception) -> None:
        try:
            self._agentlog()._sink.internal_error(exc)
        except Exception:
            pass

    # ------------------------------------------------------------ traces
    def _open(self, trace_id: str, info: dict[str, Any] | None) -> _Trace:
        info = info or {}
        meta: dict[str, Any] = {"openai_agents": {"trace_id": trace_id}}
        if info.get("group_id"):
            meta["openai_agents"]["group_id"] = info["group_id"]
        if info.get("metadata"):
            meta["openai_agents"]["metadata"] = info["metadata"]
        handle = self._agentlog().session(
            info.get("workflow_name") or "Agent workflow",
            tags=["openai-agents", *self._tags],
            metadata=meta,
            integration="openai-agents",
            integration_version=self._version,
        )
        state = _Trace(handle)
        self._traces[trace_id] = state
        self.last_session_id = handle.id
        return state

    def on_trace_start(self, trace: Any) -> None:
        try:
            with self._lock:
                if trace.trace_id not in self._traces:
                    self._open(trace.trace_id, trace.export())
        except Exception as exc:
            self._internal(exc)

    def on_trace_end(self, trace: Any) -> None:
        try:
            with self._lock:
                state = self._traces.pop(trace.trace_id, None)
            if state is not None:
                state.handle.end("failed" if state.failed else "completed")
        except Exception as exc:
            self._internal(exc)

    # ------------------------------------------------------------ spans
    def on_span_start(self, span: Any) -> None:
        try:
            with self._lock:
                state = self._traces.get(span.trace_id) or self._open(span.trace_id, None)
                parent = state.spans.get(span.parent_id) if span.parent_id else None
                data = span.span_data
                kind = str(getattr(data, "type", ""))
                agent = getattr(data, "name", None) if kind == "agent" else None
                state.spans[span.span_id] = _Span(
                    new_id() if isinstance(kind, str) and KINDS.get(kind) is not None else None,
                    (parent.event_id or parent.parent_event) if parent else None,
                    agent or (parent.agent if parent else None),
                )
        except Exception as exc:
            self._internal(exc)

    def on_span_end(self, span: Any) -> None:
        try:
            with self._lock:
                state = self._traces.get(span.trace_id)
                known = state.spans.pop(span.span_id, None) if state else None
            if state is None or known is None:
                return
            exported = span.export() or {}
            fields = span_event(exported)
            if fields is None or known.event_id is None:
                return
            self._write(state, known, exported, fields)
        except Exception as exc:
            self._internal(exc)

    def _write(self, state: _Trace, known: _Span, span: dict[str, Any], f: dict[str, Any]) -> None:
        handle = state.handle
        start = when(span.get("started_at")) or datetime.now(UTC)
        end = when(span.get("ended_at")) or datetime.now(UTC)
        etype: EventType = f["type"]
        common: dict[str, Any] = {
            "agent_id": known.agent,
            "metadata": f["metadata"],
            "parent_id": known.parent_event,
            "duration_ms": f["duration_ms"],
            "status": f["status"],
            "timestamp": start,
            "event_id": known.event_id,
        }
        if etype == EventType.HANDOFF:
            common["agent_id"] = f.get("from_agent") or known.agent
            handle.handoff(f["name"] or "?", f["content"], from_agent=f.get("from_agent"), **common)
        else:
            tin, tout = f.get("input_tokens"), f.get("output_tokens")
            handle.event(
                etype,
                f.get("content"),
                name=f.get("name"),
                input_tokens=tin,
                output_tokens=tout,
                cost_usd=pricing.cost_usd(f.get("name"), tin, tout, self._prices)
                if etype == EventType.LLM_CALL
                else None,
                **common,
            )
        error = f.get("error")
        if etype == EventType.TOOL_CALL and not error:
            handle.tool_result(
                f.get("name"),
                f.get("result"),
                parent_id=known.event_id,
                agent_id=known.agent,
                timestamp=end,
            )
        if error:
            state.failed = state.failed or etype == EventType.STATE_UPDATE
            message = error.get("message") if isinstance(error, dict) else str(error)
            handle.error(
                message or "error",
                name=f.get("name"),
                agent_id=known.agent,
                parent_id=known.event_id,
                metadata={"data": error.get("data")}
                if isinstance(error, dict) and error.get("data")
                else None,
                timestamp=end,
            )

    def shutdown(self) -> None:
        try:
            with self._lock:
                open_traces, self._traces = list(self._traces.values()), {}
            for state in open_traces:
                state.handle.end("completed")
            self._agentlog().flush(10)
        except Exception as exc:
            self._internal(exc)

    def force_flush(self) -> None:
        try:
            self._agentlog().flush(10)
        except Exception as exc:
            self._internal(exc)


_installed: AgentLogProcessor | None = None


def instrument(**kwargs: Any) -> AgentLogProcessor:
    """Add an `AgentLogProcessor(**kwargs)` to the Agents SDK's trace processors (once)."""
    global _installed
    if _installed is None:
        from agents import add_trace_processor

        _installed = AgentLogProcessor(**kwargs)
        add_trace_processor(_installed)
    return _installed
