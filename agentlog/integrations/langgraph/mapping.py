"""What LangChain/LangGraph callbacks carry, as plain data: no I/O, no handler state.

Messages, commands and state updates become JSON-ready values; the callback
metadata (`langgraph_node`, `langgraph_checkpoint_ns`, tags) says which node,
which nested graph and which agent a run belongs to; token usage comes from
the message's `usage_metadata` (else the provider's `llm_output`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

_MAX_DEPTH = 24
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_END = "__end__"


def message(msg: Any) -> dict[str, Any]:
    """A LangChain message as a compact dict: role, content, and what else it carries."""
    kind = getattr(msg, "type", None) or type(msg).__name__
    out: dict[str, Any] = {"role": _ROLES.get(kind, kind), "content": jsonable(msg.content)}
    name = getattr(msg, "name", None)
    if name:
        out["name"] = name
    calls = getattr(msg, "tool_calls", None)
    if calls:
        out["tool_calls"] = [
            {"id": c.get("id"), "name": c.get("name"), "args": jsonable(c.get("args"))}
            for c in calls
        ]
    bad = getattr(msg, "invalid_tool_calls", None)
    if bad:
        out["invalid_tool_calls"] = jsonable(bad)
    call_id = getattr(msg, "tool_call_id", None)
    if call_id:
        out["tool_call_id"] = call_id
    status = getattr(msg, "status", None)
    if status and status != "success":
        out["status"] = status
    return out


def is_message(value: Any) -> bool:
    return (
        hasattr(value, "content") and hasattr(value, "type") and hasattr(value, "response_metadata")
    )


def jsonable(value: Any, depth: int = 0) -> Any:
    """`value` with messages, commands, sends and pydantic models made JSON-ready.

    Anything else orjson cannot take is left for its `default=str` (see `as_text`).
    """
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if depth > _MAX_DEPTH:
        return repr(value)[:200]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, depth + 1) for v in value]
    if is_message(value):
        return message(value)
    kind = type(value).__name__
    if kind == "Command":
        return command(value)
    if kind == "Send":
        return {
            "send": getattr(value, "node", None),
            "arg": jsonable(getattr(value, "arg", None), depth + 1),
        }
    if kind == "Interrupt":
        return {
            "value": jsonable(getattr(value, "value", None), depth + 1),
            "id": getattr(value, "id", None),
        }
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return jsonable(dump(), depth + 1)
        except Exception:
            return repr(value)[:1000]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name, None), depth + 1)
            for f in dataclasses.fields(value)
        }
    return value


def command(cmd: Any) -> dict[str, Any]:
    """A `Command` as the parts that were set: graph, goto, update, resume."""
    out: dict[str, Any] = {}
    graph = getattr(cmd, "graph", None)
    if graph is not None:
        out["graph"] = graph
    goto = getattr(cmd, "goto", None)
    if goto:
        out["goto"] = jsonable(goto if isinstance(goto, list | tuple) else [goto])
    update = getattr(cmd, "update", None)
    if update is not None:
        out["update"] = jsonable(update)
    resume = getattr(cmd, "resume", None)
    if resume is not None:
        out["resume"] = jsonable(resume)
    return out


def commands_in(output: Any) -> list[Any]:
    """The `Command`s a node returned (one, or several in a list/tuple)."""
    if type(output).__name__ == "Command":
        return [output]
    if isinstance(output, list | tuple):
        return [o for o in output if type(o).__name__ == "Command"]
    return []


def goto_targets(cmd: Any) -> list[str]:
    """The nodes a `Command` hands control to (named targets; `Send` fan-outs and END are not hand-offs)."""
    goto = getattr(cmd, "goto", None)
    if not goto:
        return []
    items = goto if isinstance(goto, list | tuple) else [goto]
    return [g for g in items if isinstance(g, str) and g != _END]


def resume_value(inputs: Any) -> tuple[bool, Any]:
    """(True, value) when a graph run's input is `Command(resume=...)`."""
    if type(inputs).__name__ == "Command" and getattr(inputs, "resume", None) is not None:
        return True, jsonable(inputs.resume)
    return False, None


def state_update(output: Any) -> Any:
    """What a node wrote to the state: its update dict, or its commands' updates."""
    cmds = commands_in(output)
    if cmds:
        updates = [jsonable(c.update) for c in cmds if getattr(c, "update", None) is not None]
        if len(updates) == 1:
            return updates[0]
        return updates or None
    return jsonable(output)


