"""Agent ids when the caller gives none, and the module-level default log."""

from __future__ import annotations

import subprocess
import sys

import agentlog
from agentlog.sdk import client
from agentlog.sdk.identity import process_name, resolve_agent_id


def test_agent_id_fallback_chain(make_log, fake, monkeypatch):
    monkeypatch.setenv("AGENTLOG_AGENT_ID", "from-env")
    log = make_log(store=fake)
    with log.session("chain", agent_id="session-agent") as s:
        a = s.log("session default")
        b = s.log("explicit", agent_id="explicit")
    with log.session("env") as env_session:
        c = env_session.log("env default")
    log.flush(5)
    assert fake.events[a].agent_id == "session-agent"
    assert fake.events[b].agent_id == "explicit"
    assert fake.events[c].agent_id == "from-env"


def test_log_default_agent_beats_the_environment(make_log, fake, monkeypatch):
    monkeypatch.setenv("AGENTLOG_AGENT_ID", "from-env")
    log = make_log(store=fake, agent_id="log-default")
    with log.session("x") as s:
        eid = s.log("hi")
    log.flush(5)
    assert fake.events[eid].agent_id == "log-default"


def test_process_name_is_the_last_resort(make_log, fake):
    log = make_log(store=fake)
    with log.session("x") as s:
        eid = s.log("hi")
    log.flush(5)
    assert fake.events[eid].agent_id == process_name() != ""
    assert resolve_agent_id(None, "") == process_name()


def test_process_name_of_a_script(tmp_path):
    script = tmp_path / "my_agent.py"
    script.write_text("from agentlog.sdk.identity import process_name\nprint(process_name())\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "my_agent"


def test_module_level_default(monkeypatch, fake):
    monkeypatch.setattr(client, "_default", None)
    log = client.AgentLog(store=fake, flush_interval=0.05)
    monkeypatch.setattr(client, "_default", log)

    @agentlog.tool
    def double(x):
        return 2 * x

    with agentlog.session("module default", agent_id="m") as s:
        assert agentlog.current_session() is s
        double(4)
    assert agentlog.current_session() is None
    assert agentlog.flush(5)
    assert fake.sessions[s.id].title == "module default"
    assert [e.name for e in fake.ordered(s.id)] == ["double", "double"]
    log.close()


def test_batching_settings_come_from_the_environment(monkeypatch, fake):
    monkeypatch.setenv("AGENTLOG_SDK_BATCH_SIZE", "7")
    monkeypatch.setenv("AGENTLOG_SDK_FLUSH_INTERVAL", "2.5")
    log = client.AgentLog(store=fake)
    try:
        assert (log._sink.batch_size, log._sink.flush_interval) == (7, 2.5)
        explicit = client.AgentLog(store=fake, batch_size=3)
        assert explicit._sink.batch_size == 3
        explicit.close()
    finally:
        log.close()


def test_a_broken_config_file_does_not_stop_the_agent(agentlog_home, fake, caplog):
    (agentlog_home / "config.toml").write_text("this is [not toml")
    log = client.AgentLog(store=fake, batch_size=9)
    try:
        assert log._sink.batch_size == 9
        with log.session("still works") as s:
            s.log("x")
        assert log.flush(5) and len(fake.events) == 1
    finally:
        log.close()
    assert any("not valid TOML" in r.getMessage() for r in caplog.records)
