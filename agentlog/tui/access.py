"""The typed way from a screen, widget or command provider to the AgentLog app that hosts it.

Textual types `self.app` as a plain `App`, so reaching `store`, `now()` or
`open_session()` through it needs a cast; this does it once, and checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from textual.app import App

if TYPE_CHECKING:
    from agentlog.tui.app import AgentLogApp


class _HasApp(Protocol):
    @property
    def app(self) -> App[object]: ...


def agentlog_app(node: _HasApp) -> AgentLogApp:
    """`node.app` as the AgentLogApp it is (a screen shown in any other app is a bug)."""
    from agentlog.tui.app import AgentLogApp  # loaded already: the app imports its screens lazily

    app = node.app
    if not isinstance(app, AgentLogApp):
        raise TypeError(f"{type(node).__name__} runs only inside AgentLogApp, not {type(app)}")
    return app
