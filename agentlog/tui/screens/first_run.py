"""Shown when the store is empty: how to get data in, then the sessions list as soon as there is some."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

from agentlog.storage.base import SessionQuery
from agentlog.tui.access import agentlog_app
from agentlog.tui.widgets.keybar import KeyBar

WELCOME = """Welcome to AgentLog

There are no sessions in this store yet.

  • Try it with sample data:     agentlog demo
  • Or log from your agent with the Python SDK:
        from agentlog import AgentLog

This screen checks for new sessions every few seconds and opens
the sessions list as soon as there is one. Press q to quit.
"""


class FirstRunScreen(Screen[None]):
    """An empty store: explains how to add data, and waits for it."""

    BINDINGS = [Binding("q", "app.quit", "Quit"), Binding("r", "check", "Check now")]

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(Text(WELCOME), id="welcome")
        yield KeyBar()

    def on_mount(self) -> None:
        interval = agentlog_app(self).poll_interval
        if interval:
            self.set_interval(interval, self.action_check)

    def action_check(self) -> None:
        self._check()

    @work(thread=True, exclusive=True)
    def _check(self) -> None:
        try:
            found = bool(agentlog_app(self).store.list_sessions(SessionQuery(limit=1)).items)
        except Exception:
            return  # the banner for store errors lives on the sessions screen
        if found:
            self.app.call_from_thread(self._found)

    def _found(self) -> None:
        for screen in self.app.screen_stack:
            if hasattr(screen, "reload") and screen is not self:
                screen.reload()
        self.dismiss()
