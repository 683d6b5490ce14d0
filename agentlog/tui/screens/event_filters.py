"""Dialogs that narrow a timeline: type toggles (t) and the full filter form (f)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from agentlog.errors import AgentLogError
from agentlog.model import EventStatus, EventType
from agentlog.storage.base import EventQuery
from agentlog.timeparse import parse_time
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.messages import StoreFailed
from agentlog.tui.widgets.checklist import CheckList
from agentlog.tui.widgets.inputs import TextInput


@dataclass(frozen=True)
class EventFilter:
    """What the user chose to see; None means "no filter on this"."""

    types: frozenset[str] | None = None
    agents: frozenset[str] | None = None
    errors_only: bool = False
    since: datetime | None = None
    until: datetime | None = None
    since_text: str = ""
    until_text: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def apply(self, session_id: str) -> EventQuery:
        return EventQuery(
            session_id=session_id,
            types=[EventType(t) for t in sorted(self.types)] if self.types else None,
            agents=sorted(self.agents) if self.agents else None,
            status=EventStatus.ERROR if self.errors_only else None,
            since=self.since,
            until=self.until,
        )

    def describe(self) -> str:
        parts = []
        if self.types:
            parts.append(
                "type " + ",".join(render.TYPE_SHORT.get(t, t) for t in sorted(self.types))
            )
        if self.agents:
            parts.append("agent " + ",".join(sorted(self.agents)))
        if self.errors_only:
            parts.append("errors only")
        if self.since_text:
            parts.append(f"since {self.since_text}")
        if self.until_text:
            parts.append(f"until {self.until_text}")
        return " · ".join(parts)


def _label(name: str, n: int, style: str = "") -> Text:
    return Text.assemble((f"{name:<14}", style), (f"{n:>8,}", "dim"))


class _FilterBase(ModalScreen[EventFilter | None]):
    """Loads facet counts for the session in a worker, then fills the toggles."""

    def __init__(self, session_id: str, current: EventFilter) -> None:
        super().__init__()
        self.session_id = session_id
        self.current = current

    @work(thread=True, exclusive=True, group="facets")
    def _load_facets(self) -> None:
        try:
            facets = agentlog_app(self).store.facets(EventQuery(session_id=self.session_id))
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.app.call_from_thread(self._fill, facets)

    def _fill(self, facets: dict[str, dict[str, int]]) -> None:
        types = self.query_one("#f-types", SelectionList)
        types.clear_options()
        chosen = self.current.types
        for kind in EventType:
            n = facets.get("type", {}).get(kind.value, 0)
            icon, style = render.TYPE_ICONS[kind]
            types.add_option(
                Selection(
                    _label(f"{icon} {kind.value}", n, style),
                    kind.value,
                    chosen is None or kind.value in chosen,
                )
            )
        if types.option_count:
            types.highlighted = 0
        agents = self.query("#f-agents")
        if agents:
            box = agents.first(SelectionList)
            box.clear_options()
            for name, n in sorted(facets.get("agent", {}).items()):
                on_ = self.current.agents is None or name in self.current.agents
                box.add_option(
                    Selection(
                        _label(render.one_line(name, 14), n, render.agent_colour(name)), name, on_
                    )
                )
            if box.option_count:
                box.highlighted = 0  # else the first space does nothing, later ones land a row off

    def _selected(self, selector: str, every: int) -> frozenset[str] | None:
        chosen = frozenset(self.query_one(selector, SelectionList).selected)
        return None if len(chosen) in (0, every) else chosen

    def action_all(self) -> None:
        self.query_one("#f-types", SelectionList).select_all()

    def action_none(self) -> None:
        self.query_one("#f-types", SelectionList).deselect_all()

    def action_cancel(self) -> None:
        self.dismiss(None)


class TypeToggles(_FilterBase):
    """Event types on or off, with counts; space toggles, enter applies."""

    BINDINGS = [
        Binding("enter", "apply", "Apply", priority=True),
        Binding("a", "all", "All"),
        Binding("n", "none", "None"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Event types", classes="dialog-title")
            yield CheckList(id="f-types")
            yield Static(
                "space toggle · a all · n none · enter apply · esc cancel", classes="dialog-help"
            )

    def on_mount(self) -> None:
        self.query_one("#f-types", SelectionList).focus()
        self._load_facets()

    def action_apply(self) -> None:
        types = self._selected("#f-types", len(EventType))
        if types is None and not self.query_one("#f-types", SelectionList).selected:
            self.notify("Choose at least one type", severity="warning")
            return
        self.dismiss(EventFilter(**{**self.current.__dict__, "types": types}))


class EventFilterDialog(_FilterBase):
    """Types, agents, errors only and a time range (absolute or "last 5m")."""

    BINDINGS = [
        Binding("ctrl+s", "apply", "Apply", priority=True),
        Binding("ctrl+r", "clear", "Clear all"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Static("Filter events", classes="dialog-title")
            yield Label("Types (space toggles)")
            yield CheckList(id="f-types")
            yield Label("Agents")
            yield CheckList(id="f-agents")
            yield Checkbox("Errors only", self.current.errors_only, id="f-errors")
            yield Label("Since (5m = the last five minutes before the session's end, or ISO time)")
            yield TextInput(
                self.current.since_text, id="f-since", placeholder="e.g. 5m or 2026-01-15T10:00:00Z"
            )
            yield Label("Until")
            yield TextInput(
                self.current.until_text, id="f-until", placeholder="e.g. 2026-01-15T11:00:00Z"
            )
            yield Static("", id="f-error", classes="dialog-error")
            yield Static(
                "tab next field · ctrl+s or enter in a box apply · ctrl+r clear · esc cancel",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        self.query_one("#f-types", SelectionList).focus()
        self._load_facets()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    def action_apply(self) -> None:
        since_text = self.query_one("#f-since", Input).value.strip()
        until_text = self.query_one("#f-until", Input).value.strip()
        now = agentlog_app(self).session_clock(self.session_id)
        try:
            since = parse_time(since_text, "since", now=now) if since_text else None
            until = parse_time(until_text, "until", now=now) if until_text else None
        except AgentLogError as exc:
            self.query_one("#f-error", Static).update(exc.message)
            return
        if not self.query_one("#f-types", SelectionList).selected:
            self.query_one("#f-error", Static).update("choose at least one event type")
            return
        agents_box = self.query_one("#f-agents", SelectionList)
        agents = self._selected("#f-agents", agents_box.option_count)
        self.dismiss(
            EventFilter(
                types=self._selected("#f-types", len(EventType)),
                agents=agents,
                errors_only=self.query_one("#f-errors", Checkbox).value,
                since=since,
                until=until,
                since_text=since_text,
                until_text=until_text,
            )
        )

    def action_clear(self) -> None:
        self.dismiss(EventFilter())
