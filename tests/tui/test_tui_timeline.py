"""Pilot tests of the timeline: keys, filters, search, detail, jumps, follow, export."""

from __future__ import annotations

import csv
import uuid
from datetime import timedelta

import orjson
import pytest
from tui_fixture import DEMO_NOW, NOW, Ids, fill
from tui_screen import screen_text, settle

from agentlog.model import Event, EventType, Session, SessionStatus
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.tui.app import make_app
from agentlog.tui.screens.timeline import TimelineScreen
from agentlog.tui.widgets.detail import MetadataTree
from agentlog.tui.widgets.timeline import MAX_PAGES, PAGE

pytestmark = pytest.mark.anyio


def open_app(store, session_id, now=DEMO_NOW):
    return make_app(store, now=now, poll_interval=None, blink=False, session_id=session_id)


async def test_long_session_keys_load_and_g_G_move_to_the_ends(demo) -> None:
    store, result = demo
    app = open_app(store, result.long_session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        timeline = screen.timeline
        total = store.get_session(result.long_session_id).event_count
        assert len(timeline.keys) == total > 10_000
        assert timeline.virtual_size.height == total
        assert len(timeline.pages) <= 2  # only the pages around the viewport
        await pilot.press("G")
        await settle(pilot)
        assert timeline.cursor_row == total - 1
        last = store.list_events(
            EventQuery(session_id=result.long_session_id, order="desc", limit=1)
        ).items[0]
        assert timeline.selected is not None and timeline.selected.id == last.id
        await pilot.press("g")
        await settle(pilot)
        assert timeline.cursor_row == 0
        await pilot.press("j", "j", "down", "k")
        await settle(pilot)
        assert timeline.cursor_row == 2
        await pilot.press("pagedown")
        assert timeline.cursor_row > 2 + 10


async def test_scrolling_a_long_session_keeps_memory_bounded(demo) -> None:
    store, result = demo
    app = open_app(store, result.long_session_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        timeline = app.screen.timeline
        assert MAX_PAGES * PAGE < 100_000  # the real bound; a small one here keeps the test fast
        timeline.pages.maxsize = 4
        for row in range(0, len(timeline.keys), PAGE * 4):
            timeline.cursor_row = row
            await settle(pilot, rounds=1)
        assert len(timeline.pages) <= 4
        assert "…" not in screen_text(app).splitlines()[3]  # the visible rows have bodies


async def test_type_toggles_filter_to_tool_calls_and_errors(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        timeline = app.screen.timeline
        assert len(timeline.keys) == 6
        await pilot.press("t")
        await settle(pilot)
        assert "TOOL_CALL" in screen_text(app)
        # none, then TOOL_CALL (4th) and ERROR (9th), then apply
        await pilot.press("n", "down", "down", "down", "space", *["down"] * 5, "space", "enter")
        await settle(pilot)
        kinds = [timeline.event_at(i).type for i in range(len(timeline.keys))]
        assert kinds == [EventType.TOOL_CALL, EventType.ERROR]
        assert "filter: type ERROR,TOOL" in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(timeline.keys) == 6


async def test_filter_dialog_errors_only_and_time_range(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        timeline = app.screen.timeline
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#f-errors").value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(timeline.keys) == 3
        assert all(timeline.event_at(i).status == "error" for i in range(3))
        # "last 1s" of the session: only its final events
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#f-errors").value = False
        app.screen.query_one("#f-since").value = "1s"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert 0 < len(timeline.keys) < 6
        assert "since 1s" in screen_text(app)


async def test_search_moves_to_the_match_and_n_N_walk_matches(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        timeline = app.screen.timeline
        await pilot.press("slash", *"timeout", "enter")
        await settle(pilot)
        assert len(timeline.matches) >= 2
        first = timeline.matches[0]
        assert timeline.cursor_row == first
        assert "timeout" in (timeline.selected.content or "").lower()
        assert f"1/{len(timeline.matches)}" in screen_text(app)
        await pilot.press("n")
        assert timeline.cursor_row == timeline.matches[1]
        await pilot.press("N")
        assert timeline.cursor_row == first
        await pilot.press("N")  # wraps to the last match
        assert timeline.cursor_row == timeline.matches[-1]


async def test_detail_shows_metadata_tree_and_x_expands_all(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        timeline = app.screen.timeline
        row = next(i for i in range(6) if timeline.event_at(i).type == EventType.TOOL_CALL)
        timeline.cursor_row = row
        await settle(pilot)
        await pilot.press("enter")  # into the metadata tree
        tree = app.screen.query_one(MetadataTree)
        assert app.focused is tree
        await pilot.press("x")
        await pilot.pause()
        assert all(node.is_expanded for node in tree.root.children if node.allow_expand)
        assert "queue" in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        assert not any(node.is_expanded for node in tree.root.children if node.allow_expand)
        await pilot.press("escape")
        assert app.focused is timeline


async def test_p_jumps_from_the_error_to_the_call_that_caused_it(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        timeline = app.screen.timeline
        await pilot.press("G")
        await settle(pilot)
        error_row = next(i for i in range(6) if timeline.event_at(i).type == EventType.ERROR)
        timeline.cursor_row = error_row
        await settle(pilot)
        error = timeline.selected
        await pilot.press("p")
        await settle(pilot)
        assert timeline.selected.id == error.parent_id
        assert timeline.selected.type == EventType.TOOL_CALL
        # and back down: P cycles through the events that point at the call
        await pilot.press("P")
        await settle(pilot)
        assert timeline.selected.parent_id == error.parent_id


async def test_parent_hidden_by_the_filter_clears_it(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("t", "n", *["down"] * 8, "space", "enter")  # ERROR only
        await settle(pilot)
        assert [screen.timeline.event_at(i).type for i in range(len(screen.timeline.keys))] == [
            EventType.ERROR
        ]
        parent = screen.timeline.selected.parent_id
        await pilot.press("p")
        await settle(pilot, rounds=5)
        assert len(screen.timeline.keys) == 6
        assert screen.timeline.selected.id == parent


async def test_sub_sessions_and_parent_session(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["triage"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert "researcher: confirm the schema" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.session_id == result.sessions["child"]
        await pilot.press("u")
        await settle(pilot)
        assert app.screen.session_id == result.sessions["triage"]


async def test_follow_tails_new_events_until_scrolled_up(sqlite_store) -> None:
    store = sqlite_store
    ids = Ids(0x0333)
    session = Session(
        id=ids(), title="live", status=SessionStatus.ACTIVE, created_at=NOW, updated_at=NOW
    )
    store.write(sessions=[session])

    def events(start: int, n: int) -> list[Event]:
        return [
            Event(
                id=ids(),
                session_id=session.id,
                timestamp=NOW + timedelta(seconds=start + i),
                type=EventType.LOG,
                content=f"line {start + i}",
            )
            for i in range(n)
        ]

    store.write(events=events(0, 50))
    app = open_app(store, session.id, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        timeline = screen.timeline
        assert timeline.follow and timeline.cursor_row == 49  # live: opens following
        await pilot.press("l")
        assert not timeline.follow
        await pilot.press("l")
        await settle(pilot)
        assert timeline.follow and timeline.cursor_row == 49
        store.write(events=events(50, 30))
        screen._poll()
        await settle(pilot)
        assert len(timeline.keys) == 80
        assert timeline.cursor_row == 79
        assert timeline.selected.content == "line 79"
        assert "following" in screen_text(app)
        await pilot.press("pageup")
        assert not timeline.follow
        store.write(events=events(80, 5))
        screen._poll()
        await settle(pilot)
        assert len(timeline.keys) == 85
        assert timeline.cursor_row < 80


async def test_follow_shows_an_event_stored_late_in_its_place_in_time(sqlite_store) -> None:
    """A timed tool call stamped before the newest event shown still appears (as in `agentlog tail`)."""
    store = sqlite_store
    ids = Ids(0x0444)
    session = Session(
        id=ids(), title="live", status=SessionStatus.ACTIVE, created_at=NOW, updated_at=NOW
    )
    lines = [
        Event(
            id=ids(),
            session_id=session.id,
            timestamp=NOW + timedelta(seconds=i),
            type=EventType.LOG,
            content=f"line {i}",
        )
        for i in range(450)
    ]
    store.write(sessions=[session], events=lines)
    app = open_app(store, session.id, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        timeline = screen.timeline
        screen._poll()  # following starts: nothing new yet
        await settle(pilot)
        assert len(timeline.keys) == 450
        await pilot.press("l")  # stop following; look at an early event
        timeline.cursor_row = 10
        await settle(pilot)
        assert timeline.selected.content == "line 10"
        tool = Event(
            id=ids(),
            session_id=session.id,
            timestamp=NOW + timedelta(seconds=5, milliseconds=500),
            type=EventType.TOOL_CALL,
            content="slow tool",
            duration_ms=444_000,
        )
        store.write(events=[tool])
        screen._poll()
        await settle(pilot)
        assert len(timeline.keys) == 451
        assert timeline.selected.content == "line 10"  # the cursor stays on its event
        timeline.cursor_row = 6
        await settle(pilot)
        assert timeline.selected.content == "slow tool"
        timeline.cursor_row = 450  # a page after the insertion holds its new rows
        await settle(pilot)
        assert timeline.selected.content == "line 449"


async def test_unsafe_content_is_shown_inert(sqlite_store) -> None:
    store = sqlite_store
    ids = fill(store)
    app = open_app(store, ids["text"], now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "␛[31mred␛[0m" in text  # the escape is shown, not obeyed
        assert "שלום עולם" in text
        timeline = app.screen.timeline
        timeline.cursor_row = 2  # 200,000 characters of content
        await settle(pilot)
        detail = screen_text(app)
        assert "characters in all" in detail


async def test_relative_and_absolute_time(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "+0.000s" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        first = app.screen.timeline.event_at(0)
        assert first.timestamp.strftime("%H:%M:%S") in screen_text(app)
        assert "time: UTC" in screen_text(app)


async def test_export_writes_the_filtered_view(demo, tmp_path) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t", "n", *["down"] * 8, "space", "enter")  # ERROR only
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        target = tmp_path / "out.ndjson"
        app.screen.query_one("#x-path").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        lines = [orjson.loads(line) for line in target.read_bytes().splitlines()]
        kinds = [line.get("kind") for line in lines]
        assert kinds == [None, "session", "event"]  # header, session, the one ERROR
        assert lines[2]["type"] == "ERROR"
        assert isinstance(app.screen, TimelineScreen)


async def test_export_whole_session_as_csv(demo, tmp_path) -> None:
    store, result = demo
    app = open_app(store, result.sessions["eval_pass"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#x-csv").value = True
        await pilot.pause()
        path = app.screen.query_one("#x-path").value
        assert path.endswith(".csv")
        target = tmp_path / "pass.csv"
        app.screen.query_one("#x-path").value = str(target)
        await pilot.press("enter")
        await settle(pilot)
        with target.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == store.get_session(result.sessions["eval_pass"]).event_count
        assert {r["type"] for r in rows} >= {"USER_INPUT", "TOOL_CALL"}


async def test_export_refuses_to_replace_a_file_without_a_second_ctrl_s(demo, tmp_path) -> None:
    """An existing file is kept after one ctrl+s; the dialog says so and a second one replaces it."""
    store, result = demo
    app = open_app(store, result.sessions["eval_pass"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        target = tmp_path / "mine.ndjson"
        target.write_text("keep me\n")
        dialog = app.screen
        dialog.query_one("#x-path").value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert target.read_text() == "keep me\n"
        assert app.screen is dialog
        shown = str(dialog.query_one("#x-error").render())
        assert shown == f"{target} exists; press ctrl+s again to replace it, or change the name"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert target.read_text() != "keep me\n"
        assert orjson.loads(target.read_bytes().splitlines()[1])["kind"] == "session"
        assert isinstance(app.screen, TimelineScreen)


async def test_export_asks_again_when_the_name_changes(demo, tmp_path) -> None:
    """A confirmation is for one file: another existing name is refused again."""
    store, result = demo
    app = open_app(store, result.sessions["eval_pass"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
        first.write_text("a\n")
        second.write_text("b\n")
        box = app.screen.query_one("#x-path")
        box.value = str(first)
        await pilot.press("ctrl+s")
        await settle(pilot)
        box.value = str(second)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (first.read_text(), second.read_text()) == ("a\n", "b\n")


async def test_agent_lanes_group_events_by_agent(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["triage"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        timeline = app.screen.timeline
        assert timeline.lanes == ("planner", "researcher", "coder")
        lines = screen_text(app).splitlines()
        assert "agents: planner, researcher, coder" in lines[1]  # the two-line header
        assert "lanes: planner,researcher,coder" in lines[2]
        # each event sits on its own agent's lane
        for row in range(len(timeline.keys)):
            event = timeline.event_at(row)
            lane = timeline.lanes.index(event.agent_id)
            marks = lines[3 + row][14 : 14 + 2 * len(timeline.lanes) : 2]
            assert marks[lane] == "●" and marks.count("●") == 1, lines[3 + row]
        # the three agents of the hand-off never share a colour
        assert len({colour for _, colour in timeline.palette}) == 3
        await pilot.press("a")
        assert timeline.lanes is None


async def test_an_active_session_opens_following_its_newest_event(demo) -> None:
    store, _ = demo
    active = next(s for s in store.list_sessions(SessionQuery(status=SessionStatus.ACTIVE)).items)
    app = open_app(store, active.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        timeline = app.screen.timeline
        assert timeline.follow
        assert timeline.cursor_row == len(timeline.keys) - 1 == active.event_count - 1
        assert "following" in screen_text(app)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_header_shows_every_agent_and_the_way_up_from_a_child(demo, size) -> None:
    store, result = demo
    triage = result.sessions["triage"]
    (child,) = store.list_sessions(SessionQuery(parent_session_id=triage)).items
    app = open_app(store, child.id)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        assert lines[0].startswith(" ↑ sub-session (u: parent)")
        assert "agents: researcher" in lines[1]
        # every row names its agent, at either size
        assert all("researcher" in line for line in lines[3:5])
    app = open_app(store, triage)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "agents: planner, researcher, coder" in screen_text(app).splitlines()[1]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_mcp_messages_say_which_way_they_went(demo, size) -> None:
    store, result = demo
    app = open_app(store, result.sessions["mcp"])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "→ initialize" in text and "← initialize" in text  # request out, answer back
        assert "→ tools/call" in text and "← tools/call" in text


def supervisor_tree(store) -> tuple[Session, list[Session]]:
    """A live supervisor's session (hand-offs, no model calls) over two workers, one nested."""
    ids = Ids(0x0444)
    root = Session(
        id=ids(),
        title="research_supervisor",
        status=SessionStatus.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
    )
    a = Session(id=ids(), title="research_expert", parent_session_id=root.id, created_at=NOW)
    b = Session(id=ids(), title="math_expert", parent_session_id=root.id, created_at=NOW)
    store.write(sessions=[root, a, b])

    def call(session: Session, n: int, tokens: tuple[int, int], cost: float) -> Event:
        return Event(
            id=ids(),
            session_id=session.id,
            timestamp=NOW + timedelta(seconds=n),
            type=EventType.LLM_CALL,
            agent_id=session.title,
            name="gpt-4o",
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cost_usd=cost,
        )

    store.write(
        events=[
            Event(
                id=ids(),
                session_id=root.id,
                timestamp=NOW,
                type=EventType.HANDOFF,
                agent_id="supervisor",
                content="to research_expert",
            ),
            call(a, 1, (1000, 200), 0.01),
            call(b, 2, (30, 4), 0.0023),
        ]
    )
    return root, [a, b]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_header_shows_the_whole_trees_tokens_on_a_supervisors_session(
    sqlite_store, size
) -> None:
    store = sqlite_store
    root, (a, _) = supervisor_tree(store)
    app = open_app(store, root.id, now=NOW)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        facts = screen_text(app).splitlines()[1]
        # first on the line, so it is never what a narrow terminal cuts off
        assert facts.startswith(" with 2 sub-sessions: 1,234 tok  $0.0123")
        assert "0 tok" not in facts.split("$0.0123")[0]
        # the session is live: a poll walks the tree again, and finds a new, nested worker
        grandchild = Session(id=str(uuid.UUID(int=0x7E57)), parent_session_id=a.id, created_at=NOW)
        store.write(sessions=[grandchild])
        store.write(
            events=[
                Event(
                    session_id=grandchild.id,
                    timestamp=NOW + timedelta(seconds=3),
                    type=EventType.ERROR,
                    input_tokens=6,
                    cost_usd=0.0001,
                )
            ]
        )
        app.screen._poll()
        await settle(pilot)
        facts = screen_text(app).splitlines()[1]
        assert facts.startswith(" with 3 sub-sessions: 1,240 tok  $0.0124  1 error")
    # a worker's own header has no tree line: it has no sub-sessions
    app = open_app(store, a.id, now=NOW)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "sub-sessions:" not in screen_text(app).splitlines()[1]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_an_exceptions_row_shows_the_error_not_the_traceback_header(
    sqlite_store, size
) -> None:
    import traceback

    try:
        raise ValueError("node exploded")
    except ValueError as exc:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    session = Session(id=str(uuid.uuid4()), title="fails", created_at=NOW, updated_at=NOW)
    error = Event(
        session_id=session.id,
        timestamp=NOW,
        type=EventType.ERROR,
        status="error",
        agent_id="worker",
        content=text,
    )
    sqlite_store.write([session], [error])
    app = open_app(sqlite_store, session.id, now=NOW)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        row = next(line for line in screen_text(app).splitlines() if "ERROR" in line)
        assert "ValueError: node explo" in row and "Traceback" not in row.split("ValueError")[0]


async def test_a_model_calls_detail_reads_as_a_conversation(sqlite_store) -> None:
    """A recorded {prompt, response} (the SDK, LangGraph) shows its turns by role, the tool
    calls the model asked for, then the JSON as recorded; control characters stay inert."""
    store = sqlite_store
    s = Session(title="graph")
    call = {
        "prompt": [
            {"role": "system", "content": "You manage two experts."},
            {"role": "user", "content": "How many employees? \x1b[2J"},
        ],
        "response": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"name": "transfer_to_research_expert", "args": {}}],
        },
    }
    llm = Event(
        session_id=s.id, type=EventType.LLM_CALL, name="gpt-4o", content=orjson.dumps(call).decode()
    )
    store.write(sessions=[s], events=[llm])
    app = open_app(store, s.id, now=NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        detail = screen_text(app)
        assert "\x1b" not in detail
        lines = [line.strip() for line in detail.splitlines()]
        assert any(line.endswith("system") for line in lines), detail
        assert any("You manage two experts." in line for line in lines)
        assert any("How many employees? ␛[2J" in line for line in lines)
        assert any("→ transfer_to_research_expert()" in line for line in lines)
        # the conversation first, the recorded JSON after it
        said = next(i for i, line in enumerate(lines) if "→ transfer_to_research_expert()" in line)
        raw = next(i for i, line in enumerate(lines) if '"prompt": [' in line)
        assert said < raw
