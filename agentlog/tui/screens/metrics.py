"""The metrics panel: the `agentlog stats` profile of a session or a filtered view, with charts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, Sparkline, Static

from agentlog.model import EventType, StatsReport, to_us
from agentlog.storage.base import EventQuery, Store, iter_events
from agentlog.tui import render
from agentlog.tui.messages import StoreFailed
from agentlog.tui.widgets.banner import Banner
from agentlog.tui.widgets.keybar import KeyBar

BUCKETS = 60
MAX_SERIES_EVENTS = 20_000  # LLM calls read for the charts; enough for a faithful shape


@dataclass
class Series:
    tokens: list[float]
    cost: list[float]
    sampled: bool


def series(store: Store, query: EventQuery) -> Series:
    """Tokens and cost of LLM calls over time, in BUCKETS equal slices of the session."""
    calls = []
    q = replace(query, types=[EventType.LLM_CALL])
    for i, event in enumerate(iter_events(store, q)):
        if i == MAX_SERIES_EVENTS:
            break
        calls.append(
            (
                to_us(event.timestamp),
                (event.input_tokens or 0) + (event.output_tokens or 0),
                event.cost_usd or 0.0,
            )
        )
    tokens = [0.0] * BUCKETS
    cost = [0.0] * BUCKETS
    if calls:
        start, end = calls[0][0], calls[-1][0]
        span = max(end - start, 1)
        for ts, tok, usd in calls:
            i = min(int((ts - start) / span * BUCKETS), BUCKETS - 1)
            tokens[i] += tok
            cost[i] += usd
    return Series(tokens, cost, len(calls) == MAX_SERIES_EVENTS)


@dataclass
class MetricsLoaded(Message):
    report: StatsReport
    series: Series


def profile_table(title: str, rows: list) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        expand=True,
        box=None,
        header_style="bold dim",
    )
    for col in ("name", "calls", "p50", "p95", "max", "total", "errors"):
        table.add_column(col, justify="left" if col == "name" else "right", no_wrap=col != "name")
    for d in rows[:15]:
        table.add_row(
            render.one_line(d.name, 40),
            f"{d.count:,}",
            render.duration(d.p50_ms),
            render.duration(d.p95_ms),
            render.duration(d.max_ms),
            render.duration(d.total_ms),
            Text(str(d.errors), style="bold red") if d.errors else Text("-", style="dim"),
        )
    if not rows:
        table.add_row(Text("none", style="dim"), "", "", "", "", "", "")
    return table


def type_bars(by_type: dict[str, int], width: int = 30) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(justify="right")
    table.add_column()
    top = max(by_type.values(), default=0) or 1
    for kind in EventType:
        n = by_type.get(kind.value, 0)
        if not n:
            continue
        icon, style = render.TYPE_ICONS[kind]
        table.add_row(
            Text(f"{icon} {kind.value}", style=style),
            f"{n:,}",
            Text("█" * max(1, round(n / top * width)), style=style),
        )
    return table


class MetricsScreen(Screen[None]):
    """Performance profile: per tool and model latency, slowest steps, tokens and cost over time."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"), Binding("r", "reload", "Reload")]

    def __init__(self, query: EventQuery, title: str) -> None:
        super().__init__()
        self.query_ = query
        self.title_ = title

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Metrics: {self.title_}", style="bold"), classes="title-bar")
        yield Banner()
        with VerticalScroll(id="metrics"):
            yield Static("loading…", id="m-totals")
            yield Label("Tokens over time (LLM calls)", classes="chart-label")
            yield Sparkline([], id="m-tokens")
            yield Label("Cost over time", classes="chart-label")
            yield Sparkline([], id="m-cost")
            yield Static(id="m-types")
            yield Static(id="m-tools")
            yield Static(id="m-models")
            yield Static(id="m-slowest")
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load(self.query_)

    @work(thread=True, exclusive=True)
    def _load(self, query: EventQuery) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        try:
            report = store.stats(query)
            data = series(store, query)
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.post_message(MetricsLoaded(report, data))

    @on(MetricsLoaded)
    def _loaded(self, message: MetricsLoaded) -> None:
        r = message.report
        totals = Text.assemble(
            (f"{r.events:,} events", "bold"),
            "   ",
            (f"{r.errors:,} errors ({r.error_rate:.1%})", "red" if r.errors else "dim"),
            "   ",
            f"{r.input_tokens:,} tokens in / {r.output_tokens:,} out",
            "   ",
            (render.cost(r.cost_usd), "green"),
        )
        if message.series.sampled:
            totals.append(
                f"   (charts from the first {MAX_SERIES_EVENTS:,} LLM calls)", style="dim"
            )
        self.query_one("#m-totals", Static).update(totals)
        self.query_one("#m-tokens", Sparkline).data = message.series.tokens
        self.query_one("#m-cost", Sparkline).data = message.series.cost
        self.query_one("#m-types", Static).update(type_bars(r.by_type))
        self.query_one("#m-tools", Static).update(profile_table("Tools", r.tools))
        self.query_one("#m-models", Static).update(profile_table("Models", r.models))
        slow = Table(
            title="Slowest steps",
            title_justify="left",
            title_style="bold",
            expand=True,
            box=None,
            header_style="bold dim",
        )
        for col in ("duration", "type", "name", "content"):
            slow.add_column(
                col, no_wrap=col != "content", justify="right" if col == "duration" else "left"
            )
        for e in r.slowest[:10]:
            slow.add_row(
                render.duration(e.duration_ms),
                render.type_label(e.type),
                render.one_line(e.name, 30),
                Text(render.one_line(e.content, 80), style="dim"),
            )
        self.query_one("#m-slowest", Static).update(slow)
