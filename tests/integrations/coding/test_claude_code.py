"""`agentlog import --from claude-code`: transcripts become sessions, sub-agents, tool calls and costs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.integrations.coding.importer import CodingImporter, import_coding
from agentlog.integrations.pricing import usage_cost
from agentlog.model import MAX_CONTENT_BYTES, EventStatus, EventType
from agentlog.storage import EventQuery, SessionQuery, open_store
from tests.integrations.coding import claude_fixture as fx
from tests.support.stored import read


def cli(db: Path, *args: str):
    return CliRunner().invoke(app, ["--db", str(db), "import", "--from", "claude-code", *args])


def test_a_session_with_tools_mcp_a_background_subagent_and_an_interrupted_turn(tmp_path) -> None:
    fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    result = cli(db, str(tmp_path / "projects"), "--json")
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["sessions"]["imported"] == 2 and report["events"]["rejected"] == 0

    sessions, events = read(db)
    main = next(s for s in sessions if s.parent_session_id is None)
    child = next(s for s in sessions if s.parent_session_id is not None)
    assert main.id == fx.SESSION  # Claude Code's own session id, findable as it is
    assert main.title == "Fix the cart total rounding"
    assert main.metadata["cwd"] == fx.CWD and main.metadata["git_branch"] == fx.BRANCH
    assert {"claude-code", "project:shop-api", "branch:feature/cart"} <= set(main.tags)
    assert child.parent_session_id == main.id and "sub-agent" in child.tags

    mine = [e for e in events if e.session_id == main.id]
    by_type = {t: [e for e in mine if e.type == t] for t in EventType}
    assert [e.content for e in by_type[EventType.USER_INPUT]] == [
        "The cart total is off by a cent."
    ]
    assert by_type[EventType.USER_INPUT][0].agent_id is None  # a person, not one of the agents
    # One API response = one LLM_CALL, though Claude Code wrote it as three lines.
    first = next(e for e in by_type[EventType.LLM_CALL] if e.metadata.get("request_id"))
    assert first.content == "Let me look at the tests." and first.name == fx.MODEL
    assert first.input_tokens == 12 + 18_000 + 2_000 and first.output_tokens == 310
    assert (first.cache_read_tokens, first.cache_creation_tokens) == (18_000, 2_000)
    calls = {e.name: e for e in by_type[EventType.TOOL_CALL]}
    assert set(calls) == {"Bash", "mcp__github__search_issues", "Task", "Read", "Edit"}
    assert all(c.parent_id for c in calls.values())
    mcp = calls["mcp__github__search_issues"]
    assert (mcp.metadata["mcp_server"], mcp.metadata["mcp_tool"]) == ("github", "search_issues")
    results = {e.parent_id: e for e in by_type[EventType.TOOL_RESULT]}
    assert set(results) == {c.id for c in calls.values()}  # every call has its result
    assert results[mcp.id].content == "#42 cart rounding"
    assert results[calls["Bash"].id].duration_ms == 1900.0
    assert results[calls["Edit"].id].status == EventStatus.ERROR
    huge = results[calls["Read"].id]
    assert len(huge.content.encode()) < MAX_CONTENT_BYTES
    assert huge.metadata["cut_bytes"] > fx.HUGE - MAX_CONTENT_BYTES
    interrupted = [e for e in by_type[EventType.LOG] if e.metadata.get("interrupted")]
    assert len(interrupted) == 1

    # The background sub-agent is a child session under the Task call that started it.
    task = calls["Task"]
    assert task.metadata["background"] is True
    assert results[task.id].metadata["subagent_session_id"] == child.id
    assert child.metadata["parent_event_id"] == task.id
    assert child.metadata["subagent_type"] == "Explore" and child.metadata["background"] is True
    sub = [e for e in events if e.session_id == child.id]
    assert {e.agent_id for e in sub if e.type == EventType.TOOL_CALL} == {"Explore"}
    assert [e.name for e in sub if e.type == EventType.TOOL_CALL] == ["Grep"]


def test_costs_count_cached_tokens_at_cache_prices(tmp_path) -> None:
    fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    with open_store(str(db)) as store:
        import_coding(store, "claude-code", tmp_path / "projects")
    _, events = read(db)
    first = next(e for e in events if e.metadata.get("request_id") == "req_01A")
    # $3 in / $15 out per 1M; cache reads at 10% and 5-minute writes at 125% of input.
    expected = (12 * 3 + 18_000 * 0.3 + 2_000 * 3.75 + 310 * 15) / 1e6
    assert abs(first.cost_usd - expected) < 1e-9


def test_reimport_adds_nothing_and_an_appended_line_is_all_a_second_pass_reads(tmp_path) -> None:
    main = fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    assert cli(db, str(tmp_path / "projects")).exit_code == 0
    _, before = read(db)
    again = orjson.loads(cli(db, str(tmp_path / "projects"), "--json").stdout)
    assert again["events"]["imported"] == 0 and again["events"]["duplicates"] == 0  # nothing read
    with main.open("ab") as f:
        f.write(fx.dump([fx.line("user", 13, 40, {"role": "user", "content": "Ship it."})]))
    third = orjson.loads(cli(db, str(tmp_path / "projects"), "--json").stdout)
    assert third["events"]["imported"] == 1 and third["events"]["duplicates"] == 0
    sessions, after = read(db)
    assert len(after) == len(before) + 1
    main_session = next(s for s in sessions if s.parent_session_id is None)
    assert main_session.title == "Fix the cart total rounding"  # a resumed pass keeps the header


def test_a_rewritten_or_deleted_transcript_duplicates_nothing(tmp_path) -> None:
    main = fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    with open_store(str(db)) as store:
        import_coding(store, "claude-code", tmp_path / "projects")
        _, before = read(db)
        # Rewritten underneath (compacted to fewer lines, new inode): read from the start.
        data = fx.dump(fx.main_lines()[:4])
        main.unlink()
        main.write_bytes(data)
        report = import_coding(store, "claude-code", tmp_path / "projects")
        assert report.events.imported == 0 and report.ok
        main.unlink()
        report = import_coding(store, "claude-code", tmp_path / "projects")
        assert report.ok
    _, after = read(db)
    assert len(after) == len(before)  # the archive keeps what the tool deleted


def test_no_raw_secret_from_a_transcript_reaches_the_database_file(tmp_path) -> None:
    fx.write_project(tmp_path / "projects")
    db = tmp_path / "a.db"
    assert cli(db, str(tmp_path / "projects")).exit_code == 0
    _, events = read(db)
    bash = next(e for e in events if e.type == EventType.TOOL_RESULT and "DATABASE" in e.content)
    assert "DATABASE_PASSWORD=[REDACTED]" in bash.content and "DEBUG=1" in bash.content
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("a.db*"))
    for secret in (fx.SECRET_KEY, fx.SECRET_ENV, fx.SECRET_PEM):
        assert secret.encode() not in raw
    # --no-redact is the user's explicit choice to keep them.
    db2 = tmp_path / "b.db"
    assert cli(db2, str(tmp_path / "projects"), "--no-redact").exit_code == 0
    raw2 = b"".join(p.read_bytes() for p in tmp_path.glob("b.db*"))
    assert fx.SECRET_ENV.encode() in raw2


def test_bad_lines_are_reported_by_line_and_the_rest_imported(tmp_path) -> None:
    main = fx.write_project(tmp_path / "projects")
    with main.open("ab") as f:
        f.write(b"{not json\n")
        f.write(orjson.dumps({"type": "user", "sessionId": fx.SESSION, "message": "x"}) + b"\n")
    result = cli(tmp_path / "a.db", str(main))
    assert result.exit_code == 1
    assert "no valid timestamp" in result.stderr and "Traceback" not in result.output
    _, events = read(tmp_path / "a.db")
    assert any(e.type == EventType.USER_INPUT for e in events)


def test_usage_mistakes_are_one_line_errors(tmp_path) -> None:
    result = cli(tmp_path / "a.db", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = cli(tmp_path / "a.db", str(tmp_path), "--overwrite")
    assert result.exit_code == 2 and "--from claude-code reads" in result.stderr
    result = CliRunner().invoke(app, ["--db", str(tmp_path / "a.db"), "import", "--watch", "x"])
    assert result.exit_code == 2 and "coding agents" in result.stderr
    assert "Traceback" not in result.output


def test_watch_picks_up_appended_lines_and_a_new_file_within_a_second(tmp_path) -> None:
    root = tmp_path / "projects"
    main = fx.write_project(root)
    stop = threading.Event()
    passes: list[int] = []
    with open_store(str(tmp_path / "a.db")) as store:
        importer = CodingImporter(store, "claude-code", root)
        thread = threading.Thread(
            target=importer.watch,
            args=(lambda r: passes.append(r.events.imported),),
            kwargs={"interval": 0.1, "stop": stop.is_set},
        )
        thread.start()
        try:
            _wait(lambda: passes and passes[0] > 0)
            with main.open("ab") as f:
                f.write(fx.dump([fx.line("user", 13, 40, {"role": "user", "content": "More."})]))
            _wait(lambda: _has(store, "More."))
            other = root / "-home-dev-other" / "0b5e6f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b.jsonl"
            other.parent.mkdir()
            rec = fx.line("user", 1, 50, {"role": "user", "content": "A new session."})
            rec["sessionId"], rec["uuid"] = other.stem, "9e8d7c6b-5a49-4837-8261-504f3e2d1c0b"
            other.write_bytes(fx.dump([rec]))
            _wait(lambda: _has(store, "A new session."))
        finally:
            stop.set()
            thread.join(5)


def _has(store, text: str) -> bool:
    sessions = store.list_sessions(SessionQuery(limit=100)).items
    return any(
        e.content == text
        for s in sessions
        for e in store.list_events(EventQuery(session_id=s.id, limit=1000)).items
    )


def _wait(condition, within: float = 1.0) -> None:
    """Poll until `condition()` holds; the issue's bar is one second (polling every 0.1 s)."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not picked up within a second"
        time.sleep(0.02)


