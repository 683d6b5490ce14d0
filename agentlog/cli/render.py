"""How sessions and events look in tables and in `tail`: shared by every command that lists them."""

from __future__ import annotations

from rich.text import Text

from agentlog.cli.output import Column, one_line, short_time
from agentlog.cli.timeparse import format_duration_ms
from agentlog.model import Event, EventStatus, SessionSummary, format_ts
from agentlog.textsafe import safe_text

TYPE_STYLE = {
    "USER_INPUT": "cyan",
    "AGENT_OUTPUT": "green",
    "LLM_CALL": "magenta",
    "TOOL_CALL": "blue",
    "TOOL_RESULT": "blue",
    "MCP_MESSAGE": "yellow",
    "STATE_UPDATE": "dim",
    "HANDOFF": "bold cyan",
    "ERROR": "bold red",
    "LOG": "dim",
}
STATUS_STYLE = {"active": "yellow", "completed": "green", "failed": "red"}


def _cost(value: float | None) -> str:
    return f"${value:.4f}" if value else ""


SESSION_COLUMNS = [
    Column("ID", lambda s: s.id, style="cyan", priority=10),
    Column(
        "TITLE",
        lambda s: one_line(s.title, 60) or "(untitled)",
        max_width=48,
        flex=True,
        min_width=16,
        priority=9,
    ),
    Column("STATUS", lambda s: s.status.value, priority=8),
    Column("EVENTS", lambda s: s.event_count, justify="right", priority=7),
    Column("ERR", lambda s: s.error_count or "", justify="right", priority=5),
    Column(
        "AGENTS",
        lambda s: one_line(", ".join(s.agents), 40),
        max_width=28,
        flex=True,
        min_width=10,
        priority=3,
    ),
    Column("DURATION", lambda s: format_duration_ms(s.duration_ms), justify="right", priority=4),
    Column("COST", lambda s: _cost(s.cost_usd), justify="right", priority=2),
    Column("LAST ACTIVITY", lambda s: s.last_event_at or s.updated_at, priority=6),
]

EVENT_COLUMNS = [
    Column("TIME", lambda e: format_ts(e.timestamp)[:23].replace("T", " "), priority=10),
    Column("TYPE", lambda e: e.type.value, priority=9),
    Column("AGENT", lambda e: e.agent_id, max_width=16, flex=True, min_width=8, priority=6),
    Column("NAME", lambda e: e.name, max_width=24, flex=True, min_width=8, priority=7),
    Column("STATUS", lambda e: "" if e.status is EventStatus.OK else e.status.value, priority=5),
    Column("DURATION", lambda e: format_duration_ms(e.duration_ms), justify="right", priority=4),
    Column(
        "CONTENT",
        lambda e: one_line(e.content, 100),
        max_width=80,
        flex=True,
        min_width=20,
        priority=9,
    ),
    Column("ID", lambda e: e.id, style="dim", priority=1),
]

SEARCH_COLUMNS = [
    Column("TIME", lambda e: short_time(e.timestamp), priority=10),
    Column("SESSION", lambda e: e.session_id, style="cyan", priority=8),
    Column("TYPE", lambda e: e.type.value, priority=9),
    Column("AGENT", lambda e: e.agent_id, max_width=16, flex=True, min_width=8, priority=5),
    Column("NAME", lambda e: e.name, max_width=24, flex=True, min_width=8, priority=6),
    Column(
        "CONTENT",
        lambda e: one_line(e.content, 100),
        max_width=80,
        flex=True,
        min_width=20,
        priority=9,
    ),
]


def session_fields(s: SessionSummary) -> list[tuple[str, object]]:
    """The rows of `sessions show`'s key/value table."""
    return [
        ("id", s.id),
        ("title", s.title or "(untitled)"),
        ("description", s.description),
        ("status", s.status.value),
        ("parent session", s.parent_session_id),
        ("tags", s.tags),
        ("metadata", s.metadata or None),
        ("created", s.created_at),
        ("updated", s.updated_at),
        ("ended", s.ended_at),
        ("events", s.event_count),
        ("errors", s.error_count),
        ("agents", s.agents),
        ("first event", s.first_event_at),
        ("last event", s.last_event_at),
        ("duration", format_duration_ms(s.duration_ms)),
        ("tokens in / out", f"{s.input_tokens:,} / {s.output_tokens:,}"),
        ("cost", f"${s.cost_usd:.4f}"),
    ]


def event_line(event: Event, *, with_session: bool = False) -> Text:
    """One event as one line of text (for `tail`)."""
    line = Text(format_ts(event.timestamp)[11:23] + " ", style="dim")
    if with_session:
        line.append(safe_text(event.session_id[:13]) + " ", style="cyan")
    line.append(f"{event.type.value:<12} ", style=TYPE_STYLE.get(event.type.value, ""))
    if event.agent_id:
        line.append(f"{safe_text(event.agent_id)} ", style="bold")
    if event.name:
        line.append(f"{safe_text(event.name)} ", style="italic")
    if event.status is EventStatus.ERROR:
        line.append("error ", style="bold red")
    if event.duration_ms is not None:
        line.append(f"({format_duration_ms(event.duration_ms)}) ", style="dim")
    line.append(one_line(event.content, 160))
    return line


__all__ = [
    "EVENT_COLUMNS",
    "SEARCH_COLUMNS",
    "SESSION_COLUMNS",
    "TYPE_STYLE",
    "event_line",
    "session_fields",
]
