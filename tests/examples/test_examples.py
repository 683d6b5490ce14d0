"""Every example runs offline as a user would run it, and leaves what its README says in the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentlog.model import EventType as T
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _run(args: list[str], db: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, AGENTLOG_DB=str(db))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, **kwargs)


def _example(name: str, db: Path) -> str:
    done = _run([sys.executable, str(EXAMPLES / name / "main.py"), "--db", str(db)], db)
    assert done.returncode == 0, done.stderr
    assert "agentlog" in done.stdout and "tui" in done.stdout  # it says where to look
    return done.stdout


def _read(db: Path):
    store = open_store(str(db))
    try:
        sessions = store.list_sessions(SessionQuery(limit=100)).items
        return {
            s.title: (s, store.list_events(EventQuery(session_id=s.id, limit=1000)).items)
            for s in sessions
        }
    finally:
        store.close()


def _types(events) -> list[T]:
    return [e.type for e in events]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "examples.db"


def test_langgraph_basic(db):
    out = _example("langgraph_basic", db)
    assert "migration 0042" in out
    ((session, events),) = _read(db).values()
    assert session.title == "deploy_helper" and session.status.value == "completed"
    types = _types(events)
    assert types.count(T.LLM_CALL) == 3 and types.count(T.TOOL_RESULT) == 2
    assert sum(e.input_tokens or 0 for e in events) == 180 + 260 + 340
    assert all(e.cost_usd for e in events if e.type == T.LLM_CALL)


def test_langgraph_multi_agent(db):
    _example("langgraph_multi_agent", db)
    sessions = _read(db)
    root, root_events = sessions["research_supervisor"]
    assert {t for t, (s, _) in sessions.items() if s.parent_session_id == root.id} == {
        "supervisor",
        "research_expert",
        "math_expert",
    }
    handoffs = [e for e in root_events if e.type == T.HANDOFF]
    assert [h.metadata["to_agent"] for h in handoffs] == [
        "research_expert",
        "supervisor",
        "math_expert",
        "supervisor",
    ]
    assert handoffs[0].metadata["child_session_id"] == sessions["research_expert"][0].id
    assert not any(e.type == T.ERROR for _, events in sessions.values() for e in events)
    worker_events = sessions["math_expert"][1]
    (result,) = [e for e in worker_events if e.type == T.TOOL_RESULT]
    assert result.content == "231317.0"


def test_langgraph_mcp(db):
    out = _example("langgraph_mcp", db)
    assert "66.2" in out
    sessions = _read(db)
    _, events = sessions["weather_agent"]
    by_id = {e.id: e for e in events}
    sent = [
        e
        for e in events
        if e.type == T.MCP_MESSAGE
        and e.name == "tools/call"
        and e.metadata["direction"] == "client->server"
    ]
    assert len(sent) == 3
    assert all(by_id[e.parent_id].type == T.TOOL_CALL for e in sent)


def test_error_handling(db):
    out = _example("error_handling", db)
    assert "arrives on Friday" in out
    sessions = _read(db)
    root, events = sessions["support_desk"]
    assert root.status.value == "completed"  # recovered
    retries = [e for e in events if e.type == T.STATE_UPDATE and e.name == "fetch_report"]
    assert [e.status.value for e in retries] == ["error", "error", "ok"]
    assert sum(e.type == T.ERROR for e in events) == 2
    _, agent_events = sessions["support_agent"]
    (handled,) = [e for e in agent_events if e.type == T.ERROR]
    assert handled.metadata == {"handled": True}


def test_basic_sdk(db):
    _example("basic_sdk", db)
    sessions = _read(db)
    _, events = sessions["support triage"]
    assert T.HANDOFF in _types(events) and T.TOOL_RESULT in _types(events)
    child, _ = sessions["on-call follow-up"]
    assert child.parent_session_id == sessions["support triage"][0].id


def test_ci_script(db):
    done = _run(["bash", str(EXAMPLES / "ci_script" / "ci.sh")], db)
    assert done.returncode == 1  # one eval case fails on purpose; the job fails with it
    ((session, events),) = _read(db).values()
    assert session.title == "nightly eval" and "ci" in session.tags
    assert any(e.type == T.LOG and "FAIL order_status" in (e.content or "") for e in events)
    results = [e for e in events if e.metadata.get("suite") == "smoke"]  # from log --stdin
    assert sorted((e.name, e.status.value) for e in results) == [
        ("order_status", "error"),
        ("refund_policy", "ok"),
        ("shipping_eu", "ok"),
    ]
    exits = [e for e in events if e.type == T.ERROR and e.name == "exit"]  # from agentlog run
    assert len(exits) == 1


def test_ci_gate_is_green_on_the_baseline_and_red_on_a_regression(tmp_path: Path) -> None:
    env = dict(os.environ, AGENTLOG_HOME=str(tmp_path / "home"), GATE_OUT=str(tmp_path))
    env.pop("AGENTLOG_DB", None)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    gate = ["bash", str(EXAMPLES / "ci_gate" / "gate.sh")]
    green = subprocess.run(gate, env=env, capture_output=True, text=True, timeout=120)
    assert green.returncode == 0, green.stdout + green.stderr
    assert "all 6 rule(s) hold" in green.stderr
    assert not (tmp_path / "failed-run.ndjson.gz").exists()
    red = subprocess.run(
        gate, env={**env, "AGENT_PROMPT_V2": "1"}, capture_output=True, text=True, timeout=120
    )
    assert red.returncode == 1, red.stdout + red.stderr
    assert "FAIL divergence: the runs diverge at step 4" in red.stdout
    assert "FAIL cost+10%: cost rose 242%" in red.stdout
    assert (tmp_path / "failed-run.ndjson.gz").exists()
    assert 'failures="3"' in (tmp_path / "gate.xml").read_text()


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("langgraph_basic", "examples"),
        ("langgraph_multi_agent", "examples"),
        ("error_handling", "examples"),
        ("langgraph_mcp", "examples,mcp"),
    ],
)
def test_an_example_missing_its_extra_says_what_to_install(name, extra, db):
    """With `agentlog[langgraph]` alone (no langchain), one line names the install command."""
    script = str(EXAMPLES / name / "main.py")
    # An import finder that answers for langchain as Python does where it is not installed.
    hide = f"""
import runpy, sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "langchain":
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

sys.meta_path.insert(0, NotInstalled())
sys.argv = [{script!r}]
runpy.run_path({script!r}, run_name="__main__")
"""
    done = _run([sys.executable, "-c", hide], db)
    assert done.returncode == 1 and done.stdout == ""
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line == (
        f"This example needs langchain, which is not installed: pip install 'agentlog[{extra}]'"
    )
