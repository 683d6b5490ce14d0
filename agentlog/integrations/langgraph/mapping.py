"""What LangChain/LangGraph callbacks carry, as plain data: no I/O, no handler state.

Messages, commands and state updates become JSON-ready values; the callback
metadata (`langgraph_node`, `langgraph_checkpoint_ns`, tags) says which node,
which nested graph and which agent a run belongs to; token usage comes from
the message's `usage_metadata` (else the provider's `llm_output`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_END = "__end__"

# id(message) -> (message, its content and tool calls when converted, its dict,
# whether they were read from its `__dict__`)
Memo = dict[int, tuple[Any, Any, Any, dict[str, Any], bool]]

_RECORDED = (
    "type",
    "content",
    "name",
    "tool_calls",
    "invalid_tool_calls",
    "tool_call_id",
    "status",
)


def message(msg: Any) -> dict[str, Any]:
    """A LangChain message as a compact dict: role, content, and what else it carries."""
    return _message(msg, _reader(msg))


def _message(msg: Any, get: Callable[[str], Any]) -> dict[str, Any]:
    kind = get("type") or type(msg).__name__
    out: dict[str, Any] = {"role": _ROLES.get(kind, kind), "content": get("content")}
    name = get("name")
    if name:
        out["name"] = name
    calls = get("tool_calls")
    if calls:
        out["tool_calls"] = [
            {"id": c.get("id"), "name": c.get("name"), "args": c.get("args")} for c in calls
        ]
    bad = get("invalid_tool_calls")
    if bad:
        out["invalid_tool_calls"] = bad
    call_id = get("tool_call_id")
    if call_id:
        out["tool_call_id"] = call_id
    status = get("status")
    if status and status != "success":
        out["status"] = status
    return out


# Message classes (pydantic models) whose recorded attributes are each a field or
# nothing at all (no property or class attribute by that name): their values are
# read straight from the instance's `__dict__` and extras.
_PLAIN: dict[type, bool] = {}


def _reader(msg: Any) -> Callable[[str], Any]:
    """A `get(name)` for the attributes `message` records, as `getattr(msg, name, None)` gives them."""
    cls = msg.__class__
    plain = _PLAIN.get(cls)
    if plain is None:
        fields = getattr(cls, "__pydantic_fields__", None)
        plain = isinstance(fields, dict) and all(
            n in fields or not hasattr(cls, n) for n in _RECORDED
        )
        if len(_PLAIN) < 1000:
            _PLAIN[cls] = plain
    if plain:
        values = msg.__dict__
        extra = getattr(msg, "__pydantic_extra__", None)
        return {**extra, **values}.get if extra else values.get
    return lambda name: attr(msg, name)


# (class, attribute) -> True when a pydantic class has no such field, property or
# class attribute: `getattr(obj, name, None)` would then go through pydantic's
# `__getattr__` and an AttributeError (about 5 µs; a HumanMessage has no
# `tool_calls`), where the only place left to look is the instance's extras.
_ABSENT: dict[tuple[type, str], bool] = {}


def attr(obj: Any, name: str) -> Any:
    """`getattr(obj, name, None)`, without pydantic's slow miss for attributes a message type lacks."""
    key = (obj.__class__, name)
    absent = _ABSENT.get(key)
    if absent is None:
        absent = _absent(key[0], name)
    if absent:
        extra = getattr(obj, "__pydantic_extra__", None)
        return extra.get(name) if extra else None
    return getattr(obj, name, None)


def _absent(cls: type, name: str) -> bool:
    fields = getattr(cls, "__pydantic_fields__", None)
    absent = isinstance(fields, dict) and name not in fields and not hasattr(cls, name)
    if len(_ABSENT) < 10_000:
        _ABSENT[(cls, name)] = absent
    return absent


_MESSAGE_TYPES: dict[type, bool] = {}


def is_message(value: Any) -> bool:
    """A LangChain message (by its shape, so no import of langchain_core is needed here)."""
    cls = value.__class__
    known = _MESSAGE_TYPES.get(cls)
    if known is None:
        known = all(
            hasattr(cls, a) or a in getattr(cls, "model_fields", ()) for a in _MESSAGE_ATTRS
        )
        if len(_MESSAGE_TYPES) < 1000:
            _MESSAGE_TYPES[cls] = known
    return known


