"""The timeline of one session: the virtual event list, its filters and search, and the detail pane."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from agentlog.errors import NotFound
from agentlog.model import Event, SessionSummary
from agentlog.present import plural, session_state, sub_sessions
from agentlog.storage.base import EventQuery, SessionQuery, event_key
from agentlog.storage.tree import TreeTotals, session_tree_totals
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.messages import (
    EventSelected,
    SearchDone,
    StoreFailed,
    StoreRecovered,
    TimelineCounts,
)
from agentlog.tui.screens.event_filters import EventFilter, EventFilterDialog, TypeToggles
from agentlog.tui.widgets.banner import Banner
from agentlog.tui.widgets.detail import EventDetail, MetadataTree
from agentlog.tui.widgets.inputs import TextInput
from agentlog.tui.widgets.keybar import KeyBar
from agentlog.tui.widgets.timeline import EventTimeline


@dataclass
class SessionLoaded(Message):
    session: SessionSummary


@dataclass
class TreeLoaded(Message):
    """The totals of the session and every sub-session below it."""

    totals: TreeTotals


@dataclass
class JumpTarget(Message):
    """An event to move to (a parent or child), or why there is none."""

    event: Event | None
    note: str = ""


def _spend(tokens: int, cached: int, cost_usd: float) -> str:
    """`1,234 tok (800 cached)  $0.0123`: what a session (or a tree of them) spent."""
    text = f"{render.count(tokens)} tok"
    if cached:
        text += f" ({render.count(cached)} cached)"
    return f"{text}  {render.cost(cost_usd)}"


class TimelineScreen(Screen[None]):
    """Every event of a session in order; filters, search, detail, follow, jumps."""

    AUTO_FOCUS = "EventTimeline"  # the list, never the side panes, takes the keys first

    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Prev match", show=False),
        Binding("f", "filters", "Filters"),
        Binding("t", "types", "Types"),
        Binding("enter", "detail", "Detail", show=False),
        Binding("p", "parent", "Parent"),
        Binding("P", "children", "Children", show=False),
        Binding("s", "child_sessions", "Sub-sessions", show=False),
        Binding("u", "parent_session", "Parent session", show=False),
        Binding("c", "compare", "Compare"),
        Binding("e", "export", "Export"),
        Binding("m", "metrics", "Metrics"),
        Binding("l", "follow", "Follow"),
        Binding("r", "relative", "Rel/abs time", show=False),
        Binding("a", "lanes", "Agent lanes", show=False),
        Binding("ctrl+r", "clear_filters", "Clear filters", show=False),
        Binding("y", "copy_id", "Copy event id", show=False),
        Binding("Y", "copy_session_id", "Copy session id", show=False),
        Binding("v", "view('pager')", "View event in $PAGER", show=False),
        Binding("E", "view('editor')", "Open event in $EDITOR", show=False),
        Binding("escape,q", "back", "Back"),
    ]

    def __init__(self, session_id: str, select: tuple[int, str] | None = None) -> None:
        super().__init__()
        self.session_id = session_id
        self.select = select  # (timestamp_us, id) of the event to open at
        self.session: SessionSummary | None = None
        # The session with its sub-sessions (`tree` is taken: DOMNode.tree), once walked.
        self.tree_totals: TreeTotals | None = None
        self.filter = EventFilter()
        self.total = 0
        self._children_of: str | None = None
        self._children: list[tuple[int, str]] = []
        self._child_index = -1

    def compose(self) -> ComposeResult:
        yield Static(id="session-head", classes="title-bar")
        yield Banner()
        yield Static(id="timeline-status", classes="filter-line")
        with Horizontal(id="timeline-body"):
            yield EventTimeline(agentlog_app(self).store, id="timeline")
            yield EventDetail(id="detail")
        yield TextInput(
            placeholder="Search this session (enter to find, esc to cancel)", id="timeline-search"
        )
        yield KeyBar()

    @property
    def timeline(self) -> EventTimeline:
        return self.query_one(EventTimeline)

    def on_mount(self) -> None:
        self.query_one("#timeline-search").display = False
        self.timeline.focus()
        self._load_session()
        self.timeline.load(self.filter.apply(self.session_id), anchor=self.select)
        interval = agentlog_app(self).poll_interval
        if interval:
            self.set_interval(interval, self._poll)
        self._status()

    def on_resize(self) -> None:
        self.set_class(self.size.width < 100, "-narrow")

    # ------------------------------------------------------------ session header
    @work(thread=True, exclusive=True, group="session-head")
    def _load_session(self) -> None:
        store = agentlog_app(self).store
        try:
            session = store.get_session(self.session_id)
            self.post_message(SessionLoaded(session))
            # Then the sub-sessions' totals (a walk of the tree, bounded): the header shows
            # the session's own line first and the previous totals until these arrive.
            totals = session_tree_totals(store, session)
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.post_message(TreeLoaded(totals))

    @on(SessionLoaded)
    def _session_loaded(self, message: SessionLoaded) -> None:
        first = self.session is None
        self.session = s = message.session
        timeline = self.timeline
        if first and s.status == "active" and self.select is None:
            # A live session opens tailing its newest events, like `tail -f`.
            timeline.follow = True
            self._status()
        if timeline.session_start != s.first_event_at:
            timeline.session_start = s.first_event_at
            timeline.refresh()
            if timeline.selected is not None:
                # The detail may have been drawn before the session arrived: redraw its offset.
                self.query_one(EventDetail).show(
                    timeline.selected, timeline.session_start, timeline.search_term
                )
        timeline.set_agents(s.agents)
        self._show_head()

    @on(TreeLoaded)
    def _tree_loaded(self, message: TreeLoaded) -> None:
        self.tree_totals = message.totals
        self._show_head()

    def _show_head(self) -> None:
        s, timeline = self.session, self.timeline
        if s is None:
            return
        state = session_state(s, agentlog_app(self).now(), agentlog_app(self).stale_after)
        icon, style = render.STATUS_STYLE.get(state, ("?", "white"))
        # Two lines, so neither the agents nor the way up to the parent is ever cut off
        # (nor, on a session with sub-sessions, what the whole tree spent).
        title = Text()
        if s.parent_session_id:  # first, so a long title is what gets cut, never the way up
            title.append("↑ sub-session (u: parent)  ", style="dim")
        title.append_text(
            Text.assemble(
                (f"{icon} ", style),
                (render.one_line(s.title or "(untitled)", 80), "bold"),
                "  ",
                (state, style),
            )
        )
        title.no_wrap, title.overflow = True, "ellipsis"
        facts = Text()
        tree = self.tree_totals
        if tree is not None and tree.sub_sessions:
            # First of all: a supervisor's own session holds the hand-offs, its workers'
            # sub-sessions hold the model calls; its own count alone would read 0 tok.
            facts.append(f"with {sub_sessions(tree.sub_sessions, tree.complete)}: ", style="dim")
            facts.append(_spend(tree.tokens, tree.cache_read_tokens, tree.cost_usd), style="bold")
            if tree.errors:
                facts.append("  " + plural(tree.errors, "error"), style="red")
            facts.append("  ")
        if s.agents:  # then: on a narrow screen the counts give way, never the agents
            facts.append("agents: ", style="dim")
            for i, agent in enumerate(s.agents):
                facts.append(", " if i else "", style="dim")
                facts.append(render.one_line(agent, 20), style=timeline.colour_of(agent))
            facts.append("  ")
        facts.append_text(
            Text.assemble(
                (plural(s.event_count, "event"), ""),
                "  ",
                (
                    plural(s.error_count, "error") if s.error_count else "no errors",
                    "red" if s.error_count else "dim",
                ),
                "  ",
                (render.duration(s.duration_ms), "cyan"),
                "  ",
                (_spend(s.input_tokens + s.output_tokens, s.cache_read_tokens, s.cost_usd), "dim"),
            )
        )
        facts.no_wrap, facts.overflow = True, "ellipsis"
        head = Text("\n").join([title, facts])
        head.no_wrap, head.overflow = True, "ellipsis"  # each line is cut, never wrapped
        self.query_one("#session-head", Static).update(head)

    def _poll(self) -> None:
        if self.session is None or self.session.status == "active":
            self._load_session()
            self.timeline.poll()

    @on(StoreRecovered)
    def _recovered(self) -> None:
        self._load_session()
        self.timeline.load(self.filter.apply(self.session_id), anchor=self._selected_key())

    # ------------------------------------------------------------ status line
    @on(TimelineCounts)
    def _counts(self, message: TimelineCounts) -> None:
        self.total = message.total
        self._status()

    def _status(self) -> None:
        t = self.timeline
        parts = [Text(plural(self.total, "event"), style="bold")]
        if described := self.filter.describe():
            parts.append(Text(f"filter: {described}", style="yellow"))
        if t.search_term:
            if t.matches:
                at = bisect.bisect_left(t.matches, t.cursor_row)
                pos = at + 1 if at < len(t.matches) and t.matches[at] == t.cursor_row else 0
                where = (
                    f"{pos}/{len(t.matches)}"
                    if pos
                    else f"{len(t.matches)} match" + ("es" if len(t.matches) > 1 else "")
                )
                parts.append(Text(f"search {t.search_term!r}: {where}  (n/N)", style="cyan"))
            else:
                parts.append(Text(f"search {t.search_term!r}: no matches", style="red"))
        if t.follow:
            parts.append(Text("● following", style="bold green"))
        if t.lanes:
            lanes = Text("lanes: ")
            for i, agent in enumerate(t.lanes):
                lanes.append(
                    ("," if i else "") + render.one_line(agent, 16),
                    style=t.colour_of(agent),
                )
            parts.append(lanes)
        parts.append(Text("time: " + ("relative" if t.relative else "UTC"), style="dim"))
        line = Text("  ·  ").join(parts)
        line.no_wrap, line.overflow = True, "ellipsis"
        self.query_one("#timeline-status", Static).update(line)

    # ------------------------------------------------------------ selection → detail
    @on(EventSelected)
    def _selected(self, message: EventSelected) -> None:
        detail = self.query_one(EventDetail)
        if message.event is None and not self.timeline.keys and not self.timeline.fetching_keys:
            detail.show_empty()
            return
        detail.show(message.event, self.timeline.session_start, self.timeline.search_term)
        self._status()

    def _selected_key(self) -> tuple[int, str] | None:
        event = self.timeline.selected
        return event_key(event) if event else None

    # ------------------------------------------------------------ search
    def action_search(self) -> None:
        box = self.query_one("#timeline-search", Input)
        box.display = True
        box.value = self.timeline.search_term or ""
        box.focus()

    @on(Input.Submitted, "#timeline-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#timeline-search", Input)
        box.display = False
        self.timeline.focus()
        self.timeline.search(event.value.strip() or None)
        self._status()

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        t = self.timeline
        if t.matches and t.cursor_row not in t._match_set:
            t.next_match(1)
        elif not t.matches:
            self.notify(f"No events match {message.term!r} in this view", severity="warning")
        self._status()

    def action_next_match(self) -> None:
        if not self.timeline.next_match(1) and self.timeline.search_term:
            self.notify("No matches", severity="warning")
        self._status()

    def action_previous_match(self) -> None:
        self.timeline.next_match(-1)
        self._status()

    # ------------------------------------------------------------ filters
    def _apply_filter(self, result: EventFilter | None) -> None:
        if result is None:
            return
        self.filter = result
        self.timeline.load(result.apply(self.session_id), anchor=self._selected_key())
        self._status()

    def action_filters(self) -> None:
        self.app.push_screen(EventFilterDialog(self.session_id, self.filter), self._apply_filter)

    def action_types(self) -> None:
        self.app.push_screen(TypeToggles(self.session_id, self.filter), self._apply_filter)

    def action_clear_filters(self) -> None:
        self._apply_filter(EventFilter())

    # ------------------------------------------------------------ detail
    def action_detail(self) -> None:
        """Enter: move into the detail pane (the metadata tree if there is one)."""
        detail = self.query_one(EventDetail)
        tree = detail.query_one(MetadataTree)
        if self.focused is self.timeline:
            if tree.display and not tree.has_class("-hidden"):
                tree.focus()
            else:
                detail.focus()
        else:
            self.timeline.focus()

    def action_back(self) -> None:
        box = self.query_one("#timeline-search", Input)
        if box.display:
            box.display = False
        if self.focused is not self.timeline and self.focused is not None:
            self.timeline.focus()
            return
        self.app.pop_screen()

    # ------------------------------------------------------------ jumps
    def action_parent(self) -> None:
        event = self.timeline.selected
        if event is None:
            return
        if not event.parent_id:
            self.notify("This event has no parent event", severity="warning")
            return
        self._fetch_event(event.parent_id)

    @work(thread=True, exclusive=True, group="jump")
    def _fetch_event(self, event_id: str) -> None:
        try:
            event = agentlog_app(self).store.get_event(event_id)
        except NotFound:
            self.post_message(JumpTarget(None, "The parent event is not in the store"))
            return
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.post_message(JumpTarget(event))

    @on(JumpTarget)
    def _jump(self, message: JumpTarget) -> None:
        event = message.event
        if event is None:
            self.notify(message.note, severity="warning")
            return
        key = event_key(event)
        if event.session_id != self.session_id:
            agentlog_app(self).open_session(event.session_id, select=key)
            return
        self._show_key(key)

    def _show_key(self, key: tuple[int, str]) -> None:
        """Move to the event `key`; if the filter hides it, clear the filter first."""
        self.timeline.focus()
        if self.timeline.select_key(key):
            return
        self.notify("The filter hid that event; showing all events")
        self.filter = EventFilter()
        self.timeline.load(self.filter.apply(self.session_id), anchor=key)
        self._status()

    def action_children(self) -> None:
        event = self.timeline.selected
        if event is None:
            return
        if self._children_of == event.id and self._children:
            self._cycle_child()
            return
        self._load_children(event.id)

    @work(thread=True, exclusive=True, group="jump")
    def _load_children(self, event_id: str) -> None:
        try:
            keys = agentlog_app(self).store.event_keys(
                EventQuery(session_id=self.session_id, parent_id=event_id)
            )
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.app.call_from_thread(self._children_loaded, event_id, keys)

    def _children_loaded(self, event_id: str, keys: list[tuple[int, str]]) -> None:
        if not keys:
            self.notify("No events point at this one", severity="warning")
            return
        self._children_of = event_id
        self._children = keys
        self._child_index = -1
        self._cycle_child()

    def _cycle_child(self) -> None:
        self._child_index = (self._child_index + 1) % len(self._children)
        self._show_key(self._children[self._child_index])
        self.notify(f"Child {self._child_index + 1} of {len(self._children)} (P for the next)")

    def action_child_sessions(self) -> None:
        from agentlog.tui.screens.pickers import SessionPicker

        def chosen(session_id: str | None) -> None:
            if session_id:
                agentlog_app(self).open_session(session_id)

        self.app.push_screen(
            SessionPicker(
                "Sub-sessions", SessionQuery(parent_session_id=self.session_id, limit=200)
            ),
            chosen,
        )

    def action_parent_session(self) -> None:
        if self.session and self.session.parent_session_id:
            agentlog_app(self).open_session(self.session.parent_session_id)
        else:
            self.notify("This session has no parent session", severity="warning")

    # ------------------------------------------------------------ hand-offs to other tools
    def action_copy_id(self) -> None:
        event = self.timeline.selected
        if event is None:
            self.notify("No event selected", severity="warning")
            return
        self.app.copy_to_clipboard(event.id)
        self.notify(f"Copied event id {event.id}")

    def action_copy_session_id(self) -> None:
        self.app.copy_to_clipboard(self.session_id)
        self.notify(f"Copied session id {self.session_id}")

    def action_view(self, kind: str) -> None:
        from agentlog.tui.external import open_in

        event = self.timeline.selected
        if event is None:
            self.notify("No event selected", severity="warning")
            return
        problem = open_in(self.app, event, kind)
        if problem:
            self.notify(problem, severity="error")

    # ------------------------------------------------------------ other screens
    def action_compare(self) -> None:
        agentlog_app(self).compare_with(self.session_id)

    def action_metrics(self) -> None:
        name = render.one_line(self.session.title, 60) if self.session else ""
        title = (name or "(untitled session)") + (
            f" ({self.filter.describe()})" if self.filter.describe() else ""
        )
        agentlog_app(self).open_metrics(self.filter.apply(self.session_id), title)

    def action_export(self) -> None:
        from agentlog.tui.screens.export import ExportDialog

        self.app.push_screen(
            ExportDialog(
                self.session_id,
                self.session,
                self.filter.apply(self.session_id),
                bool(self.filter.describe()),
            )
        )

    def action_follow(self) -> None:
        t = self.timeline
        t.follow = not t.follow
        if t.follow:
            t.poll()
        self._status()

    def action_lanes(self) -> None:
        """Group by agent: a lane per agent (up to 8), each event on its agent's lane."""
        t = self.timeline
        agents = tuple(self.session.agents[:8]) if self.session else ()
        if t.lanes or not agents:
            t.lanes = None
            if not agents:
                self.notify("No agents recorded in this session", severity="warning")
        else:
            t.lanes = agents
        t.refresh()
        self._status()

    def action_relative(self) -> None:
        self.timeline.relative = not self.timeline.relative
        self.timeline.refresh()
        self._status()
