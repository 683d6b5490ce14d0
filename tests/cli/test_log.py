"""`agentlog log`: one event from a shell, and NDJSON events piped in with --stdin."""

from __future__ import annotations

import orjson

from agentlog.model import EventStatus, EventType
from agentlog.storage.base import EventQuery


def test_log_one_event_prints_its_id(cli, store):
    sid = cli.ok("sessions", "new", "shell").stdout.strip()
    result = cli.ok(
        "log",
        "tool_call",
        '{"q": "deploy"}',
        "--session",
        sid,
        "--name",
        "search_logs",
        "--agent",
        "bash",
        "--metadata",
        '{"attempt": 2}',
        "--duration-ms",
        "12.5",
        "--input-tokens",
        "3",
    )
    event = store.get_event(result.stdout.strip())
    assert event.session_id == sid and event.type is EventType.TOOL_CALL
    assert (event.name, event.agent_id, event.duration_ms) == ("search_logs", "bash", 12.5)
    assert event.metadata == {"attempt": 2} and event.input_tokens == 3


def test_log_reads_the_session_from_the_environment(cli, store):
    sid = cli.ok("sessions", "new", "env").stdout.strip()
    result = cli.ok("log", "LOG", "hello", env={"AGENTLOG_SESSION_ID": sid})
    assert store.get_event(result.stdout.strip()).session_id == sid


def test_log_error_type_defaults_to_error_status(cli, store):
    sid = cli.ok("sessions", "new", "err").stdout.strip()
    doc = cli.json("log", "ERROR", "it broke", "--session", sid)
    assert doc["status"] == "error"
    assert store.get_session(sid).error_count == 1


def test_log_mistakes_are_one_line(cli, demo):
    sid = demo.sessions["mcp"]
    assert "TYPE" in cli.fails(2, "log", "BOGUS", "x", "--session", sid)
    assert "--metadata" in cli.fails(2, "log", "LOG", "x", "--session", sid, "--metadata", "{x")
    assert "--session" in cli.fails(2, "log", "LOG", "x")
    assert "not a session id" in cli.fails(2, "log", "LOG", "x", "--session", "bogus")
    line = cli.fails(1, "log", "LOG", "x", "--session", sid, "--parent", "not-a-uuid")
    assert "parent_id" in line
    assert "duration" in cli.fails(2, "log", "LOG", "x", "--session", sid, "--duration-ms", "abc")


def test_stdin_keeps_good_lines_and_reports_bad_ones(cli, store):
    sid = cli.ok("sessions", "new", "piped").stdout.strip()
    lines = [
        '{"type": "LOG", "content": "one"}',
        "not json",
        "",
        '{"type": "NOPE", "content": "bad type"}',
        '{"type": "TOOL_CALL", "name": "grep", "content": "two", "duration_ms": 5}',
        "[1, 2]",
        '{"type": "LOG", "content": "three", "surprise": 1}',
        '{"type": "AGENT_OUTPUT", "content": "four"}',
    ]
    result = cli("log", "--stdin", "--session", sid, input="\n".join(lines) + "\n")
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("line ")]
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 4", "line 6", "line 7"]
    assert "NOPE" in errors[1] and "surprise" in errors[3]
    assert "recorded 3 events; 4 lines failed" in result.stderr
    kept = store.list_events(EventQuery(session_id=sid)).items
    assert [e.content for e in kept] == ["one", "two", "four"]


def test_stdin_json_report_and_idempotent_ids(cli, store):
    sid = cli.ok("sessions", "new", "ids").stdout.strip()
    line = orjson.dumps(
        {"id": "01900000-0000-7000-8000-000000000001", "type": "LOG", "content": "x"}
    ).decode()
    first = cli("log", "--stdin", "--session", sid, "--json", input=line + "\n")
    assert first.exit_code == 0
    assert orjson.loads(first.stdout) == {"recorded": 1, "duplicates": 0, "errors": []}
    again = cli("log", "--stdin", "--session", sid, "--json", input=line + "\n")
    assert orjson.loads(again.stdout)["duplicates"] == 1
    assert store.get_session(sid).event_count == 1


def test_stdin_line_may_name_its_session_and_missing_session_is_reported(cli, store):
    sid = cli.ok("sessions", "new", "own").stdout.strip()
    good = orjson.dumps({"session_id": sid, "type": "LOG", "content": "mine"}).decode()
    orphan = '{"type": "LOG", "content": "whose?"}'
    result = cli("log", "--stdin", input=f"{good}\n{orphan}\n")
    assert result.exit_code == 1
    assert "line 2: session_id is missing" in result.stderr
    assert store.get_session(sid).event_count == 1


def test_stdin_many_lines_in_batches(cli, store):
    sid = cli.ok("sessions", "new", "bulk").stdout.strip()
    body = "".join(
        orjson.dumps({"type": "LOG", "content": f"line {i}", "status": "ok"}).decode() + "\n"
        for i in range(2500)
    )
    cli.ok("log", "--stdin", "--session", sid, input=body)
    summary = store.get_session(sid)
    assert summary.event_count == 2500 and summary.error_count == 0
    assert store.count_events(EventQuery(session_id=sid, status=EventStatus.OK)) == 2500


def test_stdin_rejects_type_and_content(cli):
    assert "--stdin" in cli.fails(2, "log", "LOG", "x", "--stdin")


def test_stdin_never_holds_an_over_long_line(cli, store):
    """A line past the batch limit was read whole (200 MB of stdin: 680 MB of memory); it is
    now read a bounded piece at a time, reported with its size, and the next line is kept."""
    import io

    from agentlog.cli.log import bounded_lines
    from agentlog.model import MAX_BATCH_BYTES

    stream = io.BytesIO(b"a\n" + b"x" * 25 + b"\nb\n" + b"y" * 10 + b"\n" + b"z" * 30)
    assert list(bounded_lines(stream, limit=10)) == [b"a\n", 26, b"b\n", b"y" * 10 + b"\n", 30]
    sid = cli.ok("sessions", "new", "long").stdout.strip()
    huge = '{"type": "LOG", "content": "' + "A" * (MAX_BATCH_BYTES + 5) + '"}'
    result = cli("log", "--stdin", "--session", sid, input=f"{huge}\n" + '{"type":"LOG"}\n')
    assert result.exit_code == 1
    assert f"line 1: the line is {len(huge) + 1:,} bytes; the limit is 10,485,760" in result.stderr
    assert store.get_session(sid).event_count == 1


def test_content_starting_with_a_dash_goes_after_double_dash_as_the_help_says(cli, store):
    sid = cli.ok("sessions", "new", "dash").stdout.strip()
    result = cli.ok("log", "--session", sid, "LOG", "--", "-3 degrees outside")
    assert store.get_event(result.stdout.strip()).content == "-3 degrees outside"
    assert 'agentlog log --session "$SID" LOG -- "-3 degrees outside"' in cli.ok(
        "log", "--help"
    ).stdout.replace("\n", " ").replace("  ", " ")
