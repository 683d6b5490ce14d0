"""`--fork-at`: the record up to a model call, then the live model; and the replay_of link."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentlog import AgentLog
from agentlog.cli.app import app
from agentlog.replay.llm_server import Replay, ReplayServer
from agentlog.replay.recorded import recorded_calls
from agentlog.storage import open_store
from agentlog.storage.base import SessionQuery
from tests.replay.test_llm_server import (
    QUESTION,
    TOOL_REPLY,
    agent,
    lookup_order,
    record_original,
)

openai = pytest.importorskip("openai")

SECOND = [
    *QUESTION,
    TOOL_REPLY,
    {"role": "tool", "tool_call_id": "call_1", "content": lookup_order(1042)},
]
CHANGED = {"role": "assistant", "content": "No: it was bought more than 30 days ago."}


def _serve(replay: Replay) -> tuple[ReplayServer, threading.Thread]:
    server = ReplayServer(replay, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def live_model(tmp_path: Path) -> Iterator[ReplayServer]:
    """The "real" model the fork goes live against: a loopback OpenAI-compatible endpoint
    that answers the second call differently from the recording."""
    db = tmp_path / "live.db"
    log = AgentLog(str(db))
    with log.session("the live model's answers") as s:
        s.llm_call(
            model="gpt-4o", prompt=SECOND, response=CHANGED, input_tokens=70, output_tokens=9
        )
        sid = s.id
    log.close()
    with open_store(str(db)) as store:
        server, _thread = _serve(Replay(recorded_calls(store, sid)))
    yield server
    server.shutdown()
    server.server_close()


def test_fork_at_answers_from_the_record_then_from_the_live_model(tmp_path, live_model) -> None:
    db = tmp_path / "a.db"
    original = record_original(db)
    with open_store(str(db)) as store:
        replay = Replay(recorded_calls(store, original), fork_at=2, upstream=live_model.url)
    server, _thread = _serve(replay)
    try:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-real", max_retries=0)
        log = AgentLog(str(db))
        assert agent(client, log, QUESTION) == CHANGED["content"]
        log.close()
    finally:
        server.shutdown()
        server.server_close()
    assert replay.position == 2 and replay.live_calls == 1 and replay.divergences == []
    assert replay.forked == f"forked at model call 2: 1 call(s) answered live by {live_model.url}"
    assert live_model.replay.position == 1  # the live model got exactly the second call


def test_a_live_model_that_does_not_answer_is_a_502_that_says_so(tmp_path) -> None:
    db = tmp_path / "a.db"
    original = record_original(db)
    with open_store(str(db)) as store:
        replay = Replay(recorded_calls(store, original), fork_at=1, upstream="http://127.0.0.1:9")
    server, _ = _serve(replay)
    try:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-real", max_retries=0)
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(model="gpt-4o", messages=QUESTION)
        assert info.value.status_code == 502
        assert "the live model at http://127.0.0.1:9 did not answer" in str(info.value)
    finally:
        server.shutdown()
        server.server_close()


AGENT_SCRIPT = """
import os, sys
sys.path.insert(0, {root!r})
import openai
from agentlog import AgentLog
from tests.replay.test_llm_server import QUESTION, agent
client = openai.OpenAI(max_retries=0)  # base URL and key from the environment
log = AgentLog(os.environ["AGENT_DB"])
print(agent(client, log, QUESTION))
log.close()
"""


def test_replay_llm_runs_the_agent_and_links_its_session(tmp_path, live_model) -> None:
    db = tmp_path / "a.db"
    original = record_original(db)
    script = tmp_path / "agent.py"
    script.write_text(AGENT_SCRIPT.format(root=str(Path(__file__).resolve().parents[2])))
    env = {**os.environ, "AGENT_DB": str(db), "OPENAI_API_KEY": "sk-real"}
    env.pop("AGENTLOG_REPLAY_OF", None)
    done = subprocess.run(
        [
            sys.executable, "-m", "agentlog", "--db", str(db), "replay", "llm", original,
            "--port", "0", "--fork-at", "2", "--upstream", live_model.url,
            "--", sys.executable, str(script),
        ],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert CHANGED["content"] in done.stdout
    assert "answered 1 of 2 recorded call(s)" in done.stderr
    assert "forked at model call 2" in done.stderr
    with open_store(str(db)) as store:
        (replayed,) = store.list_sessions(SessionQuery(replay_of=original)).items
    assert replayed.metadata["replay_of"] == original
    assert replayed.metadata["replay_fork_at"] == 2

    runner = CliRunner()
    listed = runner.invoke(app, ["--db", str(db), "sessions", "list", "--replay-of", original])
    assert listed.exit_code == 0 and replayed.id[:8] in listed.stdout
    shown = runner.invoke(app, ["--db", str(db), "sessions", "show", replayed.id])
    assert f"{original} (forked at model call 2)" in " ".join(shown.stdout.split())
    compared = runner.invoke(app, ["--db", str(db), "compare", original])  # RUN = its replay
    assert compared.exit_code == 0, compared.output
    assert replayed.id[:8] in compared.stdout


def test_compare_without_run_and_no_replay_says_how_to_record_one(tmp_path) -> None:
    db = tmp_path / "a.db"
    original = record_original(db)
    result = CliRunner().invoke(app, ["--db", str(db), "compare", original])
    assert result.exit_code == 2
    assert f"agentlog replay llm {original} -- CMD" in result.output


def test_fork_at_without_upstream_is_a_usage_error(tmp_path) -> None:
    db = tmp_path / "a.db"
    original = record_original(db)
    result = CliRunner().invoke(app, ["--db", str(db), "replay", "llm", original, "--fork-at", "2"])
    assert result.exit_code == 2
    assert "--fork-at needs --upstream URL" in result.output
    too_far = CliRunner().invoke(
        app,
        ["--db", str(db), "replay", "llm", original, "--fork-at", "9", "--upstream", "http://x"],
    )
    assert too_far.exit_code == 2 and "has 2 model call(s); fork at 1..3" in too_far.output


def test_a_replayed_runs_root_session_records_the_link(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AGENTLOG_REPLAY_OF", "0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B")
    monkeypatch.setenv("AGENTLOG_REPLAY_FORK_AT", "3")
    log = AgentLog(str(tmp_path / "b.db"))
    with log.session("re-run") as s, s.child("worker") as child:
        root, sub = s.id, child.id
    log.close()
    with open_store(str(tmp_path / "b.db")) as store:
        meta = store.get_session(root).metadata
        assert meta["replay_of"] == "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
        assert meta["replay_fork_at"] == 3
        assert "replay_of" not in store.get_session(sub).metadata  # only the run's root
    monkeypatch.setenv("AGENTLOG_REPLAY_OF", "not an id")
    log = AgentLog(str(tmp_path / "c.db"))
    with log.session("bad link") as s:
        bad = s.id
    log.close()
    with open_store(str(tmp_path / "c.db")) as store:
        assert "replay_of" not in store.get_session(bad).metadata
