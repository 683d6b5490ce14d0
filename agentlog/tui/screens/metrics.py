"""The metrics panel: the `agentlog stats` profile of a session or a filtered view, with charts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, Sparkline, Static

from agentlog import present
from agentlog.model import AgentSummary, EventStatus, EventType, StatsReport, from_us, to_us
from agentlog.present import plural
from agentlog.storage.base import EventQuery, Store, iter_events
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.messages import StoreFailed
from agentlog.tui.widgets.banner import Banner
from agentlog.tui.widgets.keybar import KeyBar

BUCKETS = 60
MAX_SERIES_EVENTS = 20_000  # LLM calls read for the charts; enough for a faithful shape


@dataclass
class Series:
    """Tokens, cost and errors in BUCKETS equal slices of time, and the time they span."""

    tokens: list[float]
    cost: list[float]
    errors: list[float]
    start: datetime | None
    end: datetime | None
    llm_calls: int
    sampled: bool


def series(store: Store, query: EventQuery) -> Series:
    """Tokens and cost of LLM calls, and errors, over the time the query's events span."""
    calls: list[tuple[int, int, float]] = []
    for i, event in enumerate(iter_events(store, replace(query, types=[EventType.LLM_CALL]))):
        if i == MAX_SERIES_EVENTS:
            break
        tokens = (event.input_tokens or 0) + (event.output_tokens or 0)
        calls.append((to_us(event.timestamp), tokens, event.cost_usd or 0.0))
    errors: list[int] = []
    for i, event in enumerate(iter_events(store, replace(query, status=EventStatus.ERROR))):
        if i == MAX_SERIES_EVENTS:
            break
        errors.append(to_us(event.timestamp))
    stamps = [c[0] for c in calls] + errors
    tokens_s, cost_s, errors_s = [0.0] * BUCKETS, [0.0] * BUCKETS, [0.0] * BUCKETS
    if not stamps:
        return Series(tokens_s, cost_s, errors_s, None, None, 0, False)
    start, end = min(stamps), max(stamps)
    span = max(end - start, 1)

    def slot(ts: int) -> int:
        return min(int((ts - start) / span * BUCKETS), BUCKETS - 1)

    for ts, tok, usd in calls:
        tokens_s[slot(ts)] += tok
        cost_s[slot(ts)] += usd
    for ts in errors:
        errors_s[slot(ts)] += 1
    sampled = MAX_SERIES_EVENTS in (len(calls), len(errors))
    return Series(tokens_s, cost_s, errors_s, from_us(start), from_us(end), len(calls), sampled)


def chart_label(title: str, values: list[float], fmt: Callable[[float], str], s: Series) -> Text:
    """A chart's title with its scale: the peak, the total and the time it covers."""
    label = Text(title, style="bold")
    label.append(f"   peak {fmt(max(values))} · total {fmt(sum(values))}", style="")
    if s.start and s.end:
        # The time range on a line of its own, so neither it nor the scale is cut at 80 columns.
        same_day = s.end.date() == s.start.date()
        start = s.start.strftime("%Y-%m-%d %H:%M:%S")
        end = s.end.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")
        label.append(
            f"\n{start} → {end} UTC"
            f" · {render.duration((s.end - s.start).total_seconds() * 1000 / BUCKETS)} per bar",
            style="dim",
        )
    return label


@dataclass
class MetricsLoaded(Message):
    report: StatsReport
    series: Series
    agents: list[AgentSummary] | None  # store-wide view only


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


def agent_table(agents: list[AgentSummary]) -> Table:
    """Every agent in the store: sessions, events, errors, last seen."""
    table = Table(
        title="Agents",
        title_justify="left",
        title_style="bold",
        expand=True,
        box=None,
        header_style="bold dim",
    )
    for col in ("agent", "sessions", "events", "errors", "last seen"):
        table.add_column(col, justify="left" if col in ("agent", "last seen") else "right")
    for a in agents[:20]:
        table.add_row(
            Text(render.one_line(a.agent_id, 30), style=render.agent_colour(a.agent_id)),
            f"{a.sessions:,}",
            f"{a.events:,}",
            Text(f"{a.errors:,}", style="bold red") if a.errors else Text("-", style="dim"),
            render.stamp(a.last_seen),
        )
    if not agents:
        table.add_row(Text("none yet", style="dim"), "", "", "", "")
    return table


