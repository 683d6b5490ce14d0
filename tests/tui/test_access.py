"""`agentlog_app`: the typed way from a screen to its AgentLogApp, refusing any other app."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from textual.app import App

from agentlog.tui.access import agentlog_app
from agentlog.tui.app import AgentLogApp, make_app


def test_gives_the_agentlog_app_and_refuses_another(sqlite_store) -> None:
    app = make_app(sqlite_store, poll_interval=None)
    assert isinstance(app, AgentLogApp)
    assert agentlog_app(SimpleNamespace(app=app)) is app
    with pytest.raises(TypeError, match="only inside AgentLogApp"):
        agentlog_app(SimpleNamespace(app=App()))
