"""A recorded graph as the timeline shows it: each row's preview says what happened, not its JSON's first key."""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import EventType as T
from agentlog.present import headline
from tests.integrations.langgraph.graphs import add, lookup, react_model


def test_a_react_runs_rows_preview_answers_calls_and_messages(recorder):
    from langchain.agents import create_agent

    graph = create_agent(react_model("gpt-4o-mini"), [add, lookup])
    graph.invoke({"messages": [HumanMessage("add 1 and 2, and Oslo?")]}, recorder.config())
    rec = recorder.read()
    events = rec.of(rec.root)
    llm = [headline(e.content) for e in events if e.type == T.LLM_CALL]
    assert llm == [
        '→ add({"a":1,"b":2}), lookup({"city":"Oslo"})',
        "3, and sunny in Oslo",
    ]
    states = [headline(e.content) for e in events if e.type == T.STATE_UPDATE]
    assert states[0].startswith("assistant → add(")
    assert states[1].startswith("tool ")  # the tools node's newest message: a tool's answer
    assert states[-1] == "assistant: 3, and sunny in Oslo"

    shown = CliRunner().invoke(
        app, ["--db", recorder.path, "events", rec.root.id, "--type", "LLM_CALL"]
    )
    assert shown.exit_code == 0, shown.output
    assert '→ add({"a":1,"b":2})' in shown.stdout
    assert '"prompt"' not in shown.stdout