def _last_text(messages: Any, roles: tuple[str, ...]) -> str | None:
    if not isinstance(messages, Sequence) or isinstance(messages, str):
        return None
    for msg in reversed(messages):
        if is_message(msg) and getattr(msg, "type", None) in roles:
            content = msg.content
            return content if isinstance(content, str) else None
        if isinstance(msg, tuple) and len(msg) == 2 and msg[0] in roles:
            return msg[1] if isinstance(msg[1], str) else None
        if isinstance(msg, dict) and msg.get("role") in roles:
            content = msg.get("content")
            return content if isinstance(content, str) else None
    return None


def input_content(inputs: Any) -> Any:
    """A graph's input as the user's words when it is a message list, else the input itself."""
    if isinstance(inputs, str):
        return inputs
    if isinstance(inputs, Mapping):
        text = _last_text(inputs.get("messages"), ("human", "user"))
        if text is not None:
            return text
    return jsonable(inputs)


def output_content(outputs: Any) -> Any:
    """A graph's result as the last AI message's text when there is one, else the result."""
    if isinstance(outputs, str):
        return outputs
    if isinstance(outputs, Mapping):
        text = _last_text(outputs.get("messages"), ("ai", "assistant"))
        if text:
            return text
    if is_message(outputs) and isinstance(outputs.content, str):
        return outputs.content
    return jsonable(outputs)


# ---------------------------------------------------------------- where a run belongs
def is_node(
    tags: Sequence[str] | None, metadata: Mapping[str, Any] | None, name: str | None
) -> bool:
    """A graph node's own run: LangGraph tags it `graph:step:N` and names it after the node."""
    if not tags or not metadata or name is None:
        return False
    if metadata.get("langgraph_node") != name:
        return False
    return any(t.startswith("graph:step:") for t in tags)


def graph_path(ns: str | None) -> tuple[str, ...]:
    """The nested graphs a run is inside, by the names of the nodes hosting them.

    `langgraph_checkpoint_ns` is `node:task|node:task|...`; its last segment is
    the run's own node, the ones before it are the nodes whose subgraphs contain
    it: `supervisor:…|agent:…` is inside the subgraph hosted by `supervisor`.
    """
    if not ns or "|" not in ns:
        return ()
    return tuple(seg.split(":", 1)[0] for seg in ns.split("|")[:-1])


def model_name(
    serialized: Mapping[str, Any] | None,
    metadata: Mapping[str, Any] | None,
    invocation_params: Mapping[str, Any] | None,
    name: str | None = None,
) -> str:
    """The model's name as LangChain reports it (`ls_model_name`, then the call's parameters)."""
    for source in (metadata, invocation_params):
        if source:
            for key in ("ls_model_name", "model", "model_name", "model_id", "deployment_name"):
                value = source.get(key)
                if isinstance(value, str) and value:
                    return value
    if serialized:
        value = serialized.get("name")
        if isinstance(value, str) and value:
            return value
        ids = serialized.get("id")
        if isinstance(ids, list) and ids:
            return str(ids[-1])
    return name or "llm"


def usage(
    msg: Any, llm_output: Mapping[str, Any] | None
) -> tuple[int | None, int | None, dict[str, Any] | None]:
    """(input tokens, output tokens, details) from `usage_metadata`, else the provider's token_usage."""
    meta = getattr(msg, "usage_metadata", None) if msg is not None else None
    if meta:
        details: dict[str, Any] = {}
        for key in ("input_token_details", "output_token_details"):
            if meta.get(key):
                details[key] = dict(meta[key])
        return _int(meta.get("input_tokens")), _int(meta.get("output_tokens")), details or None
    if llm_output:
        usage_ = llm_output.get("token_usage") or llm_output.get("usage")
        if isinstance(usage_, Mapping):
            return (
                _int(usage_.get("prompt_tokens", usage_.get("input_tokens"))),
                _int(usage_.get("completion_tokens", usage_.get("output_tokens"))),
                None,
            )
    return None, None, None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def tool_output(output: Any) -> tuple[Any, bool]:
    """(content, failed) of what a tool returned; a ToolMessage with status "error" failed."""
    if is_message(output):
        return jsonable(output.content), getattr(output, "status", None) == "error"
    if type(output).__name__ == "Command":
        return command(output), False
    return jsonable(output), False


def interrupts(exc: BaseException) -> Any:
    """The `Interrupt`s a GraphInterrupt carries, JSON-ready."""
    args = exc.args[0] if exc.args else None
    return jsonable(list(args) if isinstance(args, list | tuple) else args)
