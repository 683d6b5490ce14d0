"""AutoGen AgentChat messages as AgentLog events: a pure mapping by message type, no imports of autogen.

A model's answer that carries `models_usage` becomes an LLM_CALL (tokens) with
what it produced under it: tool call requests as TOOL_CALLs, a text as an
AGENT_OUTPUT. Tool executions are TOOL_RESULTs or ERRORs paired with their call by
`call_id`; a HandoffMessage is a HANDOFF; the user's text a USER_INPUT; thoughts,
stops and speaker selections are LOG lines. Streaming chunks are skipped (the
whole message follows them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentlog.model import EventType

_TEXT = ("TextMessage", "MultiModalMessage", "ToolCallSummaryMessage")
_LOGS = {
    "ThoughtEvent": "thought",
    "StopMessage": "stop",
    "SelectSpeakerEvent": "select_speaker",
    "SelectorEvent": "selector",
    "UserInputRequestedEvent": "user_input_requested",
    "MemoryQueryEvent": "memory_query",
    "CodeGenerationEvent": "code_generation",
    "CodeExecutionEvent": "code_execution",
}


@dataclass
class Spec:
    """One event to write: its fields, and the key its children refer to it by."""

    type: EventType
    content: Any = None
    name: str | None = None
    agent_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    input_tokens: int | None = None
    output_tokens: int | None = None
    key: str | None = None  # e.g. "call:<call_id>": what a result's `parent` names
    parent: str | None = None  # a key given earlier ("llm:<message id>", "call:<id>")


def _usage(msg: Any) -> tuple[int | None, int | None]:
    usage = getattr(msg, "models_usage", None)
    if usage is None:
        return None, None
    return getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)


def _text(msg: Any) -> Any:
    content = getattr(msg, "content", None)
    if isinstance(content, str):
        return content
    to_text = getattr(msg, "to_text", None)
    return to_text() if callable(to_text) else content


def message_events(msg: Any) -> list[Spec]:
    """The events one AgentChat message or event becomes (none for streaming chunks)."""
    kind = getattr(msg, "type", None) or type(msg).__name__
    source = getattr(msg, "source", None)
    mid = str(getattr(msg, "id", "") or id(msg))
    out: list[Spec] = []
    tin, tout = _usage(msg)
    llm_key = None
    if tin is not None or tout is not None:
        llm_key = f"llm:{mid}"
        out.append(
            Spec(
                EventType.LLM_CALL,
                content={"response": _text(msg)},
                name="model",
                agent_id=source,
                metadata={"autogen_type": kind},
                input_tokens=tin,
                output_tokens=tout,
                key=llm_key,
            )
        )
    if kind == "ToolCallRequestEvent":
        for call in getattr(msg, "content", None) or []:
            out.append(
                Spec(
                    EventType.TOOL_CALL,
                    content=getattr(call, "arguments", None),
                    name=getattr(call, "name", None),
                    agent_id=source,
                    metadata={"call_id": getattr(call, "id", None)},
                    key=f"call:{getattr(call, 'id', '')}",
                    parent=llm_key,
                )
            )
    elif kind == "ToolCallExecutionEvent":
        for result in getattr(msg, "content", None) or []:
            failed = bool(getattr(result, "is_error", False))
            out.append(
                Spec(
                    EventType.ERROR if failed else EventType.TOOL_RESULT,
                    content=getattr(result, "content", None),
                    name=getattr(result, "name", None),
                    agent_id=source,
                    metadata={"call_id": getattr(result, "call_id", None)},
                    status="error" if failed else "ok",
                    parent=f"call:{getattr(result, 'call_id', '')}",
                )
            )
    elif kind == "HandoffMessage":
        out.append(
            Spec(
                EventType.HANDOFF,
                content=_text(msg),
                name=getattr(msg, "target", None),
                agent_id=source,
                metadata={"from_agent": source, "to_agent": getattr(msg, "target", None)},
                parent=llm_key,
            )
        )
    elif kind in _TEXT or kind.startswith("StructuredMessage"):
        user = source == "user"
        out.append(
            Spec(
                EventType.USER_INPUT if user else EventType.AGENT_OUTPUT,
                content=_text(msg),
                name=source,
                agent_id=source,
                metadata={"autogen_type": kind},
                parent=llm_key,
            )
        )
    elif kind in _LOGS:
        out.append(
            Spec(
                EventType.LOG,
                content=_text(msg),
                name=_LOGS[kind],
                agent_id=source,
                metadata={"autogen_type": kind},
                parent=llm_key,
            )
        )
    return out