class MetricsScreen(Screen[None]):
    """Performance profile: per tool and model latency, slowest steps, tokens and cost over time."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back"), Binding("r", "reload", "Reload")]

    def __init__(self, query: EventQuery, title: str, *, store_wide: bool = False) -> None:
        super().__init__()
        self.query_ = query
        self.title_ = title
        self.store_wide = store_wide

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Metrics: {self.title_}", style="bold"), classes="title-bar")
        yield Banner()
        with VerticalScroll(id="metrics"):
            yield Static("loading…", id="m-totals")
            yield Static(id="m-agents")
            with Vertical(id="m-charts"):
                yield Label("", id="m-tokens-label", classes="chart-label")
                yield Sparkline([], id="m-tokens")
                yield Label("", id="m-cost-label", classes="chart-label")
                yield Sparkline([], id="m-cost")
            with Vertical(id="m-error-chart"):
                yield Label("", id="m-errors-label", classes="chart-label")
                yield Sparkline([], id="m-errors")
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
        store = agentlog_app(self).store
        try:
            report = store.stats(query)
            data = series(store, query)
            agents = store.agents() if self.store_wide else None
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.post_message(MetricsLoaded(report, data, agents))

    @on(MetricsLoaded)
    def _loaded(self, message: MetricsLoaded) -> None:
        r = message.report
        totals = Text.assemble(
            (plural(r.events, "event"), "bold"),
            "   ",
            (f"{plural(r.errors, 'error')} ({r.error_rate:.1%})", "red" if r.errors else "dim"),
            "   ",
            "tokens "
            + present.tokens(
                r.input_tokens,
                r.output_tokens,
                r.cache_read_tokens,
                r.cache_creation_tokens,
                r.reasoning_tokens,
            )
            if r.cache_read_tokens or r.cache_creation_tokens or r.reasoning_tokens
            else f"{r.input_tokens:,} tokens in / {r.output_tokens:,} out",
            "   ",
            (render.cost(r.cost_usd), "green"),
        )
        if message.series.sampled:
            totals.append(
                f"   (charts from the first {MAX_SERIES_EVENTS:,} LLM calls)", style="dim"
            )
        data = message.series
        if not data.llm_calls:
            totals.append("   no LLM calls, so no token or cost charts", style="dim")
        self.query_one("#m-totals", Static).update(totals)
        charts = self.query_one("#m-charts")
        charts.display = data.llm_calls > 0  # no LLM calls: no empty token and cost charts
        if data.llm_calls:
            self.query_one("#m-tokens-label", Label).update(
                chart_label("Tokens over time (LLM calls)", data.tokens, render.count_f, data)
            )
            self.query_one("#m-tokens", Sparkline).data = data.tokens
            self.query_one("#m-cost-label", Label).update(
                chart_label("Cost over time", data.cost, render.cost, data)
            )
            self.query_one("#m-cost", Sparkline).data = data.cost
        self.query_one("#m-error-chart").display = any(data.errors)
        if any(data.errors):
            self.query_one("#m-errors-label", Label).update(
                chart_label("Errors over time", data.errors, render.count_f, data)
            )
            self.query_one("#m-errors", Sparkline).data = data.errors
        self.query_one("#m-agents", Static).update(
            agent_table(message.agents) if message.agents is not None else ""
        )
        self.query_one("#m-agents").display = message.agents is not None
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
                Text(render.one_line(render.headline(e.content), 80), style="dim"),
            )
        self.query_one("#m-slowest", Static).update(slow)
