"""`agentlog hook claude-code`: tool calls recorded live, joined to the transcript import without duplicates."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import EventType
from tests.integrations.coding import claude_fixture as fx
from tests.support.stored import read


def hook(db: Path, payload: dict):
    return CliRunner().invoke(
        app, ["--db", str(db), "hook", "claude-code"], input=orjson.dumps(payload).decode()
    )


def common(main: Path, event: str, **extra) -> dict:
    return {
        "session_id": fx.SESSION,
        "transcript_path": str(main),
        "cwd": fx.CWD,
        "permission_mode": "default",
        "hook_event_name": event,
        **extra,
    }


def test_hooks_record_a_tool_call_live_and_the_import_adds_nothing_twice(tmp_path) -> None:
    main = fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    pre = common(
        main,
        "PreToolUse",
        tool_name="mcp__github__search_issues",
        tool_input={"q": "cart rounding"},
        tool_use_id="toolu_01MCP",
    )
    post = dict(pre, hook_event_name="PostToolUse", tool_response={"content": "#42 cart rounding"})
    for payload in (pre, post):
        result = hook(db, payload)
        assert result.exit_code == 0 and result.stderr == "", result.output
    (live,), events = read(db)
    call = next(e for e in events if e.type == EventType.TOOL_CALL)
    assert live.id == fx.SESSION and call.metadata["mcp_server"] == "github"
    assert next(e for e in events if e.type == EventType.TOOL_RESULT).parent_id == call.id

    # The Stop hook imports the transcript: everything else arrives, these two are not doubled.
    assert hook(db, common(main, "Stop", stop_hook_active=False)).exit_code == 0
    sessions, after = read(db)
    assert len({e.id for e in after}) == len(after)
    only_import = tmp_path / "b.db"
    result = CliRunner().invoke(
        app, ["--db", str(only_import), "import", "--from", "claude-code", str(main)]
    )
    assert result.exit_code == 0
    main_events = [e for e in after if e.session_id == fx.SESSION]
    assert len(main_events) == len([e for e in read(only_import)[1] if e.session_id == fx.SESSION])
    assert next(s for s in sessions if s.id == fx.SESSION).title == "Fix the cart total rounding"


def test_subagent_stop_brings_the_subagent_under_its_task_call(tmp_path) -> None:
    main = fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    assert hook(db, common(main, "Stop")).exit_code == 0
    assert hook(db, common(main, "SubagentStop", agent_id=fx.AGENT)).exit_code == 0
    sessions, _ = read(db)
    child = next(s for s in sessions if s.parent_session_id == fx.SESSION)
    assert child.metadata["subagent_type"] == "Explore"


def test_a_hook_never_stops_the_agent(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["--db", str(tmp_path / "a.db"), "hook", "claude-code"], input="not json"
    )
    assert result.exit_code == 0 and "not recorded" in result.stderr
    result = hook(tmp_path / "a.db", {"hook_event_name": "PreToolUse", "tool_use_id": "x"})
    assert result.exit_code == 0 and "no session_id" in result.stderr


def test_secrets_in_a_live_tool_call_are_masked(tmp_path) -> None:
    main = fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    payload = common(
        main,
        "PreToolUse",
        tool_name="Bash",
        tool_input={"command": f"curl -H 'Authorization: Bearer {fx.SECRET_KEY}' x"},
        tool_use_id="toolu_live",
    )
    assert hook(db, payload).exit_code == 0
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("a.db*"))
    assert fx.SECRET_KEY.encode() not in raw
