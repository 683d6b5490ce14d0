"""Fixtures every test gets: an isolated AgentLog home and no inherited server settings."""

from __future__ import annotations

import pytest

_INHERITED = (
    "AGENTLOG_SERVER",
    "AGENTLOG_API_KEY",
    "AGENTLOG_SESSION_ID",
    "AGENTLOG_AGENT_ID",
    "AGENTLOG_DB",
)


@pytest.fixture(autouse=True)
def agentlog_home(tmp_path_factory, monkeypatch):
    """Point AGENTLOG_HOME at a fresh folder so no test touches real user data."""
    home = tmp_path_factory.mktemp("agentlog-home")
    monkeypatch.setenv("AGENTLOG_HOME", str(home))
    for name in _INHERITED:
        monkeypatch.delenv(name, raising=False)
    return home
