"""The home screen: every session in a table, searchable, filterable, sortable, loaded page by page."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

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
from agentlog.present import DEFAULT_STALE_AFTER, plural, session_state
from agentlog.storage.base import EventQuery, Order, SessionChanges, SessionQuery, SessionSort
from agentlog.storage.tree import TreeTotals, root_tree_totals
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.messages import StoreFailed, StoreRecovered
from agentlog.tui.widgets.banner import Banner
from agentlog.tui.widgets.inputs import TextInput
from agentlog.tui.widgets.keybar import KeyBar

PAGE = 100
PREFETCH_ROWS = 50  # start the next page half a page before the end, so scrolling rarely waits


@dataclass(frozen=True)
class Col:
    """A column of the sessions table: content width (None: shares what is left) and priority."""

    key: str
    header: str
    sort: SessionSort | None
    width: int | None
    priority: int  # narrow terminals drop the lowest first
    minimum: int = 0  # a shared-width column's least width
    maximum: int = 0
    right: bool = False


COLUMNS: list[Col] = [
    Col("status", "", None, 1, 10),
    Col("title", "Title", "title", None, 10, 24, 40),
    Col("agents", "Agents", None, None, 5, 12, 28),
    Col("events", "Events", "event_count", 6, 8, right=True),
    Col("errors", "Err", "error_count", 3, 7, right=True),
    Col("duration", "Duration", "duration_ms", 8, 6, right=True),
    Col("tokens", "Tokens", "input_tokens", 7, 3, right=True),
    Col("cost", "Cost", "cost_usd", 8, 4, right=True),
    Col("last", "Last activity", "last_event_at", 15, 9),
]
SORTS: list[SessionSort] = [c.sort for c in COLUMNS if c.sort]
SORT_LABELS: dict[str, str] = {str(c.sort): c.header.lower() for c in COLUMNS if c.sort} | {
    "input_tokens": "tokens",
    "created_at": "created",
    "updated_at": "updated",
    "output_tokens": "output tokens",
}
PADDING = 2  # DataTable's cell padding, one each side
CHROME = 2  # the vertical scrollbar


def fit_columns(width: int) -> dict[str, int]:
    """The columns that fit in `width`, by priority, and each one's content width (in order)."""
    room = width - CHROME
    keep: list[Col] = []
    for col in sorted(COLUMNS, key=lambda c: -c.priority):
        need = sum((c.width or c.minimum) + PADDING for c in [*keep, col])
        if need <= room:
            keep.append(col)
    sizes = {c.key: c.width or c.minimum for c in keep}
    spare = room - sum(v + PADDING for v in sizes.values())
    for col in keep:  # priority order: the title grows first
        if col.width is None and spare > 0:
            grow = min(spare, col.maximum - sizes[col.key])
            sizes[col.key] += grow
            spare -= grow
    if "title" in sizes and spare > 0:
        sizes["title"] += spare
    return {c.key: sizes[c.key] for c in COLUMNS if c.key in sizes}


@dataclass
class SessionsLoaded(Message):
    generation: int
    rows: list[SessionSummary]
    next_cursor: str | None
    append: bool
    total: int | None
    trees: dict[str, TreeTotals] = field(default_factory=dict)  # roots with child sessions


@dataclass
class Activity(Message):
    text: Text


@dataclass
class LiveChanges(Message):
    generation: int
    changes: SessionChanges
    activity: Text | None
    trees: dict[str, TreeTotals] | None = None  # the shown runs' totals, asked afresh


@dataclass
class StoreTotal(Message):
    generation: int
    total: int | None


@dataclass
class ChangeToken(Message):
    generation: int
    token: str


def session_cells(
    s: SessionSummary,
    now: datetime,
    widths: dict[str, int],
    *,
    depth: int = 0,
    orphan: bool = False,
    stale_after: timedelta | None = DEFAULT_STALE_AFTER,
    tree: TreeTotals | None = None,
) -> dict[str, Text]:
    """One row's cells, cut to the column widths; a child session is indented under its parent.

    A run with child sessions (`tree`) shows their tokens and cost added to its own, marked
    Σ: a LangGraph supervisor's own session made no model calls.
    """
    state = session_state(s, now, stale_after)
    icon, style = render.STATUS_STYLE.get(state, ("?", "white"))
    title_width = widths.get("title", 36)
    prefix = ("  " * (depth - 1) + "└ ") if depth else ("↳ " if orphan else "")
    title = Text(
        prefix + render.one_line(s.title or "(untitled)", 200),
        style="bold" if s.status == "failed" else ("dim" if state == "stale" else ""),
        no_wrap=True,
    )
    title.truncate(title_width, overflow="ellipsis")
    colours = render.agent_colours(s.agents)
    agents = Text(no_wrap=True, overflow="ellipsis")
    for i, agent in enumerate(s.agents):
        if i:
            agents.append(", ", style="dim")
        agents.append(render.one_line(agent, 30), style=colours.get(agent, ""))
    if not s.agents:
        agents.append("-", style="dim")
    agents.truncate(widths.get("agents", 28), overflow="ellipsis")
    return {
        "status": Text(icon, style=style),
        "title": title,
        "agents": agents,
        "events": Text(render.count(s.event_count), justify="right"),
        "errors": Text(
            str(s.error_count) if s.error_count else "-",
            style="bold red" if s.error_count else "dim",
            justify="right",
        ),
        "duration": Text(render.duration(s.duration_ms), justify="right"),
        "tokens": Text(
            f"Σ{render.count(tree.tokens)}"
            if tree
            else render.count(s.input_tokens + s.output_tokens),
            justify="right",
        ),
        "cost": Text(
            f"Σ{render.cost(tree.cost_usd)}" if tree else render.cost(s.cost_usd), justify="right"
        ),
        "last": Text(render.ago(s.last_event_at or s.updated_at, now), style="dim"),
    }


