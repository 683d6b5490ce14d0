"""One presentation vocabulary for the CLI and the TUI: safe text, glyphs, colours, durations, ages.

Both faces show the same event type with the same glyph and colour, the same
session state the same way, and the agents of one session in colours that
differ from each other. Colours are Rich style names, which Rich and Textual
both drop under `NO_COLOR`; the glyphs keep the meaning without colour.

Recorded content is untrusted: it reaches a terminal only through
`safe_text` / `one_line` (from `agentlog.textsafe`, re-exported here), which
make control characters visible instead of letting the terminal act on them.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from agentlog.model import Event, EventType, SessionSummary

# Safe text: the one sanitizer (agentlog.textsafe), re-exported beside the glyphs it goes with.
from agentlog.textsafe import one_line as one_line
from agentlog.textsafe import safe_text as safe_text

# ---------------------------------------------------------------- glyphs and colours
# type -> (glyph, Rich style, short name)
TYPES: dict[str, tuple[str, str, str]] = {
    EventType.USER_INPUT: ("▶", "bold cyan", "INPUT"),
    EventType.AGENT_OUTPUT: ("◀", "bold green", "OUTPUT"),
    EventType.LLM_CALL: ("◆", "magenta", "LLM"),
    EventType.TOOL_CALL: ("⚙", "yellow", "TOOL"),
    EventType.TOOL_RESULT: ("↩", "dark_goldenrod", "RESULT"),
    EventType.MCP_MESSAGE: ("⇄", "blue", "MCP"),
    EventType.STATE_UPDATE: ("●", "bright_black", "STATE"),
    EventType.HANDOFF: ("➜", "bright_cyan", "HANDOFF"),
    EventType.ERROR: ("✖", "bold red", "ERROR"),
    EventType.LOG: ("·", "white", "LOG"),
}

# session state -> (glyph, Rich style); "stale" is an active session gone quiet.
STATES: dict[str, tuple[str, str]] = {
    "active": ("●", "bold green"),
    "stale": ("◌", "yellow"),
    "completed": ("✔", "green"),
    "failed": ("✖", "bold red"),
}

DEFAULT_STALE_AFTER = timedelta(minutes=30)

# An MCP message's direction, as its metadata records it (the mapper's words, and older ones).
MCP_ARROWS: dict[str, str] = {
    "client->server": "→",
    "server->client": "←",
    "client_to_server": "→",
    "server_to_client": "←",
}


def event_name(event: Event) -> str:
    """An event's name as shown: an MCP message's also says which way it went (→ or ←)."""
    name = event.name or ""
    if event.type is EventType.MCP_MESSAGE:
        direction = event.metadata.get("direction")
        arrow = MCP_ARROWS.get(direction) if isinstance(direction, str) else None
        if arrow:
            return f"{arrow} {name}"
    return name


_TRACEBACK = "Traceback (most recent call last):"


def headline(content: str | None) -> str | None:
    """An event's content as a one-line preview should start: what the row says, first.

    A Python traceback (`SessionHandle.error` and the adapters record an exception
    whole) starts with the exception's own text; a model call recorded as
    `{"prompt": ..., "response": ...}` (the SDK, LangGraph, the OpenAI Agents
    adapter; OpenTelemetry's `{"input", "output"}`) shows its answer; a graph's
    state update its newest message, a LangGraph `Command` where it goes. Other
    content is returned as it is.
    """
    if not content:
        return content
    if content.startswith(_TRACEBACK):
        return _error_first(content)
    if content[0] == "{" and len(content) <= PARSE_MAX:
        # Cached for the small bodies a timeline redraws; a large one is not kept alive.
        said = _shaped_cached(content) if len(content) <= _CACHED_MAX else _shaped(content)
        if said:
            return said
    return content


def _error_first(content: str) -> str:
    """A traceback with its exception's text (from the last traceback's first unindented
    line on: a chained exception's final error, a multi-line message whole) first."""
    lines = content.rstrip("\n").split("\n")
    start = max(i for i, line in enumerate(lines) if line.startswith(_TRACEBACK))
    for i in range(start + 1, len(lines)):
        if lines[i] and not lines[i][0].isspace():
            error = "\n".join(lines[i:])
            return f"{error}\n" + "\n".join(lines[:i])
    return content


PARSE_MAX = 256 * 1024  # JSON content up to this size is parsed to be shown; larger as recorded
_CACHED_MAX = 16 * 1024  # previews of bodies up to this size are cached


def parsed_json(content: str) -> dict[str, Any] | list[Any] | None:
    """`content` as a JSON object or array, when it is one and at most `PARSE_MAX` long."""
    if content.lstrip()[:1] not in ("{", "[") or len(content) > PARSE_MAX:
        return None
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict | list) else None


