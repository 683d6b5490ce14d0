"""OpenAI Agents SDK spans as AgentLog events: pure functions over `span.export()` dicts.

Span kinds: agent (a STATE_UPDATE naming the agent, parent of what it does),
generation and response (LLM_CALL with model, input, output and usage),
function (TOOL_CALL, then TOOL_RESULT, or ERROR when the span failed), handoff
(HANDOFF from/to agent), guardrail (LOG, status error when its tripwire fired),
mcp_tools (MCP_MESSAGE tools/list), custom (LOG). Others (task, turn, speech) only
carry their children.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentlog.model import EventType

# span type -> the event it becomes (None: not an event of its own)
KINDS: dict[str, EventType | None] = {
    "agent": EventType.STATE_UPDATE,
    "generation": EventType.LLM_CALL,
    "response": EventType.LLM_CALL,
    "function": EventType.TOOL_CALL,
    "handoff": EventType.HANDOFF,
    "guardrail": EventType.LOG,
    "mcp_tools": EventType.MCP_MESSAGE,
    "custom": EventType.LOG,
}


def when(value: str | None) -> datetime | None:
    """A span's ISO time (the SDK writes them with an offset), or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def duration_ms(span: dict[str, Any]) -> float | None:
    start, end = when(span.get("started_at")), when(span.get("ended_at"))
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() * 1000.0)


def _usage(data: dict[str, Any]) -> tuple[int | None, int | None]:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        response = data.get("response")
        usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return None, None
    tin = usage.get("input_tokens", usage.get("prompt_tokens"))
    tout = usage.get("output_tokens", usage.get("completion_tokens"))
    return (
        tin if isinstance(tin, int) else None,
        tout if isinstance(tout, int) else None,
    )


def span_event(span: dict[str, Any]) -> dict[str, Any] | None:
    """The event fields (type, name, content, metadata, tokens, status) of an ended span."""
    data = span.get("span_data") or {}
    kind = str(data.get("type"))
    etype = KINDS.get(kind)
    if etype is None:
        return None
    error = span.get("error")
    out: dict[str, Any] = {
        "type": etype,
        "name": data.get("name"),
        "metadata": {"span_type": kind, "span_id": span.get("id")},
        "status": "error" if error else "ok",
        "duration_ms": duration_ms(span),
    }
    if kind == "agent":
        out["content"] = {
            k: data.get(k) for k in ("tools", "handoffs", "output_type") if data.get(k)
        } or None
    elif kind in ("generation", "response"):
        model = data.get("model")
        response = data.get("response")
        if not model and isinstance(response, dict):
            model = response.get("model")
        out["name"] = model or kind
        body: dict[str, Any] = {}
        if data.get("input") is not None:
            body["prompt"] = data["input"]
        answer = data.get("output")
        if answer is None and isinstance(response, dict):
            answer = response.get("output")
        if answer is not None:
            body["response"] = answer
        out["content"] = body or None
        out["input_tokens"], out["output_tokens"] = _usage(data)
        if data.get("model_config"):
            out["metadata"]["model_config"] = data["model_config"]
    elif kind == "function":
        out["content"] = data.get("input")
        out["result"] = data.get("output")
        if data.get("mcp_data"):
            out["metadata"]["mcp"] = data["mcp_data"]
    elif kind == "handoff":
        out["name"] = data.get("to_agent")
        out["from_agent"] = data.get("from_agent")
        out["content"] = f"{data.get('from_agent')} -> {data.get('to_agent')}"
    elif kind == "guardrail":
        triggered = bool(data.get("triggered"))
        out["metadata"].update(guardrail=data.get("name"), triggered=triggered)
        out["content"] = f"guardrail {data.get('name')}: {'tripped' if triggered else 'passed'}"
        if triggered:
            out["status"] = "error"
    elif kind == "mcp_tools":
        out["name"] = "tools/list"
        out["content"] = data.get("result")
        out["metadata"]["server"] = data.get("server")
    elif kind == "custom":
        out["content"] = data.get("data")
    if error:
        out["error"] = error
    return out
