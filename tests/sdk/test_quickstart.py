"""examples/quickstart.py runs offline and leaves a complete session in the local store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from agentlog.config import default_db_path
from agentlog.model import EventType
from agentlog.storage import EventQuery, SessionQuery, open_store

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_example_runs(agentlog_home):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    session_id = out.stdout.split()[2]
    assert f"agentlog events {session_id}" in out.stdout
    store = open_store(str(default_db_path()))
    try:
        row = store.get_session(session_id)
        assert row.title == "triage bot" and row.status == "completed"
        assert row.input_tokens == 812
        types = [e.type for e in store.list_events(EventQuery(session_id=session_id))]
        assert types.count(EventType.TOOL_CALL) == 2 and types.count(EventType.TOOL_RESULT) == 2
        assert EventType.HANDOFF in types and EventType.LLM_CALL in types
        (child,) = store.list_sessions(SessionQuery(parent_session_id=session_id)).items
        assert child.agents == ["researcher"] and child.event_count == 1
    finally:
        store.close()


def test_readme_sdk_snippet_leaves_no_session_active(agentlog_home):
    """The README's "Log from your agent" block, run as written, ends every session it starts."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Log from your agent")
    code = readme[start:].split("```python\n", 1)[1].split("```", 1)[0]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    store = open_store(str(default_db_path()))
    try:
        sessions = store.list_sessions(SessionQuery()).items
        assert sorted(s.title for s in sessions) == ["researcher", "triage bot"]
        assert {s.status for s in sessions} == {"completed"}
        (child,) = [s for s in sessions if s.parent_session_id]
        assert child.agents == ["researcher"] and child.event_count == 1
    finally:
        store.close()