def _shaped(content: str) -> str | None:
    """The preview of a JSON body of a known shape, or None."""
    value = parsed_json(content)
    if not isinstance(value, dict):
        return None
    if "response" in value:  # a model call: its answer (the assistant's, so no role)
        return _said(value["response"], answer=True)
    if "input" in value and "output" in value:  # OpenTelemetry GenAI
        return _said(value["output"], answer=True)
    if "goto" in value and "graph" in value:  # a LangGraph Command
        goto = value["goto"]
        targets = goto if isinstance(goto, list) else [goto]
        names = [str(t) if not isinstance(t, dict) else str(t.get("node", t)) for t in targets]
        return "goto " + ", ".join(names) if names and goto else None
    messages = value.get("messages")
    if isinstance(messages, list) and messages:
        return _said(messages[-1])
    return _mcp(value)


_shaped_cached = functools.lru_cache(maxsize=4096)(_shaped)

_OFFERS = (
    ("tools", "tool", "name"),
    ("prompts", "prompt", "name"),
    ("resources", "resource", "uri"),
)


def _mcp(value: dict[str, Any]) -> str | None:
    """The preview of recorded MCP params or a result: a call, its answer, an offer, a peer."""
    if isinstance(value.get("name"), str) and "arguments" in value:  # tools/call, prompts/get
        return tool_call_text(value)
    for key in ("content", "contents"):  # a tool's answer, a resource read
        if isinstance(value.get(key), list) and value[key]:
            text = message_text(value[key])
            if text:
                return f"error: {text}" if value.get("isError") is True else text
    for key, noun, field in _OFFERS:  # tools/list, prompts/list, resources/list
        offered = value.get(key)
        if isinstance(offered, list) and offered and all(isinstance(o, dict) for o in offered):
            names = [str(o.get(field) or o.get("name") or "?") for o in offered]
            return f"{plural(len(names), noun)}: {', '.join(names)}"
    if isinstance(value.get("code"), int) and isinstance(value.get("message"), str):
        return f"error {value['code']}: {value['message']}"
    found = value.get("_meta")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    for info in (
        value.get("serverInfo"),
        value.get("clientInfo"),
        meta.get("io.modelcontextprotocol/serverInfo"),
        meta.get("io.modelcontextprotocol/clientInfo"),
    ):
        if isinstance(info, dict) and isinstance(info.get("name"), str):
            return f"{info['name']} {info.get('version') or ''}".strip()
    return None


def _said(message: Any, answer: bool = False) -> str | None:
    """A message as one preview: `role: text → tool(args)`; a model's `answer` without its
    role (the assistant's), and also when it is a plain string."""
    if isinstance(message, str):
        return message if answer else None
    if isinstance(message, list) and message:  # a list of output messages: the last
        return _said(message[-1], answer)
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        return None
    text = message_text(message.get("content"))
    if not text and "parts" in message:
        text = message_text(message["parts"])
    calls = [tool_call_text(c) for c in message.get("tool_calls") or () if isinstance(c, dict)]
    if not text and not calls:
        return None
    who = "" if answer and message["role"] == "assistant" else message["role"]
    if isinstance(message.get("name"), str) and who == "tool":
        who = f"tool {message['name']}"
    said = f"{who}: {text}" if who and text else who or text
    if not calls:
        return said
    return f"{said} → {', '.join(calls)}" if said else f"→ {', '.join(calls)}"


def message_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of parts, joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") in ("text", "output_text", None):
                text = part.get("text", part.get("content"))
                if isinstance(text, str):
                    texts.append(text)
        return " ".join(t for t in texts if t)
    return ""


def tool_call_text(call: dict[str, Any]) -> str:
    """A tool call as `name(args)`, its arguments as compact JSON."""
    inner = call.get("function")  # OpenAI's {"function": {"name", "arguments"}}
    fn: dict[str, Any] = inner if isinstance(inner, dict) else call
    name = str(fn.get("name") or "?")
    args = fn.get("args", fn.get("arguments"))
    if args in (None, {}, "", "{}"):
        return f"{name}()"
    if not isinstance(args, str):
        args = orjson.dumps(args, default=str).decode()
    return f"{name}({args})"


def type_glyph(kind: str) -> tuple[str, str]:
    """The glyph and style of an event type."""
    glyph, style, _short = TYPES.get(kind, ("?", "white", str(kind)))
    return glyph, style


def type_short(kind: str) -> str:
    return TYPES.get(kind, ("?", "white", str(kind)))[2]


def state_glyph(state: str) -> tuple[str, str]:
    return STATES.get(state, ("?", "white"))


def session_state(
    s: SessionSummary, now: datetime, stale_after: timedelta | None = DEFAULT_STALE_AFTER
) -> str:
    """The session's status, or "stale" for an active one with no activity for `stale_after`."""
    status = str(s.status.value if hasattr(s.status, "value") else s.status)
    if status == "active" and stale_after is not None:
        last = s.last_event_at or s.updated_at
        if last is not None and now - last >= stale_after:
            return "stale"
    return status


