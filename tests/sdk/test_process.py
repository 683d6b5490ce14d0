"""Real processes: joining a parent's session, and nothing lost at exit or on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agentlog.storage import EventQuery, open_store

ROOT = Path(__file__).resolve().parents[2]


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "agent.py"
    path.write_text(textwrap.dedent(body))
    return path


def _start(script: Path, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **(env_extra or {}))
    return subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_ready(proc: subprocess.Popen[str]) -> str:
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        proc.kill()
        pytest.fail(f"the agent did not start: {line!r} {proc.communicate()[1]}")
    return line.split()[1]


def _count(db: Path, session_id: str) -> int:
    store = open_store(str(db))
    try:
        return store.count_events(EventQuery(session_id=session_id))
    finally:
        store.close()


# Logs N events with a long interval and a huge batch, so nothing is written
# before the process ends unless the exit hooks flush.
_LONG_WAIT_AGENT = """
    import signal, sys, time
    {prelude}
    from agentlog import AgentLog
    log = AgentLog(db={db!r}, flush_interval=3600, batch_size=1_000_000)
    s = log.session("exit test")
    for i in range({n}):
        s.log(f"event {{i}}")
    print("ready", s.id, flush=True)
    {tail}
"""


def test_sigterm_flushes_then_dies_of_sigterm(tmp_path):
    db = tmp_path / "a.db"
    script = _script(
        tmp_path,
        _LONG_WAIT_AGENT.format(prelude="", db=str(db), n=2500, tail="time.sleep(60)"),
    )
    proc = _start(script)
    sid = _wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == -signal.SIGTERM
    assert _count(db, sid) == 2500


def test_sigterm_chains_to_the_previous_handler(tmp_path):
    db = tmp_path / "a.db"
    prelude = (
        "def mine(signum, frame):\n"
        "        print('previous handler ran', flush=True)\n"
        "        sys.exit(3)\n"
        "    signal.signal(signal.SIGTERM, mine)"
    )
    script = _script(
        tmp_path,
        _LONG_WAIT_AGENT.format(prelude=prelude, db=str(db), n=500, tail="time.sleep(60)"),
    )
    proc = _start(script)
    sid = _wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 3
    assert "previous handler ran" in proc.stdout.read()
    assert _count(db, sid) == 500


def test_normal_exit_flushes_at_exit(tmp_path):
    db = tmp_path / "a.db"
    script = _script(tmp_path, _LONG_WAIT_AGENT.format(prelude="", db=str(db), n=3000, tail=""))
    proc = _start(script)
    sid = _wait_ready(proc)
    assert proc.wait(30) == 0, proc.stderr.read()
    assert _count(db, sid) == 3000


def test_kill_9_loses_at_most_the_unflushed_batch(tmp_path):
    db = tmp_path / "a.db"
    tail = (
        "log.flush()\n"
        "    for i in range(100):\n"
        "        s.log(f'unflushed {i}')\n"
        "    print('flushed', flush=True)\n"
        "    time.sleep(60)"
    )
    script = _script(tmp_path, _LONG_WAIT_AGENT.format(prelude="", db=str(db), n=400, tail=tail))
    proc = _start(script)
    sid = _wait_ready(proc)
    assert proc.stdout.readline().strip() == "flushed"
    proc.kill()
    proc.wait(30)
    store = open_store(str(db))
    try:
        assert store.check() == []  # the file is intact
        assert store.count_events(EventQuery(session_id=sid)) == 400
    finally:
        store.close()


def test_child_process_joins_the_session_in_the_environment(tmp_path, make_log):
    db = tmp_path / "a.db"
    log = make_log(db=str(db))
    parent = log.session("parent run", tags=["ci"])
    parent.log("from the parent")
    assert log.flush(10)
    script = _script(
        tmp_path,
        f"""
        from agentlog import AgentLog
        log = AgentLog(db={str(db)!r})
        with log.session("child title must not win", agent_id="worker") as s:
            s.log("from the child")
            print("ready", s.id, s.joined, flush=True)
        """,
    )
    proc = _start(script, {"AGENTLOG_SESSION_ID": parent.id})
    line = proc.stdout.readline().split()
    assert proc.wait(30) == 0, proc.stderr.read()
    assert line == ["ready", parent.id, "True"]
    parent.end()
    assert log.flush(10)
    store = open_store(str(db))
    try:
        row = store.get_session(parent.id)
        assert row.title == "parent run" and row.tags == ["ci"]
        events = store.list_events(EventQuery(session_id=parent.id)).items
        assert [(e.content, e.agent_id) for e in events][1] == ("from the child", "worker")
        assert row.event_count == 2
    finally:
        store.close()


def test_joining_a_session_that_does_not_exist_yet_creates_it(tmp_path, make_log, monkeypatch):
    from agentlog.model import new_id

    sid = new_id()
    monkeypatch.setenv("AGENTLOG_SESSION_ID", sid)
    log = make_log(db=str(tmp_path / "a.db"))
    with log.session("joined") as s:
        s.log("x")
    assert s.id == sid and s.joined
    assert log.flush(10)
    assert _count(tmp_path / "a.db", sid) == 1


def test_malformed_session_id_in_environment_starts_a_new_session(make_log, fake, monkeypatch):
    monkeypatch.setenv("AGENTLOG_SESSION_ID", "not-a-uuid")
    log = make_log(store=fake)
    with log.session("fresh") as s:
        s.log("x")
    assert log.flush(5)
    assert not s.joined and fake.sessions[s.id].title == "fresh"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_writes_through_its_own_writer(tmp_path, make_log):
    db = tmp_path / "a.db"
    log = make_log(db=str(db))
    s = log.session("fork")
    s.log("parent before fork")
    assert log.flush(10)
    pid = os.fork()
    if pid == 0:  # the child: log, flush, and leave without running pytest's teardown
        code = 0
        try:
            s.log("from the forked child")
            code = 0 if log.flush(10) else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    deadline = time.monotonic() + 5
    while _count(db, s.id) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _count(db, s.id) == 2


def test_signal_handler_only_from_the_main_thread(tmp_path):
    script = _script(
        tmp_path,
        f"""
        import signal, threading
        from agentlog import AgentLog
        t = threading.Thread(target=lambda: AgentLog(db={str(tmp_path / "t.db")!r}))
        t.start(); t.join()
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        AgentLog(db={str(tmp_path / "t.db")!r})
        print(signal.getsignal(signal.SIGTERM).__name__)
        """,
    )
    proc = _start(script)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.split() == ["True", "_on_sigterm"]
