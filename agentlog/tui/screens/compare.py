"""Two sessions side by side: aligned steps with the first divergence marked, and a table of differences."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from agentlog.compare import Row, align
from agentlog.model import Event, EventType, SessionSummary
from agentlog.storage.base import EventQuery, Store, iter_events
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.messages import StoreFailed
from agentlog.tui.widgets.banner import Banner
from agentlog.tui.widgets.keybar import KeyBar

MAX_STEPS = 2000  # steps aligned per side; the summary counts cover the whole session


@dataclass
class Side:
    session: SessionSummary
    events: list[Event]
    by_type: dict[str, int]
    tools: Counter[str]
    truncated: bool


def load_side(store: Store, session_id: str) -> Side:
    session = store.get_session(session_id)
    facets = store.facets(EventQuery(session_id=session_id))
    events: list[Event] = []
    for event in iter_events(store, EventQuery(session_id=session_id)):
        if len(events) == MAX_STEPS:
            break
        events.append(event)
    tools = Counter({t.name: t.count for t in store.stats(EventQuery(session_id=session_id)).tools})
    return Side(session, events, facets.get("type", {}), tools, len(events) < session.event_count)


@dataclass
class Compared(Message):
    a: Side
    b: Side
    rows: list[Row]
    first: int | None


def step_text(event: Event | None, width: int = 44) -> Text:
    """One step, cut to `width` cells so both sides always fit the screen."""
    if event is None:
        return Text("—", style="dim")
    icon, style = render.TYPE_ICONS.get(event.type, ("?", "white"))
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{icon} ", style=style)
    text.append(
        render.one_line(event.name or render.TYPE_SHORT.get(event.type, event.type), 24),
        style="bold",
    )
    if event.status == "error":
        text.append(" ✖", style="bold red")
    if event.duration_ms is not None:
        text.append(f" {render.duration(event.duration_ms)}", style="cyan")
    text.append(" " + render.one_line(render.headline(event.content), max(width, 20)), style="dim")
    text.truncate(width, overflow="ellipsis")
    return text


def step_detail(label: str, event: Event | None) -> Text:
    """One side's step in full (content wrapped, controls made visible)."""
    text = Text(f"{label} ", style="bold")
    if event is None:
        text.append("no step here", style="dim")
        return text
    icon, style = render.TYPE_ICONS.get(event.type, ("?", "white"))
    text.append(f"{icon} {render.TYPE_SHORT.get(event.type, event.type)} ", style=style)
    text.append(render.one_line(event.name, 60), style="bold")
    if event.agent_id:
        text.append(
            f"  {render.one_line(event.agent_id, 30)}", style=render.agent_colour(event.agent_id)
        )
    if event.duration_ms is not None:
        text.append(f"  {render.duration(event.duration_ms)}", style="cyan")
    if event.status == "error":
        text.append("  ✖ error", style="bold red")
    text.append("\n\n" + render.safe_text(event.content, 4000))
    return text


def summary_rows(a: Side, b: Side) -> list[tuple[str, str, str, Text]]:
    def delta(x: float, y: float, fmt=str, worse_if_higher: bool = True) -> Text:
        if x == y:
            return Text("=", style="dim")
        style = "red" if (y > x) == worse_if_higher else "green"
        sign = "+" if y > x else "-"
        return Text(f"{sign}{fmt(abs(y - x))}", style=style)

    sa, sb = a.session, b.session
    rows = [
        (
            "status",
            str(sa.status),
            str(sb.status),
            Text("differs", style="yellow") if sa.status != sb.status else Text("=", style="dim"),
        ),
        (
            "events",
            f"{sa.event_count:,}",
            f"{sb.event_count:,}",
            delta(sa.event_count, sb.event_count, lambda v: f"{v:,}", False),
        ),
        ("errors", str(sa.error_count), str(sb.error_count), delta(sa.error_count, sb.error_count)),
        (
            "duration",
            render.duration(sa.duration_ms),
            render.duration(sb.duration_ms),
            delta(sa.duration_ms or 0, sb.duration_ms or 0, render.duration),
        ),
        (
            "input tokens",
            f"{sa.input_tokens:,}",
            f"{sb.input_tokens:,}",
            delta(sa.input_tokens, sb.input_tokens, lambda v: f"{v:,}"),
        ),
        (
            "output tokens",
            f"{sa.output_tokens:,}",
            f"{sb.output_tokens:,}",
            delta(sa.output_tokens, sb.output_tokens, lambda v: f"{v:,}"),
        ),
        (
            "cost",
            render.cost(sa.cost_usd),
            render.cost(sb.cost_usd),
            delta(sa.cost_usd, sb.cost_usd, lambda v: f"${v:.4f}"),
        ),
    ]
    for kind in EventType:
        x, y = a.by_type.get(kind.value, 0), b.by_type.get(kind.value, 0)
        if x or y:
            rows.append(
                (f"  {kind.value}", f"{x:,}", f"{y:,}", delta(x, y, lambda v: f"{v:,}", False))
            )
    for tool in sorted(set(a.tools) | set(b.tools)):
        x, y = a.tools.get(tool, 0), b.tools.get(tool, 0)
        rows.append(
            (f"  tool {render.one_line(tool, 30)}", str(x), str(y), delta(x, y, str, False))
        )
    return rows


