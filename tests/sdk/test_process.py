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
    assert _count(db, sid) == 2500 + 1  # and the ERROR saying SIGTERM ended it


def test_sigterm_ends_the_open_sessions_as_failed(tmp_path):
    """A run killed by SIGTERM shows as failed, says why, and keeps its events."""
    db = tmp_path / "a.db"
    script = _script(
        tmp_path,
        f"""
        import time
        from agentlog import AgentLog
        log = AgentLog(db={str(db)!r}, flush_interval=3600, batch_size=1_000_000)
        done = log.session("finished before")
        done.end()
        with log.session("killed") as s:
            s.user_input("hello")
            print("ready", s.id, done.id, flush=True)
            time.sleep(60)
        """,
    )
    proc = _start(script)
    line = proc.stdout.readline().split()
    assert line[:1] == ["ready"], proc.communicate()[1]
    sid, done_id = line[1], line[2]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == -signal.SIGTERM
    store = open_store(str(db))
    try:
        killed = store.get_session(sid)
        assert killed.status == "failed"
        assert killed.ended_at is not None
        assert killed.metadata["ended_by"] == "SIGTERM"
        events = store.list_events(EventQuery(session_id=sid)).items
        assert [e.type for e in events] == ["USER_INPUT", "ERROR"]
        assert events[1].content == "terminated by SIGTERM"
        assert killed.error_count == 1
        assert store.get_session(done_id).status == "completed"  # an ended one is left alone
    finally:
        store.close()


def _assert_terminated(db: Path, sid: str, before: list[str]) -> None:
    store = open_store(str(db))
    try:
        killed = store.get_session(sid)
        assert (killed.status, killed.metadata.get("ended_by")) == ("failed", "SIGTERM")
        events = store.list_events(EventQuery(session_id=sid)).items
        assert [e.content for e in events] == [*before, "terminated by SIGTERM"]
    finally:
        store.close()


def test_sigterm_while_the_agent_holds_the_id_lock(tmp_path):
    """The handler runs between two bytecodes of the main thread, here inside `new_id`'s
    lock: ending the sessions must not take it (it did, and the process hung for ever)."""
    db = tmp_path / "a.db"
    script = _script(
        tmp_path,
        f"""
        import os, signal, time
        from agentlog import AgentLog, model
        log = AgentLog(db={str(db)!r}, flush_interval=3600, batch_size=1_000_000)
        s = log.session("killed inside new_id")
        s.log("before")
        print("ready", s.id, flush=True)
        with model._uuid7_lock:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(60)
        """,
    )
    proc = _start(script)
    sid = _wait_ready(proc)
    try:
        assert proc.wait(20) == -signal.SIGTERM
    finally:
        proc.kill()
    _assert_terminated(db, sid, ["before"])


def test_sigterm_noted_while_the_main_thread_is_blocked(tmp_path):
    """CPython runs a signal's Python handler only when the main thread next checks for
    signals. A SIGTERM that lands while the main thread waits for the GIL (the writer holds
    it, busy with a burst) is noted, and a main thread that then goes straight into
    `time.sleep(60)` used to run the handler a minute later: the SIGTERM test hung about
    once in 250 runs. Here another thread takes the signal, which leaves the same state."""
    db = tmp_path / "a.db"
    script = _script(
        tmp_path,
        f"""
        import signal, threading, time
        from agentlog import AgentLog
        log = AgentLog(db={str(db)!r}, flush_interval=3600, batch_size=1_000_000)
        s = log.session("killed while asleep")
        s.log("before")

        def take_the_signal():
            time.sleep(0.3)
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

        threading.Thread(target=take_the_signal).start()
        print("ready", s.id, flush=True)
        time.sleep(60)
        """,
    )
    proc = _start(script)
    sid = _wait_ready(proc)
    try:
        assert proc.wait(20) == -signal.SIGTERM
    finally:
        proc.kill()
    _assert_terminated(db, sid, ["before"])


def test_sigterm_with_a_handler_of_the_agent_leaves_the_ending_to_it(tmp_path):
    """The agent's own SIGTERM handler may go on running: the SDK ends nothing for it."""
    db = tmp_path / "a.db"
    prelude = (
        "def mine(signum, frame):\n"
        "        print('previous handler ran', flush=True)\n"
        "    signal.signal(signal.SIGTERM, mine)"
    )
    tail = "time.sleep(0.5)\n    s.log('after the signal')\n    s.end()"
    script = _script(tmp_path, _LONG_WAIT_AGENT.format(prelude=prelude, db=str(db), n=1, tail=tail))
    proc = _start(script)
    sid = _wait_ready(proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, proc.stderr.read()
    store = open_store(str(db))
    try:
        assert store.get_session(sid).status == "completed"
        assert store.count_events(EventQuery(session_id=sid)) == 2
    finally:
        store.close()


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
    store = open_store(str(db))
    try:  # a session the agent never ended stays as it was
        assert store.get_session(sid).status == "active"
    finally:
        store.close()


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