# ---------------------------------------------------------------- cached-token pricing
def test_phoenix_10783_prompt_caching_does_not_multiply_the_cost() -> None:
    """Cached reads priced as fresh input made Phoenix's figure ~20x too high."""
    cost = usage_cost(
        "claude-sonnet-4-5", input_tokens=100, output_tokens=500, cache_read_tokens=200_000
    )
    assert cost == round((100 * 3 + 200_000 * 0.30 + 500 * 15) / 1e6, 8)  # $0.0678
    naive = (200_100 * 3 + 500 * 15) / 1e6
    assert naive / cost > 8


def test_phoenix_13379_cached_tokens_are_never_charged_as_output() -> None:
    cost = usage_cost("gpt-4o", input_tokens=1_000, output_tokens=200, cache_read_tokens=9_000)
    # OpenAI: cached input at half the $2.50 input price, output at $10 on the 200 only.
    assert cost == round((1_000 * 2.5 + 9_000 * 1.25 + 200 * 10) / 1e6, 8)


def test_opik_6969_cached_tokens_are_discounted() -> None:
    full = usage_cost("gpt-4.1", input_tokens=10_000, output_tokens=0)
    cached = usage_cost("gpt-4.1", input_tokens=0, output_tokens=0, cache_read_tokens=10_000)
    assert cached == round(full * 0.25, 8)
    # Anthropic cache writes cost more than input: 1.25x (5 minutes), 2x (1 hour).
    write = usage_cost("claude-sonnet-4", input_tokens=0, output_tokens=0, cache_write_tokens=10**6)
    long = usage_cost(
        "claude-sonnet-4", input_tokens=0, output_tokens=0, cache_write_1h_tokens=10**6
    )
    assert (write, long) == (3.75, 6.0)
