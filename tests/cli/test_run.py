"""`agentlog run -- CMD`: a command as a session, its output as LOG events, its exit code."""

from __future__ import annotations

import sys

from agentlog.model import EventType, SessionStatus
from agentlog.storage.base import EventQuery, SessionQuery


def _only_run_session(store):
    sessions = store.list_sessions(SessionQuery(tags=["run-test"])).items
    assert len(sessions) == 1
    return sessions[0]


def test_run_records_output_and_exit_code(cli, store):
    result = cli("run", "--tag", "run-test", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3")
    assert result.exit_code == 3
    assert "hi" in result.stdout and "oops" in result.stderr
    session = _only_run_session(store)
    assert session.status is SessionStatus.FAILED and session.ended_at is not None
    assert session.metadata["exit_code"] == 3
    assert session.metadata["command"] == ["sh", "-c", "echo hi; echo oops >&2; exit 3"]
    assert session.title == "sh -c 'echo hi; echo oops >&2; exit 3'"
    events = store.list_events(EventQuery(session_id=session.id)).items
    logs = [(e.name, e.content) for e in events if e.type is EventType.LOG]
    assert ("stdout", "hi") in logs and ("stderr", "oops") in logs
    errors = [e for e in events if e.type is EventType.ERROR]
    assert len(errors) == 1 and errors[0].metadata["exit_code"] == 3
    assert "status 3" in errors[0].content


def test_run_success_and_session_id_in_environment(cli, store):
    code = "import os; print(os.environ['AGENTLOG_SESSION_ID'])"
    result = cli("run", "--title", "env", "--tag", "run-test", "--", sys.executable, "-c", code)
    assert result.exit_code == 0
    session = _only_run_session(store)
    assert session.title == "env" and session.status is SessionStatus.COMPLETED
    assert result.stdout.strip() == session.id
    assert session.id in result.stderr  # "agentlog: session <id>" for the human
    assert store.count_events(EventQuery(session_id=session.id, types=[EventType.ERROR])) == 0


def test_run_options_after_the_command_belong_to_it(cli, store):
    result = cli("run", "--tag", "run-test", "echo", "--title", "x")
    assert result.exit_code == 0 and "--title x" in result.stdout
    assert _only_run_session(store).title == "echo --title x"


def test_run_command_not_found_is_127(cli, store):
    result = cli("run", "--tag", "run-test", "--", "no-such-command-agentlog")
    assert result.exit_code == 127
    assert "command not found: no-such-command-agentlog" in result.stderr
    assert "Traceback" not in result.stderr
    session = _only_run_session(store)
    assert session.status is SessionStatus.FAILED


def test_run_many_lines_and_binary_output(cli, store):
    script = (
        "import sys; [print(i) for i in range(1200)]; sys.stdout.buffer.write(b'\\xff\\xfe end\\n')"
    )
    result = cli("run", "--tag", "run-test", "-q", "--", sys.executable, "-c", script)
    assert result.exit_code == 0 and result.stderr == ""
    session = _only_run_session(store)
    outputs = store.count_events(EventQuery(session_id=session.id, names=["stdout"]))
    assert outputs == 1201


def test_run_needs_a_command(cli):
    assert cli("run").exit_code == 2


def test_run_records_a_last_line_without_newline_and_keeps_blank_lines(cli, store):
    script = "printf 'one\\n\\nthree\\nno newline at end'"
    result = cli("run", "--tag", "run-test", "-q", "--", "sh", "-c", script)
    assert result.exit_code == 0
    assert result.stdout == "one\n\nthree\nno newline at end"
    session = _only_run_session(store)
    lines = store.list_events(EventQuery(session_id=session.id, names=["stdout"])).items
    assert [e.content for e in lines] == ["one", "", "three", "no newline at end"]


def test_a_run_inside_a_run_is_its_child_session(cli, store):
    # A CI step run under `agentlog run` inside a job that is itself run under it: the
    # inner run sees the job's AGENTLOG_SESSION_ID and was an unrelated session.
    outer = cli.ok("sessions", "new", "job").stdout.strip()
    result = cli("run", "--tag", "run-test", "--", "true", env={"AGENTLOG_SESSION_ID": outer})
    assert result.exit_code == 0
    assert _only_run_session(store).parent_session_id == outer


def test_an_unknown_or_malformed_outer_session_is_ignored(cli, store):
    for value in ("01a24399-e8e3-785b-9009-77bd032e5ecf", "not-an-id", ""):
        result = cli("run", "--tag", "run-test", "--", "true", env={"AGENTLOG_SESSION_ID": value})
        assert result.exit_code == 0, result.stderr
        session = _only_run_session(store)
        assert session.parent_session_id is None
        cli.ok("sessions", "delete", session.id, "--yes")
