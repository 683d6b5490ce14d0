"""How values look in the TUI; the glyphs, colours and safe text come from `agentlog.present`.

Everything a user logged is untrusted: it reaches the screen only through
`safe_text`/`one_line`, which turn control characters (ANSI escapes, bells,
carriage returns) into visible symbols, so nothing in content is ever
interpreted by the terminal or by Rich markup.
"""

from __future__ import annotations

import re
from datetime import datetime

from rich.text import Text

from agentlog.present import (
    STATES,
    TYPES,
    agent_colour,
    agent_colours,
    ago,
    duration,
    headline,
    offset,
)

# The TUI uses the one sanitizer every face shares (re-exported for its screens).
from agentlog.textsafe import one_line as one_line
from agentlog.textsafe import safe_text as safe_text

# The TUI's names for the shared vocabulary in agentlog.present.
TYPE_ICONS: dict[str, tuple[str, str]] = {k: (g, s) for k, (g, s, _) in TYPES.items()}
TYPE_SHORT: dict[str, str] = {k: short for k, (_, _, short) in TYPES.items()}
STATUS_STYLE = STATES


def type_label(kind: str) -> Text:
    icon, style = TYPE_ICONS.get(kind, ("?", "white"))
    return Text(f"{icon} {TYPE_SHORT.get(kind, kind):<7}", style=style)


def status_label(status: str) -> Text:
    icon, style = STATUS_STYLE.get(status, ("?", "white"))
    return Text(f"{icon} {status}", style=style)


def count(n: int | None) -> str:
    if not n:
        return "0"
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def count_f(n: float) -> str:
    """`count` for a chart's float values."""
    return count(round(n))


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


def highlight(text: Text, term: str | None, style: str = "black on yellow") -> Text:
    """Mark every case-insensitive occurrence of `term` in `text`."""
    if term:
        text.highlight_regex(re.compile(re.escape(term), re.IGNORECASE), style=style)
    return text


__all__ = [
    "STATUS_STYLE",
    "TYPE_ICONS",
    "TYPE_SHORT",
    "agent_colour",
    "agent_colours",
    "ago",
    "clock",
    "cost",
    "count",
    "duration",
    "headline",
    "highlight",
    "offset",
    "one_line",
    "safe_text",
    "stamp",
    "status_label",
    "type_label",
]
