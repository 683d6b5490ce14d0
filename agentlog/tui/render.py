"""How values look in the TUI: safe text from untrusted content, icons, colours, times, numbers.

Everything a user logged is untrusted: it reaches the screen only through
`safe_text`/`one_line`, which turn control characters (ANSI escapes, bells,
carriage returns) into visible symbols, so nothing in content is ever
interpreted by the terminal or by Rich markup.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from rich.text import Text

from agentlog.model import EventType

# The TUI uses the one sanitizer every face shares (re-exported for its screens).
from agentlog.textsafe import one_line as one_line
from agentlog.textsafe import safe_text as safe_text

TYPE_ICONS: dict[str, tuple[str, str]] = {
    EventType.USER_INPUT: ("▶", "bold cyan"),
    EventType.AGENT_OUTPUT: ("◀", "bold green"),
    EventType.LLM_CALL: ("◆", "magenta"),
    EventType.TOOL_CALL: ("⚙", "yellow"),
    EventType.TOOL_RESULT: ("↩", "dark_goldenrod"),
    EventType.MCP_MESSAGE: ("⇄", "blue"),
    EventType.STATE_UPDATE: ("●", "bright_black"),
    EventType.HANDOFF: ("➜", "bright_cyan"),
    EventType.ERROR: ("✖", "bold red"),
    EventType.LOG: ("·", "white"),
}

TYPE_SHORT: dict[str, str] = {
    EventType.USER_INPUT: "INPUT",
    EventType.AGENT_OUTPUT: "OUTPUT",
    EventType.LLM_CALL: "LLM",
    EventType.TOOL_CALL: "TOOL",
    EventType.TOOL_RESULT: "RESULT",
    EventType.MCP_MESSAGE: "MCP",
    EventType.STATE_UPDATE: "STATE",
    EventType.HANDOFF: "HANDOFF",
    EventType.ERROR: "ERROR",
    EventType.LOG: "LOG",
}

_AGENT_PALETTE = (
    "#5fafff",
    "#87d75f",
    "#ffaf5f",
    "#d787ff",
    "#5fd7d7",
    "#ff87af",
    "#d7d75f",
    "#afafff",
)

STATUS_STYLE = {
    "active": ("●", "bold green"),
    "completed": ("✔", "green"),
    "failed": ("✖", "bold red"),
}


def agent_colour(agent: str | None) -> str:
    """A colour for `agent` that stays the same across runs and screens."""
    if not agent:
        return "bright_black"
    digest = hashlib.blake2b(agent.encode(), digest_size=2).digest()
    return _AGENT_PALETTE[int.from_bytes(digest, "big") % len(_AGENT_PALETTE)]


def type_label(kind: str) -> Text:
    icon, style = TYPE_ICONS.get(kind, ("?", "white"))
    return Text(f"{icon} {TYPE_SHORT.get(kind, kind):<7}", style=style)


def status_label(status: str) -> Text:
    icon, style = STATUS_STYLE.get(status, ("?", "white"))
    return Text(f"{icon} {status}", style=style)


def duration(ms: float | None) -> str:
    """Compact human duration: 820ms, 4.1s, 3m05s, 2h10m."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.0f}ms"
    s = ms / 1000
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def count(n: int | None) -> str:
    if not n:
        return "0"
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def cost(usd: float | None) -> str:
    if not usd:
        return "-"
    return f"${usd:.4f}" if usd < 1 else f"${usd:,.2f}"


def clock(dt: datetime | None) -> str:
    """Absolute time of day in UTC with milliseconds."""
    if dt is None:
        return ""
    return dt.strftime("%H:%M:%S.") + f"{dt.microsecond // 1000:03d}"


def stamp(dt: datetime | None) -> str:
    """Date and time (UTC) for lists of sessions."""
    return dt.strftime("%Y-%m-%d %H:%M") if dt else ""


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


def ago(dt: datetime | None, now: datetime) -> str:
    """How long before `now` (the app's clock, fixed in tests)."""
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


def highlight(text: Text, term: str | None, style: str = "black on yellow") -> Text:
    """Mark every case-insensitive occurrence of `term` in `text`."""
    if term:
        text.highlight_regex(re.compile(re.escape(term), re.IGNORECASE), style=style)
    return text
