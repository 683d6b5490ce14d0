"""The demo data: deterministic, idempotent, and rich enough for every screen and command."""

from __future__ import annotations

from datetime import UTC, datetime

from agentlog.demo import LONG_SESSION_EVENTS, generate_demo
from agentlog.model import EventType, SessionStatus
from agentlog.storage import open_store
from agentlog.storage.base import EventQuery, SessionQuery, iter_events

NOW = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


class Recorder:
    """Captures what generate_demo writes, without a database."""

    def __init__(self) -> None:
        self.sessions: dict[str, object] = {}
        self.events: list = []

    def get_session(self, session_id):
        from agentlog.errors import NotFound

        raise NotFound(session_id)

    def write(self, sessions=(), events=()):
        for s in sessions:
            self.sessions[s.id] = s
        self.events.extend(events)


def test_same_seed_same_ids_and_times():
    a, b = Recorder(), Recorder()
    generate_demo(a, seed=0, now=NOW)
    generate_demo(b, seed=0, now=NOW)
    assert [e.model_dump() for e in a.events] == [e.model_dump() for e in b.events]


def test_ids_do_not_depend_on_now_but_times_do():
    a, b = Recorder(), Recorder()
    generate_demo(a, seed=0, now=NOW)
    generate_demo(b, seed=0, now=datetime(2026, 9, 1, tzinfo=UTC))
    assert [e.id for e in a.events] == [e.id for e in b.events]
    assert a.events[0].timestamp != b.events[0].timestamp


def test_another_seed_is_a_separate_set():
    a, b = Recorder(), Recorder()
    generate_demo(a, seed=0, now=NOW)
    generate_demo(b, seed=1, now=NOW)
    assert not {e.id for e in a.events} & {e.id for e in b.events}
    assert not set(a.sessions) & set(b.sessions)


def test_batches_respect_the_limit_and_events_precede_now():
    rec = Recorder()
    result = generate_demo(rec, seed=3, now=NOW)
    assert result.event_count == len(rec.events) > LONG_SESSION_EVENTS
    assert all(e.timestamp <= NOW for e in rec.events)
    assert len({e.id for e in rec.events}) == len(rec.events)


def test_contents_cover_every_scenario(demo_template):
    path, result = demo_template
    store = open_store(str(path))
    try:
        long = store.get_session(result.long_session_id)
        assert long.event_count >= 10_000
        assert {"fetcher", "parser", "crawler"} <= set(long.agents)

        triage = store.get_session(result.sessions["triage"])
        assert {"planner", "researcher", "coder"} <= set(triage.agents)
        assert triage.input_tokens > 0 and triage.cost_usd > 0
        handoffs = store.list_events(
            EventQuery(session_id=triage.id, types=[EventType.HANDOFF])
        ).items
        assert [h.name for h in handoffs] == ["researcher", "coder"]
        results = store.list_events(
            EventQuery(session_id=triage.id, types=[EventType.TOOL_RESULT])
        ).items
        assert results and all(r.parent_id for r in results)

        child = store.get_session(result.sessions["child"])
        assert child.parent_session_id == triage.id

        passing = store.get_session(result.sessions["eval_pass"])
        failing = store.get_session(result.sessions["eval_fail"])
        assert passing.title == failing.title
        assert passing.status is SessionStatus.COMPLETED
        assert failing.status is SessionStatus.FAILED and failing.error_count > 0

        found = store.list_events(EventQuery(text="timeout", order="desc")).items
        assert any(e.session_id == failing.id for e in found)

        mcp = list(iter_events(store, EventQuery(session_id=result.sessions["mcp"])))
        # mapped by the proxy's own McpMapper: messages, and each tools/call as a paired call
        assert {e.type for e in mcp} == {
            EventType.MCP_MESSAGE,
            EventType.TOOL_CALL,
            EventType.TOOL_RESULT,
            EventType.ERROR,
        }
        calls = {e.id: e for e in mcp if e.type is EventType.TOOL_CALL}
        answers = [e for e in mcp if e.type in (EventType.TOOL_RESULT, EventType.ERROR)]
        assert len(calls) == len(answers) == 3
        assert all(a.parent_id in calls and a.duration_ms for a in answers)
        context = store.get_session(result.sessions["mcp"]).metadata["mcp"]
        assert context["server"]["name"] == "filesystem" and set(context["tools"]) == {
            "read_file",
            "write_file",
            "list_directory",
        }

        for word in ("数据库", "東京", "سجلات"):
            hits = store.list_events(EventQuery(text=word)).items
            assert any(e.session_id == result.sessions["i18n"] for e in hits), word

        active = store.list_sessions(SessionQuery(status=SessionStatus.ACTIVE)).items
        assert active, "a running session for tail and follow"
    finally:
        store.close()


def test_running_twice_adds_nothing(tmp_path):
    store = open_store(str(tmp_path / "d.db"))
    try:
        first = generate_demo(store, seed=5, now=NOW)
        before = store.info()
        second = generate_demo(store, seed=5, now=NOW)
        after = store.info()
        assert not first.already_present and second.already_present
        assert (after.sessions, after.events) == (before.sessions, before.events)
        assert before.sessions == first.session_count and before.events == first.event_count
    finally:
        store.close()


def test_demo_command_is_quiet_in_a_pipe(empty_cli):
    result = empty_cli.ok("demo")
    assert result.stdout == ""
    assert result.stderr.startswith("wrote ") and "Try next" not in result.stderr
    again = empty_cli.ok("demo")
    assert "already" in again.stderr and "--seed 1" in again.stderr
    doc = empty_cli.json("demo", "--seed", "2")
    assert doc["seed"] == 2 and doc["events"] > 10_000 and not doc["already_present"]
    listed = empty_cli.json("sessions", "list", "--limit", "1000")
    assert len(listed["items"]) == 2 * doc["sessions"]


def test_next_steps_name_a_resolvable_prefix(demo_template):
    from agentlog.cli.demo_cmd import _next_steps
    from agentlog.cli.resolve import resolve_session_id

    path, result = demo_template
    store = open_store(str(path))
    try:
        text = _next_steps(store, result)
        line = next(ln for ln in text.splitlines() if "agentlog events" in ln)
        prefix = line.split()[2]
        assert resolve_session_id(store, prefix) == result.long_session_id
        assert "agentlog search timeout" in text and "agentlog tui" in text
    finally:
        store.close()


def test_demo_on_a_terminal_says_what_to_run_next(empty_cli, monkeypatch):
    import agentlog.cli.demo_cmd as demo_cmd

    monkeypatch.setattr(demo_cmd, "is_terminal", lambda stream=None: True)
    result = empty_cli.ok("demo", "--seed", "4")
    assert result.stdout == ""
    assert "Try next:" in result.stderr and "agentlog search timeout" in result.stderr
    assert "--type TOOL_CALL" in result.stderr


def test_demo_library_stays_headless():
    import subprocess
    import sys

    probe = "import agentlog.demo, sys; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    heavy = {m.split(".")[0] for m in out.stdout.split()} & {"typer", "textual", "fastapi", "rich"}
    assert heavy == set()
