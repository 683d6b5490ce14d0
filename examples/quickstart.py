"""Quick start: log one small agent run with the AgentLog SDK, offline, into the local store.

python examples/quickstart.py
agentlog sessions list
agentlog events <session id printed below>
"""

from __future__ import annotations

import time

from agentlog import AgentLog

log = AgentLog()  # the local SQLite store (AGENTLOG_HOME, or your user data folder)


@log.tool
def search_logs(query: str) -> dict:
    """A stand-in tool: a real agent would call an API here."""
    time.sleep(0.01)
    return {"query": query, "hits": 3, "first": "migration 0042 timed out after 30s"}


with log.session("triage bot", tags=["example"], agent_id="planner") as s:
    question = s.user_input("why did the deploy fail?")
    s.llm_call(
        model="gpt-4o",
        prompt="Plan how to find out why the deploy failed.",
        response="Search the deploy logs for errors, then explain.",
        input_tokens=812,
        output_tokens=96,
        cost_usd=0.0031,
        duration_ms=840,
        parent_id=question,
    )
    found = search_logs("deploy error")  # traced as a TOOL_CALL + TOOL_RESULT
    with s.tool_call("read_file", {"path": "migrations/0042.sql"}) as call:
        call.result("ALTER TABLE events ADD COLUMN ...")
    researcher = s.child("researcher")
    s.handoff(to_agent="researcher", child_session_id=researcher.id)
    with researcher:
        researcher.agent_output("Migration 0042 locks the events table; run it off-peak.")
    s.agent_output(f"The deploy failed: {found['first']}.")

log.flush()
print(f"logged session {s.id} to {log.url}")
print(f"next: agentlog events {s.id}")
