"""Dialog: pick a session from a list (sub-sessions, or the other side of a comparison)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from agentlog.model import SessionSummary
from agentlog.storage.base import SessionQuery
from agentlog.tui import render
from agentlog.tui.messages import StoreFailed


def session_option(s: SessionSummary) -> Option:
    icon, style = render.STATUS_STYLE.get(s.status, ("?", "white"))
    label = Text.assemble(
        (f"{icon} ", style),
        (render.one_line(s.title or "(untitled)", 50), "bold"),
        ("  " + render.one_line(", ".join(s.agents[:2]), 30), "dim"),
        (f"  {render.count(s.event_count)} events", "dim"),
        (f"  {s.error_count} errors" if s.error_count else "", "red"),
    )
    return Option(label, id=s.id)


class SessionPicker(ModalScreen[str | None]):
    """Sessions matching `query` (optionally re-ordered); enter picks, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        query: SessionQuery,
        *,
        exclude: str | None = None,
        rank: Callable[[SessionSummary], object] | None = None,
        fallback: SessionQuery | None = None,
    ) -> None:
        super().__init__()
        self.title_ = title
        self.query_ = query
        self.exclude = exclude
        self.rank = rank
        self.fallback = fallback

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(self.title_, classes="dialog-title")
            yield OptionList(id="picker")
            yield Static("loading…", id="picker-note", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    @work(thread=True, exclusive=True)
    def _load(self) -> None:
        store = self.app.store  # type: ignore[attr-defined]
        try:
            rows = [s for s in store.list_sessions(self.query_).items if s.id != self.exclude]
            if not rows and self.fallback is not None:
                rows = [s for s in store.list_sessions(self.fallback).items if s.id != self.exclude]
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        if self.rank is not None:
            rows.sort(key=self.rank)  # type: ignore[arg-type]
        self.app.call_from_thread(self._fill, rows)

    def _fill(self, rows: list[SessionSummary]) -> None:
        options = self.query_one(OptionList)
        options.add_options([session_option(s) for s in rows])
        if rows:
            options.highlighted = 0
        note = (
            f"{len(rows)} sessions · enter choose · esc cancel"
            if rows
            else "No sessions to choose from · esc"
        )
        self.query_one("#picker-note", Static).update(note)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
