"""The session timeline: a virtualised line-API list that scales to millions of events.

It holds only the cheap ordering keys of the current query (timestamp, id) and
an LRU of pages of event bodies fetched by keyset around the viewport, never a
widget per event. `render_line` never blocks: a missing body renders as a
placeholder and a thread worker fetches its page, then posts `PageLoaded`.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import replace
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import Click
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from agentlog.errors import NotFound
from agentlog.model import Event, from_us
from agentlog.present import event_name
from agentlog.storage.base import EventQuery, Store, event_cursor, event_key
from agentlog.storage.follow import Follower
from agentlog.tui import render
from agentlog.tui.messages import (
    EventSelected,
    KeysAdded,
    KeysLoaded,
    PageLoaded,
    SearchDone,
    StoreFailed,
    TimelineCounts,
)

# Workers get a fixed `description`: by default Textual reprs every argument,
# and a repr of 100,000 keys costs tens of milliseconds per page fetch.
PAGE = 200  # events per keyset page; big enough for a screen, small enough to fetch fast
MAX_PAGES = 40  # pages of bodies kept (8,000 events): memory stays bounded on any store


def row_of_key(keys: list[tuple[int, str]], key: tuple[int, str]) -> int | None:
    """The row of `key` in the sorted `keys` (a bisection: no id → row map is kept)."""
    row = bisect.bisect_left(keys, key)
    return row if row < len(keys) and keys[row] == key else None


class EventTimeline(ScrollView, can_focus=True):
    """Events of one query in (timestamp, id) order, one line each, with a cursor."""

    DEFAULT_CSS = """
    EventTimeline {
        background: $surface;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    EventTimeline > .timeline--cursor { background: $accent 40%; }
    EventTimeline:focus > .timeline--cursor { background: $accent; color: $text; }
    EventTimeline > .timeline--match { background: $warning 25%; }
    EventTimeline > .timeline--placeholder { color: $text-muted; }
    EventTimeline > .timeline--empty { color: $text-muted; }
    """

    COMPONENT_CLASSES = {
        "timeline--cursor",
        "timeline--match",
        "timeline--placeholder",
        "timeline--empty",
    }

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False),
        Binding("k,up", "cursor(-1)", "Up", show=False),
        Binding("g,home", "top", "Top", show=False),
        Binding("G,end", "bottom", "End", show=False),
        Binding("pagedown,ctrl+f,space", "page(1)", "Page down", show=False),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True)
    follow: reactive[bool] = reactive(False)
    relative: reactive[bool] = reactive(True)

    def __init__(self, store: Store, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.query_: EventQuery | None = None
        self.keys: list[tuple[int, str]] = []
        self.pages: LRUCache[int, list[Event]] = LRUCache(MAX_PAGES)
        self._pending: set[int] = set()
        self._strips: LRUCache[tuple, Strip] = LRUCache(2000)
        self.generation = 0
        self.fetching_keys = True
        self.partial = False  # the keys are only the first page's, the rest on their way
        self.session_start: datetime | None = None
        # Agent lanes (grouping by agent): one column per agent, the event's own marked.
        self.lanes: tuple[str, ...] | None = None
        # The session's agents, each in a colour distinct from the others (set by the screen).
        self.palette: tuple[tuple[str, str], ...] = ()
        self.agent_width = 0  # the agent column's width; 0 hides it (no agents)
        self.search_term: str | None = None
        self.matches: list[int] = []
        self._match_set: set[int] = set()
        self._window_scheduled = False
        self._want_selected = True
        self._follower: tuple[int, Follower] | None = None  # (generation, its follower)
        self._follow_lock = threading.Lock()

    # ------------------------------------------------------------ loading
    def load(
        self,
        query: EventQuery,
        *,
        anchor: tuple[int, str] | None = None,
        anchor_end: bool = False,
    ) -> None:
        """Show `query`: load its keys, keep the cursor at or near the key `anchor` (or the end)."""
        self.generation += 1
        self.query_ = replace(query, order="asc", cursor=None, limit=PAGE)
        anchor_key = anchor
        self.partial = False
        self.fetching_keys = True
        self._load_keys(self.generation, self.query_, anchor_key, anchor_end)

    @work(thread=True, exclusive=True, group="timeline-keys", description="load keys")
    def _load_keys(
        self,
        generation: int,
        query: EventQuery,
        anchor_key: tuple[int, str] | None,
        anchor_end: bool,
    ) -> None:
        try:
            if anchor_key is None and not anchor_end:
                # Opening at the top: paint the first page before the keys of a long
                # session arrive (a few ms instead of a scan of every key).
                first = self.store.list_events(self._page_query(query, [], 0)).items
                provisional = [event_key(e) for e in first]
                self.post_message(KeysLoaded(generation, provisional, 0, 0, first, partial=True))
            keys = self.store.event_keys(query)
            if anchor_end:
                anchor = max(len(keys) - 1, 0)
            elif anchor_key is None:
                anchor = 0
            else:
                anchor = min(bisect.bisect_left(keys, anchor_key), max(len(keys) - 1, 0))
            page = anchor // PAGE
            events = self.store.list_events(self._page_query(query, keys, page)) if keys else None
        except NotFound as exc:  # no such session (any more): an empty view, and a note saying why
            self.post_message(KeysLoaded(generation, [], 0, 0, []))
            self.post_message(StoreFailed(exc))
            return
        except Exception as exc:  # any store failure becomes a banner, never a crash
            self.post_message(StoreFailed(exc))
            return
        if get_current_worker().is_cancelled:
            return
        self.post_message(
            KeysLoaded(generation, keys, anchor, page, events.items if events else [])
        )

    @staticmethod
    def _page_query(query: EventQuery, keys: list[tuple[int, str]], page: int) -> EventQuery:
        if page == 0:
            return replace(query, limit=PAGE, cursor=None)
        ts, eid = keys[page * PAGE - 1]
        return replace(query, limit=PAGE, cursor=event_cursor(query, ts, eid))

    @on(KeysLoaded)
    def _keys_loaded(self, message: KeysLoaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        follows_partial = self.partial and not message.partial
        self.partial = message.partial
        self.keys = message.keys
        if not follows_partial:  # after a first page the same query's bodies stay valid
            self.pages.clear()
            self._pending.clear()
            self._strips.clear()
        self.matches = []
        self._match_set = set()
        if message.events:
            self.pages[message.page] = message.events
        self.fetching_keys = message.partial
        self.virtual_size = Size(self.size.width, len(self.keys))
        self._want_selected = True
        if self.follow:
            if not message.partial:  # tailing: the newest event, once all keys are known
                self.cursor_row = len(self.keys) - 1
        elif follows_partial:
            self.cursor_row = self.cursor_row  # keep where the user already moved
        else:
            self.cursor_row = message.anchor_row
        if message.partial:
            self.refresh()
            return
        self.post_message(TimelineCounts(len(self.keys)))
        if self.search_term:
            self.search(self.search_term)
        self.refresh()

    def _ensure_window(self) -> None:
        """Fetch the pages of the visible rows (and one page either side) if missing."""
        self._window_scheduled = False
        if not self.keys or self.query_ is None:
            return
        top = int(self.scroll_y)
        first = max(top - PAGE // 2, 0) // PAGE
        last = min(top + self.size.height + PAGE // 2, len(self.keys) - 1) // PAGE
        wanted = [
            p for p in range(first, last + 1) if p not in self.pages and p not in self._pending
        ]
        if wanted:
            self._pending.update(wanted)
            self._fetch_pages(self.generation, self.query_, self.keys, wanted)

    @work(thread=True, group="timeline-pages", description="fetch pages")
    def _fetch_pages(
        self, generation: int, query: EventQuery, keys: list[tuple[int, str]], pages: list[int]
    ) -> None:
        for page in pages:
            try:
                items = self.store.list_events(self._page_query(query, keys, page)).items
            except Exception as exc:
                self.post_message(StoreFailed(exc))
                self.post_message(PageLoaded(generation, page, []))
                return
            self.post_message(PageLoaded(generation, page, items))

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        self._pending.discard(message.page)
        if message.generation != self.generation or not message.events:
            return
        if not self._page_fits(message.page, message.events):
            self._schedule_window()  # fetched before late events moved the rows: fetch again
            return
        self.pages[message.page] = message.events
        self.refresh()
        if self._want_selected and self.cursor_row // PAGE == message.page:
            self._post_selected()

    def _page_fits(self, page: int, events: list[Event]) -> bool:
        """Whether `events` are still the rows of `page` (keys may have moved since the fetch)."""
        first = page * PAGE
        rows = self.keys[first : first + PAGE]
        return len(rows) == len(events) and (
            event_key(events[0]) == rows[0] and event_key(events[-1]) == rows[-1]
        )

    # ------------------------------------------------------------ live follow
    def poll(self) -> None:
        """Look for events stored since the last poll (live follow of an active session).

        The finding is `agentlog.storage.follow.Follower`, as in `agentlog tail`: an
        event stored late but stamped before the newest one shown (a timed tool call
        is stamped at its start) is found too, and takes its place in time order.
        """
        if self.query_ is None or self.fetching_keys:
            return
        started = self._follower is not None and self._follower[0] == self.generation
        self._poll_new(self.generation, self.query_, None if started else list(self.keys))

    @work(thread=True, exclusive=True, group="timeline-poll", description="poll")
    def _poll_new(
        self, generation: int, query: EventQuery, shown: list[tuple[int, str]] | None
    ) -> None:
        with self._follow_lock:  # a cancelled worker still runs: one follower step at a time
            try:
                current = self._follower
                if current is None or current[0] != generation:
                    # Start following, and catch up on what was stored between
                    # loading this view's keys and now.
                    follower = Follower(self.store, query)
                    have = set(shown or ())
                    found = [k for k in follower.start() if k not in have]
                    self._follower = (generation, follower)
                else:
                    found = [event_key(e) for e in current[1].poll()]
            except Exception as exc:
                self.post_message(StoreFailed(exc))
                return
        if found:
            self.post_message(KeysAdded(generation, found))

    @on(KeysAdded)
    def _keys_added(self, message: KeysAdded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        new = sorted({k for k in message.keys if row_of_key(self.keys, k) is None})
        if not new:
            return
        start = len(self.keys)
        if not self.keys or new[0] > self.keys[-1]:
            if start % PAGE:
                self.pages.discard(start // PAGE)  # the last page was partial; fetch it again
            self.keys.extend(new)
        else:
            # Stored late, stamped earlier: it goes in its place in time order; the
            # pages from there on hold other rows now, and the cursor stays on its event.
            first = bisect.bisect_left(self.keys, new[0])
            at_cursor = self.keys[self.cursor_row] if self.cursor_row < start else None
            self.keys = sorted(self.keys + new)  # two sorted runs: a linear merge
            for page in list(self.pages.keys()):
                if page >= first // PAGE:
                    self.pages.discard(page)
            self._pending = {p for p in self._pending if p < first // PAGE}
            self._strips.clear()
            if at_cursor is not None and not self.follow:
                self.cursor_row = bisect.bisect_left(self.keys, at_cursor)
            if self.search_term:
                self.search(self.search_term)
        self.virtual_size = Size(self.size.width, len(self.keys))
        self.post_message(TimelineCounts(len(self.keys)))
        if self.follow:
            self.cursor_row = len(self.keys) - 1
        self._schedule_window()
        self.refresh()

    def watch_follow(self, follow: bool) -> None:
        if follow and self.keys:
            self.cursor_row = len(self.keys) - 1

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value < old_value and self.follow:
            self.follow = False  # scrolling away from the tail stops following
        self._schedule_window()

    # ------------------------------------------------------------ search
    def search(self, term: str | None) -> None:
        """Find `term` in this view; the matches are highlighted and n/N walk them."""
        self.search_term = term or None
        self._strips.clear()
        if not term or self.query_ is None:
            self.matches = []
            self._match_set = set()
            self.refresh()
            return
        self._search(self.generation, self.query_, term, self.keys)

    @work(thread=True, exclusive=True, group="timeline-search", description="search")
    def _search(
        self, generation: int, query: EventQuery, term: str, keys: list[tuple[int, str]]
    ) -> None:
        try:
            found = self.store.event_keys(replace(query, text=term))
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        rows = [row for key in found if (row := row_of_key(keys, key)) is not None]
        self.post_message(SearchDone(generation, term, rows))

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        if message.generation != self.generation or message.term != self.search_term:
            message.stop()
            return
        self.matches = message.rows
        self._match_set = set(message.rows)
        self._strips.clear()
        self.refresh()

    def next_match(self, direction: int = 1) -> bool:
        """Move the cursor to the next (1) or previous (-1) match; False when there is none."""
        if not self.matches:
            return False
        if direction > 0:
            i = bisect.bisect_right(self.matches, self.cursor_row)
            row = self.matches[i % len(self.matches)]
        else:
            i = bisect.bisect_left(self.matches, self.cursor_row) - 1
            row = self.matches[i % len(self.matches)]
        self.cursor_row = row
        return True

    # ------------------------------------------------------------ cursor
    def event_at(self, row: int) -> Event | None:
        page = self.pages.get(row // PAGE)
        if page is None:
            return None
        i = row % PAGE
        return page[i] if i < len(page) else None

    @property
    def selected(self) -> Event | None:
        return self.event_at(self.cursor_row) if self.keys else None

    def select_key(self, key: tuple[int, str]) -> bool:
        """Put the cursor on the event with this (timestamp_us, id) if this view shows it."""
        row = row_of_key(self.keys, key)
        if row is None:
            return False
        self.cursor_row = row
        return True

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self.keys) - 1)) if self.keys else 0

    def watch_cursor_row(self, old: int, row: int) -> None:
        if self.keys:
            self.scroll_to_region(Region(0, row, 1, 1), animate=False, force=True, immediate=True)
            if self.follow and row < len(self.keys) - 1:
                self.follow = False
        self._want_selected = True
        self._schedule_window()
        self._post_selected()
        self.refresh()

    def _post_selected(self) -> None:
        event = self.selected
        if event is not None:
            self._want_selected = False
        self.post_message(EventSelected(self.cursor_row, event))

    def action_cursor(self, delta: int) -> None:
        self.cursor_row += delta

    def action_top(self) -> None:
        self.cursor_row = 0

    def action_bottom(self) -> None:
        self.cursor_row = len(self.keys) - 1

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * max(self.size.height - 1, 1)

    @on(Click)
    def _clicked(self, event: Click) -> None:
        row = int(self.scroll_y) + event.y
        if 0 <= row < len(self.keys):
            self.cursor_row = row

    # ------------------------------------------------------------ rendering
    def _schedule_window(self) -> None:
        if not self._window_scheduled:
            self._window_scheduled = True
            self.call_after_refresh(self._ensure_window)

    def on_resize(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self.keys))

    def render_line(self, y: int) -> Strip:
        row = int(self.scroll_y) + y
        width = self.size.width
        if row >= len(self.keys):
            if row == 0:
                note = "loading…" if self.fetching_keys else "no events match this view"
                style = self.get_component_rich_style("timeline--empty")
                return Strip(
                    [*Text(f"  {note}", style=style).render(self.app.console)]
                ).crop_extend(0, width, None)
            return Strip.blank(width)
        event = self.event_at(row)
        cursor = row == self.cursor_row
        match = row in self._match_set
        key = (
            row,
            event.id if event else None,
            width,
            cursor,
            cursor and self.has_focus,
            match,
            self.search_term,
            self.relative,
            self.session_start,
            self.lanes,
            self.palette,
        )
        strip = self._strips.get(key)
        if strip is not None:
            return strip
        if event is None:
            self._schedule_window()
            ts = from_us(self.keys[row][0])
            text = Text.assemble(
                (f" {render.clock(ts):<12} ", "dim"),
                ("…", self.get_component_rich_style("timeline--placeholder")),
            )
        else:
            text = self._line_text(event, width)
        base: Style | None = None
        if cursor:
            base = self.get_component_rich_style("timeline--cursor")
        elif match:
            base = self.get_component_rich_style("timeline--match")
        if base is not None:
            text.stylize(base)
        strip = Strip([*text.render(self.app.console)]).crop_extend(0, width, base)
        self._strips[key] = strip  # a placeholder's key has no event id: the body replaces it
        return strip

    def set_agents(self, agents: list[str]) -> None:
        """The session's agents: distinct colours, and an agent column as wide as their names."""
        palette = tuple(render.agent_colours(agents).items())
        agent_width = min(max((len(a) for a in agents), default=0), 14)
        if (palette, agent_width) != (self.palette, self.agent_width):
            self.palette, self.agent_width = palette, agent_width
            self._strips.clear()
            self.refresh()

    def colour_of(self, agent: str | None) -> str:
        for name, colour in self.palette:
            if name == agent:
                return colour
        return render.agent_colour(agent)

    def _line_text(self, event: Event, width: int) -> Text:
        when = (
            render.offset(event.timestamp, self.session_start)
            if self.relative
            else render.clock(event.timestamp)
        )
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("✖" if event.status == "error" else " ", style="bold red")
        text.append(f"{when:<12} ", style="dim")
        if self.lanes:
            for lane in self.lanes:
                if lane == event.agent_id:
                    text.append("● ", style=self.colour_of(lane))
                else:
                    text.append("│ ", style="bright_black")
        text.append_text(render.type_label(event.type))
        text.append(" ")
        if self.agent_width and not self.lanes:
            # Lanes already say whose row it is; otherwise a column, as wide as the names need.
            aw = self.agent_width if width >= 70 else min(self.agent_width, 8)
            agent = render.one_line(event.agent_id, 40)
            text.append(
                f"{agent:<{aw}.{aw}} ",
                style=self.colour_of(event.agent_id),
            )
        name = render.one_line(event_name(event), 40)
        name_w = 20 if width >= 100 else 14
        text.append(f"{name:<{name_w}.{name_w}} ", style="bold")
        if width >= 90:
            text.append(f"{render.duration(event.duration_ms):>7} ", style="cyan")
        body = Text(render.one_line(render.headline(event.content), max(width, 40)))
        render.highlight(body, self.search_term)
        text.append_text(body)
        return text
