"""One scenario: the error banner over a screen, quoting a message with control characters."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from agentlog.tui.widgets.banner import Banner


class BannerWidgetApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Banner()
        yield Static("the screen underneath")

    def on_mount(self) -> None:
        self.query_one(Banner).show(
            "⚠ cannot reach the AgentLog server at http://127.0.0.1:1/ [bold]x[/] — retrying every 2s"
        )
