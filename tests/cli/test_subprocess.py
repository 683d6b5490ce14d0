"""The real `agentlog` process: exit codes, streams and pipes as a shell or CI job sees them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("agentlog")


def agentlog(*args: str, db: Path, input: str | None = None, script: bool = False):
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "agentlog"]
    return subprocess.run(
        [*command, "--db", str(db), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )


def test_run_exits_with_the_commands_code(tmp_path):
    db = tmp_path / "a.db"
    proc = agentlog("run", "--", "sh", "-c", "echo hi; exit 3", db=db)
    assert proc.returncode == 3
    assert proc.stdout == "hi\n"
    assert proc.stderr.startswith("agentlog: session ")
    listed = json.loads(agentlog("sessions", "list", "--json", db=db).stdout)
    assert [s["status"] for s in listed["items"]] == ["failed"]


def test_run_command_not_found(tmp_path):
    proc = agentlog("run", "-q", "--", "definitely-not-a-command-42", db=tmp_path / "a.db")
    assert proc.returncode == 127
    assert proc.stderr == "agentlog: error: command not found: definitely-not-a-command-42\n"


def test_log_stdin_with_a_bad_line(tmp_path):
    db = tmp_path / "a.db"
    sid = agentlog("sessions", "new", "piped", db=db).stdout.strip()
    lines = '{"type": "LOG", "content": "ok 1"}\n{"type": 5}\n{"type": "LOG", "content": "ok 2"}\n'
    proc = agentlog("log", "--stdin", "--session", sid, db=db, input=lines)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines()[0].startswith("line 2: ")
    assert "recorded 2 events; 1 line failed" in proc.stderr
    events = json.loads(agentlog("events", sid, "--json", db=db).stdout)["items"]
    assert [e["content"] for e in events] == ["ok 1", "ok 2"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("subprocess-demo") / "demo.db"
    demo = agentlog("demo", db=db)
    assert demo.returncode == 0 and demo.stdout == "", demo.stderr
    assert demo.stderr.startswith("wrote ") and demo.stderr.count("\n") == 1
    return db


def test_search_timeout_json_parses(demo_db):
    proc = agentlog("search", "timeout", "--json", db=demo_db)
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["items"] and all("timeout" in e["content"].lower() for e in doc["items"])


def test_usage_error_exit_2_one_line(tmp_path):
    proc = agentlog("events", "latest", "--since", "later", db=tmp_path / "a.db")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("agentlog: error: --since")


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed in this venv")
def test_console_script_version_and_bad_db(tmp_path):
    proc = agentlog("--version", db=tmp_path / "a.db", script=True)
    assert proc.returncode == 0 and proc.stdout.startswith("agentlog ")
    junk = tmp_path / "junk.db"
    junk.write_text("not a database " * 200)
    bad = agentlog("sessions", "list", db=junk, script=True)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("agentlog: error: ")


def test_broken_pipe_is_quiet(demo_db):
    command = f"{sys.executable} -m agentlog --db {demo_db} search crawled --all --ndjson | head -1"
    proc = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, timeout=60, env=os.environ.copy()
    )
    assert json.loads(proc.stdout)["type"]
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_tail_ctrl_c_exits_0_quietly(demo_db):
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentlog", "--db", str(demo_db), "tail", "-n", "1", "--ndjson"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        first = proc.stdout.readline()  # following has begun once the backlog is out
        assert json.loads(first)["id"]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert err == ""


def test_a_table_and_its_paging_hint_stay_in_order_in_one_log(demo_db):
    """`2>&1` into a CI log: the table (stdout, buffered) ends before the hint (stderr) starts."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentlog",
            "--db",
            str(demo_db),
            "sessions",
            "list",
            "--limit",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 4
    assert lines[-1].startswith("more: add --cursor ")


def test_a_read_of_a_mistyped_db_exits_2_and_creates_nothing(tmp_path):
    typo = tmp_path / "nope" / "x.db"
    proc = agentlog("search", "x", db=typo)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        f"agentlog: error: no AgentLog store at {typo}: check the path, or record something"
        f" first (agentlog demo --db {typo})\n"
    )
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("whole_group", [False, True], ids=["kill PID", "timeout (the group)"])
def test_run_killed_by_sigterm_records_to_the_end_and_fails_the_session(tmp_path, whole_group):
    """`timeout 60 agentlog run -- CMD` or `kill PID`: the command is told, the session ends failed."""
    db = tmp_path / "a.db"
    child = [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(30)"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentlog",
            "--db",
            str(db),
            "run",
            "-q",
            "--title",
            "slow",
            "--",
            *child,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline() == "ready\n"
        if whole_group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            os.kill(proc.pid, signal.SIGTERM)  # the command gets it from agentlog run
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    (session,) = json.loads(agentlog("sessions", "list", "--json", db=db).stdout)["items"]
    assert session["status"] == "failed" and session["metadata"]["exit_code"] == 143
    events = json.loads(agentlog("events", session["id"], "--json", db=db).stdout)["items"]
    assert [e["content"] for e in events if e["name"] == "stdout"] == ["ready"]
    (error,) = [e for e in events if e["type"] == "ERROR"]
    assert error["content"].startswith("terminated (SIGTERM); command exited with status 143")


@pytest.mark.parametrize("args", [["events", ""], ["tail", ""]], ids=["events", "tail"])
def test_an_empty_session_variable_exits_2_at_once(demo_db, args):
    """`agentlog events "$SID"` with SID empty: not every session's events, not a follow for ever."""
    proc = subprocess.run(
        [sys.executable, "-m", "agentlog", "--db", str(demo_db), *args],
        capture_output=True,
        text=True,
        timeout=20,
        env=os.environ.copy(),
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("agentlog: error: session '' is not a session id")


def test_a_nested_run_is_a_child_of_the_outer_run(tmp_path):
    db = tmp_path / "a.db"
    inner = [sys.executable, "-m", "agentlog", "run", "-q", "--title", "step", "--", "echo", "hi"]
    proc = agentlog("run", "-q", "--title", "job", "--", *inner, db=db)
    assert proc.returncode == 0 and proc.stdout == "hi\n", proc.stderr
    sessions = json.loads(agentlog("sessions", "list", "--json", db=db).stdout)["items"]
    by_title = {s["title"]: s for s in sessions}
    assert by_title["step"]["parent_session_id"] == by_title["job"]["id"]
    assert by_title["job"]["parent_session_id"] is None
