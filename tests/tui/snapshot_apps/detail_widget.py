"""One scenario: the EventDetail pane with JSON content, escapes, right-to-left text and deep metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.app import App, ComposeResult

from agentlog.model import Event, EventStatus, EventType
from agentlog.tui.widgets.detail import EventDetail, MetadataTree

START = datetime(2026, 1, 15, 11, 0, tzinfo=UTC)


def deep(levels: int) -> dict:
    node: dict = {"leaf": "bottom"}
    for i in range(levels):
        node = {f"level{levels - i}": node}
    return node


EVENT = Event(
    id="00000190-0000-7000-8000-0000000000aa",
    session_id="00000190-0000-7000-8000-000000000001",
    timestamp=datetime(2026, 1, 15, 11, 0, 2, 500000, tzinfo=UTC),
    type=EventType.TOOL_CALL,
    agent_id="researcher",
    name="search_flights",
    content='{"query": "\\u001b[2J wipe", "to": "HND", "note": "שלום עולם"}',
    metadata={
        "retry": {"attempts": 3, "backoff_s": [1, 2, 4]},
        "deep": deep(6),
        "ansi": "\x1b[31mred",
    },
    parent_id="00000190-0000-7000-8000-0000000000a9",
    duration_ms=30000.0,
    status=EventStatus.ERROR,
)


class DetailWidgetApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventDetail()

    def on_mount(self) -> None:
        self.query_one(EventDetail).show(EVENT, START)
        self.query_one(MetadataTree).root.expand_all()