class CompareScreen(Screen[None]):
    """Two sessions side by side: aligned steps, first divergence, differences."""

    AUTO_FOCUS = "#compare-steps"  # the list, never the side panes, takes the keys first

    BINDINGS = [
        Binding("d", "divergence", "First divergence"),
        Binding("tab", "switch_tab", "Steps/summary"),
        Binding("x", "swap", "Swap sides"),
        Binding("escape,q", "app.pop_screen", "Back"),
    ]

    def __init__(self, a: str, b: str) -> None:
        super().__init__()
        self.a, self.b = a, b
        self.first: int | None = None
        self.compared: Compared | None = None
        self.side_width = 0

    def compose(self) -> ComposeResult:
        yield Static("Comparing…", id="compare-head", classes="title-bar")
        yield Banner()
        with TabbedContent(id="compare-tabs"):
            with TabPane("Steps", id="steps"):
                yield DataTable(id="compare-steps", cursor_type="row")
                # The highlighted step in full, A beside B: the rest of the screen is for reading.
                with Horizontal(id="compare-detail"):
                    yield Static(id="detail-a", classes="compare-side")
                    yield Static(id="detail-b", classes="compare-side")
            with TabPane("Summary", id="summary"):
                summary: DataTable[Text | str] = DataTable(id="compare-summary", cursor_type="row")
                summary.add_columns("", "A", "B", "B vs A")
                yield summary
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#compare-steps").focus()
        self._fit(self.app.size.width)
        self._load(self.a, self.b)

    def on_resize(self) -> None:
        self._fit(self.size.width)

    def _fit(self, width: int) -> None:
        """A and B share the width equally, whatever the terminal's size."""
        side = max((width - 2 - 6 - 3 * 2) // 2, 16)  # scrollbar, "#", cell padding
        if side == self.side_width:
            return
        self.side_width = side
        steps = self.query_one("#compare-steps", DataTable)
        steps.clear(columns=True)
        steps.add_column("#", width=6, key="n")
        steps.add_column("A", width=side, key="a")
        steps.add_column("B", width=side, key="b")
        if self.compared is not None:
            self._fill_steps(self.compared)

    @work(thread=True, exclusive=True)
    def _load(self, a: str, b: str) -> None:
        try:
            side_a, side_b = (
                load_side(agentlog_app(self).store, a),
                load_side(agentlog_app(self).store, b),
            )
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        rows, first = align(side_a.events, side_b.events)
        self.post_message(Compared(side_a, side_b, rows, first))

    @on(Compared)
    def _compared(self, message: Compared) -> None:
        a, b = message.a, message.b
        self.first = message.first
        head = Text.assemble(
            ("A ", "bold"),
            render.status_label(a.session.status),
            " ",
            (render.one_line(a.session.title or "(untitled)", 60), "bold"),
            "\n",
            ("B ", "bold"),
            render.status_label(b.session.status),
            " ",
            (render.one_line(b.session.title or "(untitled)", 60), "bold"),
        )
        if message.first is None:
            head.append("   identical steps", style="green")
        else:
            head.append(f"   first divergence at step {message.first + 1} (d)", style="bold yellow")
        if a.truncated or b.truncated:
            head.append(f"   (first {MAX_STEPS:,} steps aligned)", style="dim")
        self.query_one("#compare-head", Static).update(head)
        self.compared = message
        self._fill_steps(message)
        summary = self.query_one("#compare-summary", DataTable)
        summary.clear()
        for row in summary_rows(a, b):
            summary.add_row(*row)
        self.action_divergence()

    def _fill_steps(self, message: Compared) -> None:
        steps = self.query_one("#compare-steps", DataTable)
        steps.clear()
        for i, row in enumerate(message.rows):
            mark = Text(f"{i + 1}", style="dim" if row.same else "bold yellow")
            if i == message.first:
                mark = Text(f"▶{i + 1}", style="bold black on yellow")
            a_text = step_text(row.a, self.side_width)
            b_text = step_text(row.b, self.side_width)
            if not row.same:
                a_text.stylize("on #3a2a00")
                b_text.stylize("on #3a2a00")
            steps.add_row(mark, a_text, b_text)
        if self.first is not None:
            steps.move_cursor(row=self.first, animate=False)

    @on(DataTable.RowHighlighted, "#compare-steps")
    def _step_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.compared is None or not 0 <= event.cursor_row < len(self.compared.rows):
            return
        row = self.compared.rows[event.cursor_row]
        for side, ev in (("a", row.a), ("b", row.b)):
            self.query_one(f"#detail-{side}", Static).update(step_detail(side.upper(), ev))

    def action_divergence(self) -> None:
        if self.first is not None:
            steps = self.query_one("#compare-steps", DataTable)
            steps.move_cursor(row=self.first, animate=False)

    def action_switch_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "summary" if tabs.active == "steps" else "steps"
        self.query_one("#compare-summary" if tabs.active == "summary" else "#compare-steps").focus()

    def action_swap(self) -> None:
        self.a, self.b = self.b, self.a
        self._load(self.a, self.b)
