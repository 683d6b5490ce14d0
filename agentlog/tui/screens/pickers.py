"""Dialog: pick a session from a list (sub-sessions, or the other side of a comparison)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from agentlog.model import SessionSummary
from agentlog.present import plural
from agentlog.storage.base import SessionQuery
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.messages import StoreFailed
from agentlog.tui.widgets.inputs import TextInput


def session_option(s: SessionSummary) -> Option:
    icon, style = render.STATUS_STYLE.get(s.status, ("?", "white"))
    label = Text.assemble(
        (f"{icon} ", style),
        (render.one_line(s.title or "(untitled)", 50), "bold"),
        ("  " + render.one_line(", ".join(s.agents[:2]), 30), "dim"),
        (f"  {plural(s.event_count, 'event')}", "dim"),
        (f"  {plural(s.error_count, 'error')}" if s.error_count else "", "red"),
        ("  ↻ replay" if s.metadata.get("replay_of") else "", "magenta"),
    )
    return Option(label, id=s.id)


class SessionPicker(ModalScreen[str | None]):
    """Sessions matching `query` (best first), then the rest; type to search, enter picks."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "to_list", "To the list", show=False),
    ]

    def __init__(
        self,
        title: str,
        query: SessionQuery,
        *,
        exclude: str | None = None,
        rank: Callable[[SessionSummary], tuple[Any, ...]] | None = None,
        fallback: SessionQuery | None = None,
        pinned: SessionQuery | None = None,
    ) -> None:
        """`pinned`: sessions listed first, in their own order (a session's replays)."""
        super().__init__()
        self.pinned = pinned
        self.title_ = title
        self.query_ = query
        self.exclude = exclude
        self.rank = rank
        self.fallback = fallback

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(self.title_, classes="dialog-title")
            yield TextInput(placeholder="type to search titles", id="picker-search")
            yield OptionList(id="picker")
            yield Static("loading…", id="picker-note", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one("#picker-search", Input).focus()
        self._load(None)

    @on(Input.Changed, "#picker-search")
    def _search(self, event: Input.Changed) -> None:
        self._load(event.value.strip() or None)

    @on(Input.Submitted, "#picker-search")
    def _submitted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.dismiss(option.id)

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    @work(thread=True, exclusive=True)
    def _load(self, text: str | None) -> None:
        store = agentlog_app(self).store
        try:
            if text is None:
                best = [s for s in store.list_sessions(self.query_).items if s.id != self.exclude]
                if self.rank is not None:
                    best.sort(key=self.rank)
                rest: list[SessionSummary] = []
                if self.fallback is not None:
                    seen = {s.id for s in best} | {self.exclude}
                    rest = [s for s in store.list_sessions(self.fallback).items if s.id not in seen]
                rows = best + rest
                if self.pinned is not None:
                    first = [
                        s for s in store.list_sessions(self.pinned).items if s.id != self.exclude
                    ]
                    ids = {s.id for s in first}
                    rows = first + [s for s in rows if s.id not in ids]
            else:
                found = store.list_sessions(replace(self.fallback or self.query_, text=text))
                rows = [s for s in found.items if s.id != self.exclude]
                if self.rank is not None:
                    rows.sort(key=self.rank)
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.app.call_from_thread(self._fill, rows, text)

    def _fill(self, rows: list[SessionSummary], text: str | None) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([session_option(s) for s in rows])
        if rows:
            options.highlighted = 0
        if rows:
            note = f"{plural(len(rows), 'session')} · ↓ to the list · enter choose · esc cancel"
        elif text:
            note = f"No session title matches {text!r} · esc"
        else:
            note = "No sessions to choose from · esc"
        self.query_one("#picker-note", Static).update(note)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
