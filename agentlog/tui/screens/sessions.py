"""The home screen: every session in a table, searchable, filterable, sortable, loaded page by page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from agentlog.model import SessionSummary
from agentlog.storage.base import EventQuery, SessionChanges, SessionQuery, SessionSort
from agentlog.tui import render
from agentlog.tui.messages import StoreFailed, StoreRecovered
from agentlog.tui.widgets.banner import Banner
from agentlog.tui.widgets.inputs import TextInput
from agentlog.tui.widgets.keybar import KeyBar

PAGE = 100
PREFETCH_ROWS = 50  # start the next page half a page before the end, so scrolling rarely waits
# (column key, header, sort key or None)
COLUMNS: list[tuple[str, str, SessionSort | None]] = [
    ("status", "", None),
    ("title", "Title", "title"),
    ("agents", "Agents", None),
    ("events", "Events", "event_count"),
    ("errors", "Err", "error_count"),
    ("duration", "Duration", "duration_ms"),
    ("tokens", "Tokens", "input_tokens"),
    ("cost", "Cost", "cost_usd"),
    ("last", "Last activity", "last_event_at"),
]
SORTS: list[SessionSort] = [c[2] for c in COLUMNS if c[2]]
NARROW_HIDES = {"agents", "tokens", "cost"}  # dropped below 110 columns so 80x24 reads well


@dataclass
class SessionsLoaded(Message):
    generation: int
    rows: list[SessionSummary]
    next_cursor: str | None
    append: bool
    total: int | None


@dataclass
class Activity(Message):
    text: Text


@dataclass
class LiveChanges(Message):
    generation: int
    changes: SessionChanges
    activity: Text | None


@dataclass
class ChangeToken(Message):
    generation: int
    token: str


def session_cells(s: SessionSummary, now: datetime) -> dict[str, Text]:
    icon, style = render.STATUS_STYLE.get(s.status, ("?", "white"))
    agents = ", ".join(s.agents[:3]) + (" …" if len(s.agents) > 3 else "")
    title = render.one_line(s.title or "(untitled)", 36)
    return {
        "status": Text(icon, style=style),
        "title": Text(title, style="bold" if s.status == "failed" else ""),
        "agents": Text(
            render.one_line(agents, 30),
            style=render.agent_colour(s.agents[0]) if s.agents else "dim",
        ),
        "events": Text(render.count(s.event_count), justify="right"),
        "errors": Text(
            str(s.error_count) if s.error_count else "-",
            style="bold red" if s.error_count else "dim",
            justify="right",
        ),
        "duration": Text(render.duration(s.duration_ms), justify="right"),
        "tokens": Text(render.count(s.input_tokens + s.output_tokens), justify="right"),
        "cost": Text(render.cost(s.cost_usd), justify="right"),
        "last": Text(render.ago(s.last_event_at or s.updated_at, now), style="dim"),
    }


class SessionsScreen(Screen[None]):
    """Sessions newest first; type to search, enter to open."""

    AUTO_FOCUS = None  # on_mount focuses the table

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "focus_search", "Search"),
        Binding("f", "filters", "Filters"),
        Binding("o", "sort", "Sort"),
        Binding("O", "reverse", "Reverse", show=False),
        Binding("c", "compare", "Compare"),
        Binding("m", "metrics", "Metrics"),
        Binding("r", "reload", "Reload", show=False),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("q", "app.quit", "Quit"),
        Binding("j", "move(1)", "Down", show=False),
        Binding("k", "move(-1)", "Up", show=False),
        Binding("g", "home", "First session", show=False),
        Binding("G", "end", "Last loaded session (loads more)", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_ = SessionQuery(limit=PAGE)
        self.generation = 0
        self.next_cursor: str | None = None
        self.loading_more = False
        self.ids: list[str] = []
        self.total: int | None = None
        self._search_timer: Timer | None = None
        self._first_load = True
        self.narrow: bool | None = None
        self.keep: str | None = None
        self.change_token: str | None = None  # from the store, for "what changed since"
        self.placed: set[str] = set()  # sessions a reload has already had the chance to show

    def compose(self) -> ComposeResult:
        yield Static(id="sessions-title", classes="title-bar")
        yield Banner()
        yield TextInput(
            placeholder="Search titles and descriptions   (/ to focus, esc to clear)",
            id="session-search",
        )
        yield Static(id="session-filters", classes="filter-line")
        yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static(id="activity", classes="activity")
        yield KeyBar()

    def _columns(self) -> list[tuple[str, str, SessionSort | None]]:
        return [c for c in COLUMNS if not (self.narrow and c[0] in NARROW_HIDES)]

    def on_resize(self) -> None:
        self._fit(self.size.width)

    def _fit(self, width: int) -> None:
        """Columns for this width (fewer below 110); a change rebuilds the table."""
        narrow = width < 110
        if narrow != self.narrow:
            self.narrow = narrow
            table = self.query_one(DataTable)
            table.clear(columns=True)
            for key, label, _sort in self._columns():
                table.add_column(label, key=key)
            self.ids = []
            self.reload()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._fit(self.app.size.width)  # the terminal's width: one build, not one per resize
        self._describe()
        interval = self.app.poll_interval  # type: ignore[attr-defined]
        if interval:
            self.set_interval(interval, self._poll)

    # ------------------------------------------------------------ loading
    def reload(self, keep: str | None = None) -> None:
        """List afresh from the first page; `keep` is a session id to leave the cursor on."""
        self.generation += 1
        self.next_cursor = None
        self.keep = keep
        self._load(self.generation, replace(self.query_, cursor=None), append=False)

    @work(thread=True, exclusive=True, group="sessions")
    def _load(self, generation: int, query: SessionQuery, *, append: bool) -> None:
        try:
            if not append:  # the token first: nothing that changes during the listing is missed
                token = self.app.store.changed_sessions().token  # type: ignore[attr-defined]
                self.post_message(ChangeToken(generation, token))
            page = self.app.store.list_sessions(query)  # type: ignore[attr-defined]
            total = None if append else self.app.store.count_sessions(replace(query, cursor=None))  # type: ignore[attr-defined]
            activity = None if append else self._activity_text()
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        if get_current_worker().is_cancelled:
            return
        self.post_message(SessionsLoaded(generation, page.items, page.next_cursor, append, total))
        if activity is not None:
            self.post_message(Activity(activity))

    def _activity_text(self) -> Text:
        store = self.app.store  # type: ignore[attr-defined]
        recent = store.list_events(EventQuery(order="desc", limit=4)).items
        text = Text("Recent: ", style="bold")
        for i, ev in enumerate(recent):
            if i:
                text.append("  │  ", style="dim")
            icon, style = render.TYPE_ICONS.get(ev.type, ("?", "white"))
            text.append(f"{render.clock(ev.timestamp)[:8]} ", style="dim")
            text.append(f"{icon} ", style=style)
            text.append(
                render.one_line(ev.agent_id or "", 16), style=render.agent_colour(ev.agent_id)
            )
            text.append(" " + render.one_line(ev.name or ev.content or "", 24))
        if not recent:
            text.append("no events yet", style="dim")
        return text

    @on(SessionsLoaded)
    def _loaded(self, message: SessionsLoaded) -> None:
        if message.generation != self.generation:
            return
        table = self.query_one(DataTable)
        now = self.app.now()  # type: ignore[attr-defined]
        if not message.append:
            table.clear()
            self.ids = []
            self.total = message.total
        for s in message.rows:
            if s.id in self.ids:
                continue
            cells = session_cells(s, now)
            table.add_row(*(cells[key] for key, _label, _sort in self._columns()), key=s.id)
            self.ids.append(s.id)
            self.placed.add(s.id)
        self.next_cursor = message.next_cursor
        self.loading_more = False
        if not message.append and self.keep in self.ids:
            table.move_cursor(row=self.ids.index(self.keep), animate=False)
        self._describe()
        if self._first_load:
            self._first_load = False
            if not message.rows and self.query_ == SessionQuery(limit=PAGE):
                self.app.show_first_run()  # type: ignore[attr-defined]

    @on(Activity)
    def _activity(self, message: Activity) -> None:
        self.query_one("#activity", Static).update(message.text)

    @on(DataTable.RowHighlighted)
    def _maybe_more(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(DataTable)
        if (
            self.next_cursor
            and not self.loading_more
            and event.cursor_row >= table.row_count - PREFETCH_ROWS
        ):
            self.loading_more = True
            self._load(self.generation, replace(self.query_, cursor=self.next_cursor), append=True)

    def _poll(self) -> None:
        """Live list: one "changed since" query per refresh, however many rows are shown."""
        if self.change_token is not None:
            self._changes(self.generation, self.change_token)

    @work(thread=True, exclusive=True, group="sessions-live")
    def _changes(self, generation: int, token: str) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        try:
            changes = store.changed_sessions(token)
            # The "Recent" line costs a second query, so only when something changed.
            activity = self._activity_text() if changes.token != token else None
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.post_message(LiveChanges(generation, changes, activity))

    @on(ChangeToken)
    def _token(self, message: ChangeToken) -> None:
        if message.generation == self.generation:
            self.change_token = message.token

    @on(LiveChanges)
    def _live(self, message: LiveChanges) -> None:
        if message.generation != self.generation:
            return
        self.change_token = message.changes.token
        if message.activity is not None:
            self.query_one("#activity", Static).update(message.activity)
        table = self.query_one(DataTable)
        now = self.app.now()  # type: ignore[attr-defined]
        unseen = False
        for s in message.changes.sessions:
            if s.id in table.rows:
                cells = session_cells(s, now)
                for key, _label, _sort in self._columns():
                    table.update_cell(s.id, key, cells[key])
            elif s.id not in self.placed:
                unseen = True
        if unseen or message.changes.more:
            # A new session (or too many changes to apply): list again, keeping the cursor's
            # session; sessions the list still leaves out (filtered, or past the loaded
            # pages) are not asked about again.
            self.placed.update(s.id for s in message.changes.sessions)
            self.reload(keep=self.selected_id)

    @on(StoreRecovered)
    def _recovered(self) -> None:
        self.reload()

    # ------------------------------------------------------------ header
    def _describe(self) -> None:
        q = self.query_
        shown = f"{len(self.ids):,}" + (f" of {self.total:,}" if self.total is not None else "")
        title = Text.assemble(
            ("AgentLog", "bold"),
            f"  {shown} sessions   ",
            (self.app.source, "dim"),  # type: ignore[attr-defined]
            no_wrap=True,
            overflow="ellipsis",
        )
        self.query_one("#sessions-title", Static).update(title)
        parts = [f"sort: {q.sort} {'↓' if q.order == 'desc' else '↑'}"]
        if q.status:
            parts.append(f"status={q.status}")
        if q.tags:
            parts.append("tag=" + ",".join(q.tags))
        if q.agent:
            parts.append(f"agent={q.agent}")
        if q.since:
            parts.append(f"active since {render.stamp(q.since)}")
        if q.until:
            parts.append(f"created before {render.stamp(q.until)}")
        if q.text:
            parts.append(f"search {q.text!r}")
        self.query_one("#session-filters", Static).update(Text("  ·  ".join(parts), style="dim"))

    # ------------------------------------------------------------ actions
    @property
    def selected_id(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.ids[table.cursor_row] if table.cursor_row < len(self.ids) else None

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        if (sid := self.selected_id) is not None:
            self.app.open_session(sid)  # type: ignore[attr-defined]

    def action_move(self, delta: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=table.cursor_row + delta)

    def action_home(self) -> None:
        self.query_one(DataTable).move_cursor(row=0)

    def action_end(self) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=table.row_count - 1)

    def action_focus_search(self) -> None:
        self.query_one("#session-search", Input).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#session-search", Input)
        if search.value:
            search.value = ""
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#session-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.15, lambda: self._apply_search(event.value))

    @on(Input.Submitted, "#session-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._apply_search(event.value)
        self.query_one(DataTable).focus()

    def _apply_search(self, value: str) -> None:
        text = value.strip() or None
        if text != self.query_.text:
            self.query_ = replace(self.query_, text=text)
            self._describe()
            self.reload()

    @on(DataTable.HeaderSelected)
    def _header(self, event: DataTable.HeaderSelected) -> None:
        for key, _label, sort in COLUMNS:
            if key == event.column_key.value and sort:
                order = (
                    "asc" if self.query_.sort == sort and self.query_.order == "desc" else "desc"
                )
                self.query_ = replace(self.query_, sort=sort, order=order)
                self._describe()
                self.reload()

    def action_sort(self) -> None:
        i = SORTS.index(self.query_.sort) if self.query_.sort in SORTS else -1
        sort = SORTS[(i + 1) % len(SORTS)]
        self.query_ = replace(self.query_, sort=sort, order="asc" if sort == "title" else "desc")
        self._describe()
        self.reload()

    def action_reverse(self) -> None:
        self.query_ = replace(self.query_, order="asc" if self.query_.order == "desc" else "desc")
        self._describe()
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def action_filters(self) -> None:
        from agentlog.tui.screens.session_filters import SessionFilterDialog

        def apply(result: SessionQuery | None) -> None:
            if result is not None:
                self.query_ = replace(
                    result, text=self.query_.text, sort=self.query_.sort, order=self.query_.order
                )
                self._describe()
                self.reload()

        self.app.push_screen(SessionFilterDialog(self.query_), apply)

    def action_compare(self) -> None:
        if (sid := self.selected_id) is not None:
            self.app.compare_with(sid)  # type: ignore[attr-defined]

    def action_metrics(self) -> None:
        if (sid := self.selected_id) is not None:
            self.app.open_metrics(EventQuery(session_id=sid), "this session")  # type: ignore[attr-defined]
