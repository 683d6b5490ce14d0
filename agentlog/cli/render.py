"""How sessions and events look in tables and in `tail`: shared by every command that lists them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from rich.text import Text

from agentlog.cli.output import Column, one_line, short_time
from agentlog.model import Event, EventStatus, EventType, SessionSummary, format_ts, utcnow
from agentlog.present import (
    DEFAULT_STALE_AFTER,
    SHORT_ID,
    agent_colour,
    ago,
    duration,
    event_name,
    headline,
    plural,
    session_state,
    short_ids,
    state_glyph,
    sub_sessions,
    tokens,
    type_glyph,
)
from agentlog.storage.tree import TreeTotals

TYPE_STYLE = {kind.value: type_glyph(kind)[1] for kind in EventType}
STATUS_STYLE = {
    state: state_glyph(state)[1] for state in ("active", "stale", "completed", "failed")
}


def _cost(value: float | None) -> str:
    return f"${value:.4f}" if value else ""


def _type_cell(e: Event) -> str:
    return f"{type_glyph(e.type)[0]} {e.type.value}"


# Marks a run's figure that adds up its child sessions (`TREE_NOTE` says so under the table).
TREE_MARK = "Σ"
TREE_NOTE = (
    f"{TREE_MARK}: a run with its child sessions (sub-agents, workers) added up;"
    " `agentlog sessions show ID` has the breakdown"
)


def session_columns(
    rows: Sequence[SessionSummary],
    now: datetime | None = None,
    stale_after: timedelta | None = DEFAULT_STALE_AFTER,
    trees: Mapping[str, TreeTotals] | None = None,
) -> list[Column]:
    """The `sessions list` table for these rows: short ids (as git shows hashes), the state
    glyph, activity as "5m ago"; narrow terminals drop agents, cost, duration first.

    `trees` (`storage.tree.root_tree_totals`) gives a run's tokens and cost with its child
    sessions' added, marked `Σ`: a LangGraph supervisor's own session made no model calls.
    """
    now = now or utcnow()
    width = short_ids([s.id for s in rows], 8) if rows else SHORT_ID
    trees = trees or {}

    def state(s: SessionSummary) -> str:
        return session_state(s, now, stale_after)

    def tokens_cell(s: SessionSummary) -> str:
        tree = trees.get(s.id)
        if tree is not None:
            return f"{TREE_MARK} {tree.tokens:,}"
        return f"{s.input_tokens + s.output_tokens:,}" if s.input_tokens + s.output_tokens else ""

    def cost_cell(s: SessionSummary) -> str:
        tree = trees.get(s.id)
        if tree is not None:
            return f"{TREE_MARK} {_cost(tree.cost_usd)}" if tree.cost_usd else ""
        return _cost(s.cost_usd)

    return [
        Column("ID", lambda s: s.id[:width], style="cyan", priority=10),
        Column(
            "",
            lambda s: state_glyph(state(s))[0],
            paint=lambda s: state_glyph(state(s))[1],
            priority=10,
        ),
        Column(
            "TITLE",
            lambda s: one_line(s.title, 60) or "(untitled)",
            max_width=48,
            flex=True,
            min_width=24,
            priority=9,
        ),
        Column("EVENTS", lambda s: s.event_count, justify="right", priority=7),
        Column(
            "ERR",
            lambda s: s.error_count or "",
            justify="right",
            paint=lambda s: "bold red" if s.error_count else None,
            priority=6,
        ),
        Column(
            "AGENTS",
            lambda s: one_line(", ".join(s.agents), 40),
            max_width=28,
            flex=True,
            min_width=10,
            paint=lambda s: agent_colour(s.agents[0]) if len(s.agents) == 1 else None,
            priority=4,
        ),
        Column("DURATION", lambda s: duration(s.duration_ms), justify="right", priority=5),
        Column("TOKENS", tokens_cell, justify="right", priority=3),
        Column("COST", cost_cell, justify="right", priority=3),
        Column(
            "LAST ACTIVITY",
            lambda s: ago(s.last_event_at or s.updated_at, now),
            style="dim",
            priority=8,
        ),
    ]


SESSION_COLUMNS = session_columns([])

EVENT_COLUMNS = [
    Column("TIME", lambda e: format_ts(e.timestamp)[:23].replace("T", " "), priority=10),
    Column("TYPE", _type_cell, paint=lambda e: TYPE_STYLE.get(e.type.value), priority=9),
    Column(
        "AGENT",
        lambda e: e.agent_id,
        max_width=16,
        flex=True,
        min_width=8,
        paint=lambda e: agent_colour(e.agent_id),
        priority=6,
    ),
    Column("NAME", event_name, max_width=24, flex=True, min_width=8, priority=7),
    Column(
        "STATUS",
        lambda e: "" if e.status is EventStatus.OK else e.status.value,
        paint=lambda e: "bold red" if e.status is EventStatus.ERROR else None,
        priority=5,
    ),
    Column("DURATION", lambda e: duration(e.duration_ms), justify="right", priority=4),
    Column(
        "CONTENT",
        lambda e: one_line(headline(e.content), 100),
        max_width=80,
        flex=True,
        min_width=20,
        priority=9,
    ),
    Column("ID", lambda e: e.id, style="dim", priority=1),
]

SEARCH_COLUMNS = [
    Column("TIME", lambda e: short_time(e.timestamp), priority=10),
    Column("SESSION", lambda e: e.session_id[:SHORT_ID], style="cyan", priority=8),
    Column("TYPE", _type_cell, paint=lambda e: TYPE_STYLE.get(e.type.value), priority=9),
    Column(
        "AGENT",
        lambda e: e.agent_id,
        max_width=16,
        flex=True,
        min_width=8,
        paint=lambda e: agent_colour(e.agent_id),
        priority=5,
    ),
    Column("NAME", event_name, max_width=24, flex=True, min_width=8, priority=6),
    Column(
        "CONTENT",
        lambda e: one_line(headline(e.content), 100),
        max_width=80,
        flex=True,
        min_width=20,
        priority=9,
    ),
]


def replay_line(metadata: dict[str, object]) -> str | None:
    """`SESSION (forked at model call N)` for a replay's session, None for any other."""
    of = metadata.get("replay_of")
    if not isinstance(of, str):
        return None
    fork = metadata.get("replay_fork_at")
    return of + (f" (forked at model call {fork})" if isinstance(fork, int) else "")


