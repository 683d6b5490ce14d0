"""`agentlog import --from codex`: Codex CLI rollouts become sessions with tools, usage and sub-agents."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.integrations.coding.codex import tool_parts
from agentlog.model import MAX_CONTENT_BYTES, EventType
from tests.integrations.coding import codex_fixture as fx
from tests.support.stored import read


def cli(db: Path, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), "import", "--from", "codex", *args])


def test_a_rollout_becomes_a_session_with_responses_tools_and_a_subagent(tmp_path) -> None:
    fx.write_sessions(tmp_path / "sessions")
    db = tmp_path / "a.db"
    result = cli(db, str(tmp_path / "sessions"), "--json")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["sessions"]["imported"] == 2

    sessions, events = read(db)
    main = next(s for s in sessions if s.id == fx.SESSION)
    child = next(s for s in sessions if s.id == fx.CHILD)
    assert child.parent_session_id == main.id and "sub-agent" in child.tags
    assert main.title == "Why does the invoice test fail?"
    assert main.metadata["git_branch"] == "main" and main.metadata["model"] == fx.MODEL
    assert {"codex", "project:billing", "branch:main"} <= set(main.tags)

    mine = [e for e in events if e.session_id == main.id]
    kinds = [e.type for e in mine]
    assert kinds.count(EventType.USER_INPUT) == 2  # the environment context is not a prompt
    calls = {e.metadata["tool_call_id"]: e for e in mine if e.type == EventType.TOOL_CALL}
    results = {e.parent_id: e for e in mine if e.type == EventType.TOOL_RESULT}
    assert set(results) == {c.id for c in calls.values()}
    assert orjson.loads(calls["call_SHELL"].content) == {"command": ["bash", "-lc", "pytest -q"]}
    assert results[calls["call_SHELL"].id].content == "3 passed\n"
    assert calls["call_MCP"].metadata["mcp_server"] == "linear"
    assert results[calls["call_MCP"].id].content == "BIL-7: rounding"
    big = results[calls["call_BIG"].id]
    assert len(big.content.encode()) < MAX_CONTENT_BYTES and big.metadata["cut_bytes"] > 0

    llm = sorted((e for e in mine if e.type == EventType.LLM_CALL), key=lambda e: e.timestamp)
    assert len(llm) == 3  # the repeated count is not a fourth response
    first = llm[0]
    assert calls["call_SHELL"].parent_id == first.id == calls["call_MCP"].parent_id
    assert (first.input_tokens, first.output_tokens) == (12_000, 400)
    assert (first.cache_read_tokens, first.reasoning_tokens) == (10_000, 256)
    # gpt-5-codex: $1.25 in, $10 out, cached input at $0.125; reasoning is output, once.
    assert first.cost_usd == round((2_000 * 1.25 + 10_000 * 0.125 + 400 * 10) / 1e6, 8)
    answer = next(e for e in mine if e.type == EventType.AGENT_OUTPUT)
    assert answer.parent_id == llm[1].id
    assert any(e.metadata.get("interrupted") for e in mine if e.type == EventType.LOG)

    again = orjson.loads(cli(db, str(tmp_path / "sessions"), "--json").stdout)
    assert again["events"]["imported"] == 0


def test_a_resumed_pass_keeps_the_session_it_started_in(tmp_path) -> None:
    main = fx.write_sessions(tmp_path / "sessions")
    db = tmp_path / "a.db"
    assert cli(db, str(tmp_path / "sessions")).exit_code == 0
    with main.open("ab") as f:
        f.write(fx.dump([fx.message(20, "user", "Thanks."), fx.tokens(21, 1, 0, 1, 0, 50_000)]))
    report = orjson.loads(cli(db, str(tmp_path / "sessions"), "--json").stdout)
    assert report["events"]["imported"] == 2 and report["events"]["rejected"] == 0
    sessions, events = read(db)
    assert any(e.content == "Thanks." and e.session_id == fx.SESSION for e in events)
    assert next(s for s in sessions if s.id == fx.SESSION).title.startswith("Why does")


def test_lines_before_the_session_meta_are_reported(tmp_path) -> None:
    path = tmp_path / "rollout-x.jsonl"
    path.write_bytes(fx.dump([fx.message(1, "user", "hi")]))
    result = cli(tmp_path / "a.db", str(path))
    assert result.exit_code == 1 and "before the session_meta" in result.stderr


def test_mcp_tool_names() -> None:
    assert tool_parts("github__search") == ("github", "search")
    assert tool_parts("mcp__github__search") == ("github", "search")
    assert tool_parts("shell") is None and tool_parts("apply_patch") is None