def nest(rows: list[SessionSummary]) -> list[tuple[SessionSummary, int, bool]]:
    """`rows` with each child session right under its parent: (row, depth, parent not shown)."""
    ids = {s.id for s in rows}
    children: dict[str, list[SessionSummary]] = {}
    for s in rows:
        if s.parent_session_id in ids and s.parent_session_id != s.id:
            children.setdefault(s.parent_session_id, []).append(s)
    out: list[tuple[SessionSummary, int, bool]] = []
    placed: set[str] = set()

    def add(s: SessionSummary, depth: int, orphan: bool) -> None:
        if s.id in placed:
            return
        placed.add(s.id)
        out.append((s, depth, orphan))
        for child in children.get(s.id, []):
            add(child, depth + 1, False)

    for s in rows:
        if s.parent_session_id not in ids or s.parent_session_id == s.id:
            add(s, 0, s.parent_session_id is not None)
    for s in rows:  # a cycle of parents: show them flat rather than lose them
        add(s, 0, True)
    return out


class SessionsScreen(Screen[None]):
    """Sessions, most recently active first: / searches, enter opens, m shows the whole store."""

    AUTO_FOCUS = None  # on_mount focuses the table

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "focus_search", "Search"),
        Binding("f", "filters", "Filters"),
        Binding("o", "sort", "Sort"),
        Binding("O", "reverse", "Reverse", show=False),
        Binding("c", "compare", "Compare"),
        Binding("m", "metrics", "Metrics (all)"),
        Binding("r", "reload", "Reload", show=False),
        Binding("y", "copy_id", "Copy session id", show=False),
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
        self.widths: dict[str, int] = {}
        self.built_sort: tuple[str, str] | None = None
        self.rows: dict[str, SessionSummary] = {}  # loaded, in the store's order
        self.depth: dict[str, tuple[int, bool]] = {}  # id -> (depth under its parent, orphan)
        self.store_total: int | None = None  # every session, to say "2 of 36" while filtering
        self.keep: str | None = None
        self.change_token: str | None = None  # from the store, for "what changed since"
        self.placed: set[str] = set()  # sessions a reload has already had the chance to show
        self.trees: dict[str, TreeTotals] = {}  # shown runs with child sessions: their sums

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

    def on_resize(self) -> None:
        self._fit(self.size.width)

    def _fit(self, width: int) -> None:
        """The columns that fit this width, by priority; a change rebuilds the table."""
        widths = fit_columns(width)
        if widths != self.widths:
            self.widths = widths
            self._build_columns()
            self._show_rows()

    def _build_columns(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        q = self.query_
        self.built_sort = (q.sort, q.order)
        for col in COLUMNS:
            if col.key not in self.widths:
                continue
            label = Text(col.header, justify="right" if col.right else "left")
            if col.sort and col.sort == q.sort:
                label = Text(col.header + (" ↓" if q.order == "desc" else " ↑"), style="bold")
            table.add_column(label, key=col.key, width=self.widths[col.key])

    def _cells(self, s: SessionSummary) -> dict[str, Text]:
        depth, orphan = self.depth.get(s.id, (0, False))
        return session_cells(
            s,
            agentlog_app(self).now(),
            self.widths,
            depth=depth,
            orphan=orphan,
            stale_after=agentlog_app(self).stale_after,
            tree=self.trees.get(s.id),
        )

    def _show_rows(self) -> None:
        """(Re)fill the table from the loaded rows, children under their parents, cursor kept."""
        table = self.query_one(DataTable)
        keep = self.keep or self.selected_id
        table.clear()
        self.ids = []
        self.depth = {}
        for s, depth, orphan in nest(list(self.rows.values())):
            self.depth[s.id] = (depth, orphan)
            cells = self._cells(s)
            table.add_row(*(cells[key] for key in self.widths), key=s.id)
            self.ids.append(s.id)
        if keep in self.ids:
            table.move_cursor(row=self.ids.index(keep), animate=False)
        self.keep = None

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._fit(self.app.size.width)  # the terminal's width: one build, not one per resize
        self.reload()
        self._describe()
        interval = agentlog_app(self).poll_interval
        if interval:
            self.set_interval(interval, self._poll)

    # ------------------------------------------------------------ loading
    def reload(self, keep: str | None = None) -> None:
        """List afresh from the first page; `keep` is a session id to leave the cursor on."""
        self.generation += 1
        self.next_cursor = None
        self.keep = keep
        if self.built_sort != (self.query_.sort, self.query_.order) and self.widths:
            self._build_columns()
        self._load(self.generation, replace(self.query_, cursor=None), append=False)

    @work(thread=True, exclusive=True, group="sessions")
    def _load(self, generation: int, query: SessionQuery, *, append: bool) -> None:
        try:
            if not append:  # the token first: nothing that changes during the listing is missed
                token = agentlog_app(self).store.changed_sessions().token
                self.post_message(ChangeToken(generation, token))
            store = agentlog_app(self).store
            page = store.list_sessions(query)
            trees = root_tree_totals(store, page.items)  # one query for the page
            total = None if append else store.count_sessions(replace(query, cursor=None))
            if not append:
                every = SessionQuery(limit=PAGE)
                filtered = replace(query, cursor=None, sort=every.sort, order=every.order) != every
                self.post_message(
                    StoreTotal(generation, store.count_sessions(every) if filtered else total)
                )
            activity = None if append else self._activity_text()
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        if get_current_worker().is_cancelled:
            return
        self.post_message(
            SessionsLoaded(generation, page.items, page.next_cursor, append, total, trees)
        )
        if activity is not None:
            self.post_message(Activity(activity))

    def _activity_text(self) -> Text:
        store = agentlog_app(self).store
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
            text.append(" " + render.one_line(ev.name or render.headline(ev.content) or "", 24))
        if not recent:
            text.append("no events yet", style="dim")
        return text

    @on(SessionsLoaded)
    def _loaded(self, message: SessionsLoaded) -> None:
        if message.generation != self.generation:
            return
        if not message.append:
            self.rows = {}
            self.trees = {}
            self.total = message.total
        self.trees.update(message.trees)
        for s in message.rows:
            self.rows.setdefault(s.id, s)
            self.placed.add(s.id)
        self.next_cursor = message.next_cursor
        self.loading_more = False
        self._show_rows()
        self._describe()
        if self._first_load:
            self._first_load = False
            if not message.rows and self.query_ == SessionQuery(limit=PAGE):
                agentlog_app(self).show_first_run()

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
        store = agentlog_app(self).store
        try:
            changes = store.changed_sessions(token)
            # The "Recent" line costs a second query, so only when something changed (a
            # real store's token moves on every call, so it cannot tell an idle poll).
            activity = self._activity_text() if changes.sessions else None
            trees = self._changed_trees(changes) if changes.sessions else None
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.post_message(LiveChanges(generation, changes, activity, trees))

    def _changed_trees(self, changes: SessionChanges) -> dict[str, TreeTotals] | None:
        """The shown runs' sums afresh when a child session changed (one query), else None."""
        if not any(s.parent_session_id for s in changes.sessions):
            return None
        rows = dict(self.rows)  # the UI thread may replace it meanwhile
        asked = set(self.trees) | {s.parent_session_id or s.id for s in changes.sessions}
        roots = [rows[sid] for sid in asked if sid in rows]
        return root_tree_totals(agentlog_app(self).store, roots)

    @on(StoreTotal)
    def _store_total(self, message: StoreTotal) -> None:
        if message.generation == self.generation:
            self.store_total = message.total
            self._describe()

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
        unseen = False
        if message.trees is not None:
            self.trees.update(message.trees)
            for sid in message.trees:
                if sid in table.rows and sid in self.rows:
                    cells = self._cells(self.rows[sid])
                    for key in self.widths:
                        table.update_cell(sid, key, cells[key])
        for s in message.changes.sessions:
            if s.id in table.rows:
                self.rows[s.id] = s
                cells = self._cells(s)
                for key in self.widths:
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
        if self.total is None:
            shown = ""
        elif self.store_total is not None and self.store_total != self.total:
            shown = f"{self.total:,} of {plural(self.store_total, 'session')}"
        else:
            shown = plural(self.total, "session")
        if self.total is not None and len(self.rows) < self.total:
            shown += f" ({len(self.rows):,} loaded)"
        title = Text.assemble(
            ("AgentLog", "bold"),
            f"  {shown}   ",
            (agentlog_app(self).source, "dim"),
            no_wrap=True,
            overflow="ellipsis",
        )
        self.query_one("#sessions-title", Static).update(title)
        label = SORT_LABELS.get(q.sort, q.sort)
        parts = [f"sort: {label} {'↓' if q.order == 'desc' else '↑'}"]
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
            agentlog_app(self).open_session(sid)

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
        for col in COLUMNS:
            key, sort = col.key, col.sort
            if key == event.column_key.value and sort:
                order: Order = (
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

    def action_copy_id(self) -> None:
        if (sid := self.selected_id) is not None:
            self.app.copy_to_clipboard(sid)
            self.notify(f"Copied session id {sid}")

    def action_compare(self) -> None:
        if (sid := self.selected_id) is not None:
            agentlog_app(self).compare_with(sid)

    def action_metrics(self) -> None:
        """The whole store: agents, errors and cost over time (a session's own is `m` on it)."""
        agentlog_app(self).open_metrics(EventQuery(), "every session", store_wide=True)