AGENT_PALETTE = (
    "#5fafff",
    "#87d75f",
    "#ffaf5f",
    "#d787ff",
    "#5fd7d7",
    "#ff87af",
    "#d7d75f",
    "#afafff",
    "#ff875f",
    "#87ffaf",
)


def _slot(agent: str) -> int:
    digest = hashlib.blake2b(agent.encode(), digest_size=2).digest()
    return int.from_bytes(digest, "big") % len(AGENT_PALETTE)


def agent_colour(agent: str | None) -> str:
    """A colour for `agent` that stays the same across runs and screens."""
    if not agent:
        return "bright_black"
    return AGENT_PALETTE[_slot(agent)]


def agent_colours(agents: Sequence[str]) -> dict[str, str]:
    """Distinct colours for the agents of one session (up to the palette's size).

    Each agent keeps its usual colour unless an agent before it took that
    colour; then it moves to the next free one, so two agents that hash alike
    never look alike side by side.
    """
    taken: set[int] = set()
    colours: dict[str, str] = {}
    for agent in agents:
        if agent in colours or not agent:
            continue
        slot = _slot(agent)
        if len(taken) < len(AGENT_PALETTE):
            while slot in taken:
                slot = (slot + 1) % len(AGENT_PALETTE)
        taken.add(slot)
        colours[agent] = AGENT_PALETTE[slot]
    return colours


# ---------------------------------------------------------------- numbers and times
def duration(ms: float | None) -> str:
    """The one human duration of every face: 5.2ms, 820ms, 4.1s, 3m05s, 2h10m, 3d04h."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.0f}ms" if ms >= 10 else f"{ms:.1f}ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s"
    minutes, sec = divmod(int(s), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def ago(dt: datetime | None, now: datetime) -> str:
    """How long before `now`: 12s ago, 5m ago, 3h ago, 2d ago."""
    if dt is None:
        return ""
    s = (now - dt).total_seconds()
    if s < 60:
        return f"{max(int(s), 0)}s ago"
    if s < 3600:
        return f"{int(s // 60)}m ago"
    if s < 86400:
        return f"{int(s // 3600)}h ago"
    return f"{int(s // 86400)}d ago"


def tokens(
    input_tokens: int | None,
    output_tokens: int | None,
    cache_read: int | None = None,
    cache_creation: int | None = None,
    reasoning: int | None = None,
) -> str:
    """`1,000 in (900 cached, 50 cache writes) / 400 out (256 reasoning)`; breakdowns only when known."""
    inside = [f"{cache_read:,} cached"] if cache_read else []
    if cache_creation:
        inside.append(f"{cache_creation:,} cache writes")
    text = f"{input_tokens or 0:,} in" + (f" ({', '.join(inside)})" if inside else "")
    text += f" / {output_tokens or 0:,} out"
    return text + (f" ({reasoning:,} reasoning)" if reasoning else "")


def offset(dt: datetime, start: datetime | None) -> str:
    """Time since the session's first event, e.g. +12.345s or +3m05.2s."""
    if start is None:
        return ""
    s = (dt - start).total_seconds()
    if s < 60:
        return f"+{s:.3f}s"
    if s < 3600:
        return f"+{int(s // 60)}m{s % 60:04.1f}s"
    return f"+{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 session', '2 sessions', '1,204 errors'."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def sub_sessions(n: int, complete: bool = True) -> str:
    """'1 sub-session', '3 sub-sessions'; '2,000+ sub-sessions' when only some were counted."""
    return plural(n, "sub-session") if complete else f"{n:,}+ sub-sessions"


# How much of one event's content a human face lays out at once (TUI detail, web page): a
# face that laid out all of it froze (the TUI for 35 s on 120,000 lines; a web page of big
# tool results was 27 MB and took 14 s to load). The rest is one export or link away.
CONTENT_CHARS = 64 * 1024
CONTENT_LINES = 2_000


def head_lines(text: str, limit: int = CONTENT_LINES) -> tuple[str, int]:
    """The first `limit` lines of `text` and how many lines it has in all."""
    total = text.count("\n") + 1
    if total <= limit:
        return text, total
    end = -1
    for _ in range(limit):
        end = text.index("\n", end + 1)
    return text[:end], total


SHORT_ID = 13  # "0190a1b2-c3d4": a UUIDv7's millisecond clock, as `tail` prints it


def short_ids(ids: Sequence[str], minimum: int = SHORT_ID) -> int:
    """How many leading characters tell these ids apart (git's short hashes, for UUIDs)."""
    length = minimum
    while length < 36 and len({i[:length] for i in ids}) < len(set(ids)):
        length += 1
    return length