def session_fields(
    s: SessionSummary,
    now: datetime | None = None,
    stale_after: timedelta | None = DEFAULT_STALE_AFTER,
) -> list[tuple[str, object]]:
    """The rows of `sessions show`'s key/value table."""
    now = now or utcnow()
    state = session_state(s, now, stale_after)
    last = s.last_event_at or s.updated_at
    return [
        ("id", s.id),
        ("title", s.title or "(untitled)"),
        ("description", s.description),
        (
            "status",
            f"{state_glyph(state)[0]} {state}"
            + (" (active, but quiet)" if state == "stale" else ""),
        ),
        ("parent session", s.parent_session_id),
        ("replay of", replay_line(s.metadata)),
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
        ("last activity", f"{ago(last, now)}" if last else None),
        ("duration", duration(s.duration_ms)),
        (
            "tokens",
            tokens(
                s.input_tokens,
                s.output_tokens,
                s.cache_read_tokens,
                s.cache_creation_tokens,
                s.reasoning_tokens,
            ),
        ),
        ("cost", f"${s.cost_usd:.4f}"),
    ]


def tree_fields(t: TreeTotals) -> list[tuple[str, object]]:
    """`sessions show`'s rows for a session with sub-sessions: the whole tree's totals."""
    subs = sub_sessions(t.sub_sessions, t.complete)
    return [
        (
            "tree",
            f"this session and {subs}: {plural(t.events, 'event')}, {plural(t.errors, 'error')}",
        ),
        (
            "tree tokens",
            tokens(
                t.input_tokens,
                t.output_tokens,
                t.cache_read_tokens,
                t.cache_creation_tokens,
                t.reasoning_tokens,
            ),
        ),
        ("tree cost", f"${t.cost_usd:.4f}"),
    ]


def event_line(event: Event, *, with_session: bool = False) -> Text:
    """One event as one line of text (for `tail`)."""
    line = Text(format_ts(event.timestamp)[11:23] + " ", style="dim")
    if with_session:
        line.append(event.session_id[:13] + " ", style="cyan")
    glyph, style = type_glyph(event.type)
    line.append(f"{glyph} {event.type.value:<12} ", style=style)
    if event.agent_id:
        line.append(f"{one_line(event.agent_id, 40)} ", style=agent_colour(event.agent_id))
    if event.name:
        line.append(f"{one_line(event_name(event), 60)} ", style="italic")
    if event.status is EventStatus.ERROR:
        line.append("error ", style="bold red")
    if event.duration_ms is not None:
        line.append(f"({duration(event.duration_ms)}) ", style="dim")
    line.append(one_line(headline(event.content), 160))
    return line


__all__ = [
    "EVENT_COLUMNS",
    "SEARCH_COLUMNS",
    "SESSION_COLUMNS",
    "TREE_MARK",
    "TREE_NOTE",
    "TYPE_STYLE",
    "event_line",
    "session_columns",
    "session_fields",
    "tree_fields",
]
