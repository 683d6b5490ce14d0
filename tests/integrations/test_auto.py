"""`agentlog.instrument()` finds the installed frameworks and records them; the env var does it on import."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("langgraph")

import agentlog
from agentlog.model import EventType as T
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery

EXAMPLE_SERVER = Path(__file__).resolve().parents[2] / "examples" / "langgraph_mcp" / "server.py"


@pytest.fixture
def instrumented(tmp_path):
    from mcp import Client

    db = tmp_path / "auto.db"
    log = agentlog.AgentLog(db)
    original = Client.__post_init__
    report = agentlog.instrument(log=log)
    yield log, db, report
    from agentlog.integrations import langgraph
    from agentlog.integrations.openai_agents import processor

    langgraph.uninstrument()
    Client.__post_init__ = original
    if processor._installed is not None:
        from agents import set_trace_processors

        set_trace_processors([])
        processor._installed = None
    log.close()


def test_instrument_reports_every_framework(instrumented):
    _, _, report = instrumented
    assert report["langgraph"].startswith("every run")
    assert report["mcp"].startswith("every mcp.Client")
    assert set(report) == {"langgraph", "mcp", "openai-agents", "autogen"}
    assert report["autogen"].startswith("skipped")


def test_graphs_and_mcp_clients_are_recorded_without_code_changes(instrumented):
    from mcp import Client, StdioServerParameters

    from tests.integrations.langgraph.graphs import fan_out_graph

    log, db, _ = instrumented
    fan_out_graph().invoke({"n": 0, "trail": []})

    async def talk():
        async with Client(
            StdioServerParameters(command=sys.executable, args=[str(EXAMPLE_SERVER)])
        ) as c:
            return await c.call_tool("to_fahrenheit", {"celsius": 100})

    assert asyncio.run(talk()).content[0].text == "212.0"
    assert log.flush(10)
    store = open_store(str(db))
    try:
        sessions = {s.title: s for s in store.list_sessions(SessionQuery()).items}
        graph_events = store.list_events(EventQuery(session_id=sessions["LangGraph"].id)).items
        assert sum(e.type == T.STATE_UPDATE for e in graph_events) == 4
        assert "MCP client" in sessions, list(sessions)
        mcp_events = store.list_events(EventQuery(session_id=sessions["MCP client"].id)).items
        assert any(e.type == T.TOOL_RESULT and e.name == "to_fahrenheit" for e in mcp_events)
    finally:
        store.close()


def test_the_environment_variable_instruments_on_import(tmp_path):
    code = (
        "import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
        "import agentlog\n"
        "from agentlog.integrations.langgraph.process_hook import active\n"
        "print('active', active() is not None)\n"
    )
    env = dict(os.environ, AGENTLOG_AUTO_INSTRUMENT="1", AGENTLOG_DB=str(tmp_path / "x.db"))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "active True" in done.stdout
    assert "instrument(): langgraph: every run" in done.stdout
