"""What the gate knows of one run: its summary figures and step sequences, from any Store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from agentlog.model import Event, EventStatus, EventType, SessionSummary
from agentlog.storage.base import EventQuery, Store, iter_events


@dataclass
class Run:
    """One session as the gate sees it."""

    session: SessionSummary
    events: list[Event]
    errors: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    duration_ms: float = 0.0
    failed_tools: set[str] = field(default_factory=set)
    tool_sequence: list[str] = field(default_factory=list)
    handoffs: list[str] = field(default_factory=list)
    drift: bool = False

    @property
    def id(self) -> str:
        return self.session.id

    @property
    def title(self) -> str:
        return self.session.title

    def summary(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "status": str(self.session.status),
            "events": len(self.events),
            "errors": self.errors,
            "tokens": self.tokens,
            "cost_usd": round(self.cost_usd, 6),
            "duration_ms": round(self.duration_ms, 3),
        }


def load_run(store: Store, session: SessionSummary) -> Run:
    """Read a session's events once and derive every figure the rules look at."""
    events = list(iter_events(store, EventQuery(session_id=session.id)))
    run = Run(session=session, events=events)
    first = last = None
    for event in events:
        end = event.timestamp + timedelta(milliseconds=event.duration_ms or 0)
        first = event.timestamp if first is None or event.timestamp < first else first
        last = end if last is None or end > last else last
        failed = event.status == EventStatus.ERROR
        if event.type == EventType.ERROR or failed:
            run.errors += 1
        run.tokens += (event.input_tokens or 0) + (event.output_tokens or 0)
        run.cost_usd += event.cost_usd or 0.0
        if event.type == EventType.TOOL_CALL:
            run.tool_sequence.append(event.name or "")
        if event.type in (EventType.TOOL_CALL, EventType.TOOL_RESULT) and failed:
            run.failed_tools.add(event.name or "")
        if event.type == EventType.HANDOFF:
            run.handoffs.append(event.name or "")
        if event.name == "mcp.tools_changed":
            run.drift = True
    if session.metadata.get("mcp.tools_drift"):
        run.drift = True
    if first is not None and last is not None:
        run.duration_ms = (last - first).total_seconds() * 1000
    return run
