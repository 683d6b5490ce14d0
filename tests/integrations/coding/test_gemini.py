"""`agentlog import --from gemini`: Gemini CLI's saved chats become sessions, read again as they grow."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import EventStatus, EventType
from tests.integrations.coding import gemini_fixture as fx
from tests.support.stored import read


def cli(db: Path, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), "import", "--from", "gemini", *args])


def test_a_chat_becomes_a_session_with_its_call_tools_tokens_and_cost(tmp_path) -> None:
    fx.write_chat(tmp_path / "tmp")
    db = tmp_path / "a.db"
    result = cli(db, str(tmp_path / "tmp"), "--json")
    assert result.exit_code == 0, result.output
    (session,), events = read(db)
    assert session.id == fx.SESSION and session.title == "What does main.py print?"
    assert session.metadata["model"] == fx.MODEL and "gemini" in session.tags
    llm = next(e for e in events if e.type == EventType.LLM_CALL)
    assert (llm.input_tokens, llm.output_tokens) == (40_000, 420)  # thoughts are output
    assert (llm.cache_read_tokens, llm.reasoning_tokens) == (30_000, 300)
    # gemini-2.5-pro: $1.25 in, $10 out; the 30,000 cached tokens at a quarter of input.
    assert llm.cost_usd == round((10_000 * 1.25 + 30_000 * 0.3125 + 420 * 10) / 1e6, 8)
    calls = {e.name: e for e in events if e.type == EventType.TOOL_CALL}
    assert calls["mcp__jira__get_ticket"].metadata["mcp_server"] == "jira"
    results = {e.parent_id: e for e in events if e.type == EventType.TOOL_RESULT}
    assert results[calls["read_file"].id].content == "print('hi')\n"
    assert results[calls["mcp__jira__get_ticket"].id].status == EventStatus.ERROR
    assert any(e.type == EventType.LOG and e.content == "Request cancelled." for e in events)


def test_a_rewritten_chat_adds_only_what_is_new(tmp_path) -> None:
    path = fx.write_chat(tmp_path / "tmp", finished=False)
    os.utime(path, (1, 1))  # an old file, not one caught mid-write
    db = tmp_path / "a.db"
    first = orjson.loads(cli(db, str(tmp_path / "tmp"), "--json").stdout)
    # The reply is still the last message but has its tokens: its calls are in, no results.
    assert first["events"]["imported"] == 4
    fx.write_chat(tmp_path / "tmp", finished=True)
    second = orjson.loads(cli(db, str(tmp_path / "tmp"), "--json").stdout)
    assert second["events"]["imported"] == 3 and second["events"]["rejected"] == 0
    third = orjson.loads(cli(db, str(tmp_path / "tmp"), "--json").stdout)
    assert third["events"] == {**third["events"], "imported": 0, "duplicates": 0}
    _, events = read(db)
    assert len(events) == 7 and len({e.id for e in events}) == 7


def test_a_file_that_is_not_a_chat_is_reported(tmp_path) -> None:
    chats = tmp_path / "tmp" / "x" / "chats"
    chats.mkdir(parents=True)
    bad = chats / "session-bad.json"
    bad.write_bytes(b'{"messages": 3}')
    os.utime(bad, (1, 1))
    result = cli(tmp_path / "a.db", str(tmp_path / "tmp"))
    assert result.exit_code == 1 and "not a Gemini CLI chat" in result.stderr