_MESSAGE_ATTRS = ("content", "type", "response_metadata")


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any, memo: Memo | None = None) -> str:
    """`value` as JSON text, with LangChain/LangGraph objects as plain data.

    orjson walks dicts and lists in C and calls back only for what it does not
    know (messages, commands, sends, interrupts, pydantic models). `memo`
    (one per graph run) keeps each message's converted dict, so a conversation's
    history is converted once, not again in every prompt and state update (orjson
    writes a known dict again in C; calling back into Python per message, or
    nesting an orjson call in the callback, is what costs).
    """

    def default(obj: Any) -> Any:
        if memo is not None:
            known = memo.get(id(obj))
            # A message given a new content or tool calls since it was converted
            # (LangChain messages are mutable) is converted again below: the JSON
            # is what it holds now.
            if known is not None and known[0] is obj:
                if known[4]:
                    values = obj.__dict__
                    if values.get("content") is known[1] and values.get("tool_calls") is known[2]:
                        return known[3]
                elif attr(obj, "content") is known[1] and attr(obj, "tool_calls") is known[2]:
                    return known[3]
        if is_message(obj):
            if memo is None:
                return message(obj)
            get = _reader(obj)
            content, calls = get("content"), get("tool_calls")
            converted = _message(obj, get)
            # The message is held, so its id is not reused while the memo lives.
            memo[id(obj)] = (obj, content, calls, converted, _PLAIN.get(obj.__class__, False))
            return converted
        return plain(obj)

    try:
        return orjson.dumps(value, default=default, option=_OPTIONS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return orjson.dumps(repr(value)).decode()


def plain(obj: Any) -> Any:
    """One object orjson does not know, as something it does (one level; it recurses itself)."""
    kind = type(obj).__name__
    if kind == "Command":
        return command(obj)
    if kind == "Send":
        return {"send": getattr(obj, "node", None), "arg": getattr(obj, "arg", None)}
    if kind == "Interrupt":
        return {"value": getattr(obj, "value", None), "id": getattr(obj, "id", None)}
    if is_message(obj):
        return message(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=repr)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            pass
    try:
        return str(obj)
    except Exception:
        return f"<unprintable {type(obj).__name__}>"


def command(cmd: Any) -> dict[str, Any]:
    """A `Command` as the parts that were set: graph, goto, update, resume."""
    out: dict[str, Any] = {}
    graph = getattr(cmd, "graph", None)
    if graph is not None:
        out["graph"] = graph
    goto = getattr(cmd, "goto", None)
    if goto:
        out["goto"] = list(goto) if isinstance(goto, list | tuple) else [goto]
    update = getattr(cmd, "update", None)
    if update is not None:
        out["update"] = update
    resume = getattr(cmd, "resume", None)
    if resume is not None:
        out["resume"] = resume
    return out


def command_route(cmd: Any) -> dict[str, Any]:
    """Where a `Command` sends control: its `graph` and named `goto` targets (small, for metadata)."""
    route: dict[str, Any] = {"goto": goto_targets(cmd)}
    graph = getattr(cmd, "graph", None)
    if graph is not None:
        route["graph"] = graph
    return route


def handoff_text(cmd: Any) -> str | None:
    """What a hand-off said: the text of the last message its update carries, if any."""
    update = getattr(cmd, "update", None)
    messages = update.get("messages") if isinstance(update, Mapping) else None
    if isinstance(messages, Sequence) and messages and not isinstance(messages, str):
        last = messages[-1]
        content = getattr(last, "content", None)
        if isinstance(content, str) and content:
            return content
    return None


_BACK = "transfer_back_to_"


def handoff_back(output: Any) -> str | None:
    """The agent a worker hands back to by langgraph-supervisor's convention, if it does.

    A supervisor's worker returns along an edge, not a `Command`; the supervisor
    package marks it by appending a `transfer_back_to_<agent>` tool call and its
    answer to the worker's messages.
    """
    # dict and list first: ABC checks cost a call each, and this runs at every node's end
    if output.__class__ is dict or isinstance(output, Mapping):
        messages = output.get("messages")
    else:
        return None
    if messages.__class__ is list:
        last = messages[-2:]
    elif isinstance(messages, Sequence) and not isinstance(messages, str):
        last = list(messages)[-2:]
    else:
        return None
    for msg in last:
        for call in attr(msg, "tool_calls") or ():
            name = call.get("name") if isinstance(call, Mapping) else None
            if isinstance(name, str) and name.startswith(_BACK) and len(name) > len(_BACK):
                return name[len(_BACK) :]
    return None


def commands_in(output: Any) -> list[Any]:
    """The `Command`s a node returned (one, or several in a list/tuple)."""
    cls = output.__class__
    if cls is dict:  # a state update, the usual case
        return []
    if cls.__name__ == "Command":
        return [output]
    if isinstance(output, (list, tuple)):  # a constant tuple: no union built per call
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
        return True, inputs.resume
    return False, None


def state_update(output: Any, cmds: list[Any] | None = None) -> Any:
    """What a node wrote to the state: its update dict, or its commands' updates.

    `cmds` are `commands_in(output)` when the caller has them already."""
    if cmds is None:
        cmds = commands_in(output)
    if cmds:
        updates = [c.update for c in cmds if getattr(c, "update", None) is not None]
        if len(updates) == 1:
            return updates[0]
        return updates or None
    return output


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
    return inputs


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
    return outputs


# ---------------------------------------------------------------- where a run belongs
def is_node(
    tags: Sequence[str] | None, metadata: Mapping[str, Any] | None, name: str | None
) -> bool:
    """A graph node's own run: LangGraph tags it `graph:step:N` and names it after the node."""
    if not tags or not metadata or name is None:
        return False
    if metadata.get("langgraph_node") != name or name == "__start__":
        return False  # __start__ only writes the input (already the USER_INPUT)
    for tag in tags:  # noqa: SIM110  (no generator and its frame: this runs for every chain)
        if tag.startswith("graph:step:"):
            return True
    return False


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
    meta = attr(msg, "usage_metadata") if msg is not None else None
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
        return output.content, attr(output, "status") == "error"
    if type(output).__name__ == "Command":
        return command(output), False
    return output, False


def interrupts(exc: BaseException) -> Any:
    """The `Interrupt`s a GraphInterrupt carries."""
    args = exc.args[0] if exc.args else None
    return list(args) if isinstance(args, list | tuple) else args
