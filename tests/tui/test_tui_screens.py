"""Pilot tests of compare, metrics, help, the command palette and the store-error banner."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, OptionList
from tui_fixture import DEMO_NOW, NOW, fill
from tui_screen import screen_text, settle

from agentlog.model import Event, EventType
from agentlog.tui.app import make_app
from agentlog.tui.screens.compare import CompareScreen, align
from agentlog.tui.screens.help import HelpScreen
from agentlog.tui.screens.metrics import MetricsScreen
from agentlog.tui.screens.sessions import SessionsScreen
from agentlog.tui.screens.timeline import TimelineScreen
from agentlog.tui.widgets.banner import Banner
from tests.support.stores import FlakyStore

pytestmark = pytest.mark.anyio


def app_for(store, session_id=None, now=DEMO_NOW):
    return make_app(store, now=now, poll_interval=None, blink=False, session_id=session_id)


async def test_compare_picks_the_passing_run_and_marks_the_divergence(demo) -> None:
    store, result = demo
    app = app_for(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        text = screen_text(app)
        assert "Compare Nightly eval" in text
        await pilot.press("enter")  # the passing run of the same agent is offered first
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert (screen.a, screen.b) == (result.sessions["eval_fail"], result.sessions["eval_pass"])
        # both runs start with the same input and state step, then fetch_tickets differs
        assert screen.first == 2
        steps = screen.query_one("#compare-steps", DataTable)
        assert steps.cursor_row == 2
        assert "first divergence at step 3" in screen_text(app)
        await pilot.press("tab")
        await pilot.pause()
        text = screen_text(app)
        assert "errors" in text and "tool fetch_tickets" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TimelineScreen)


def test_align_pairs_equal_steps_and_reports_the_first_difference() -> None:
    def ev(kind: EventType, name: str) -> Event:
        return Event(session_id="00000000-0000-7000-8000-000000000001", type=kind, name=name)

    a = [
        ev(EventType.USER_INPUT, "u"),
        ev(EventType.TOOL_CALL, "x"),
        ev(EventType.AGENT_OUTPUT, "o"),
    ]
    b = [
        ev(EventType.USER_INPUT, "u"),
        ev(EventType.TOOL_CALL, "y"),
        ev(EventType.TOOL_CALL, "z"),
        ev(EventType.AGENT_OUTPUT, "o"),
    ]
    rows, first = align(a, b)
    assert first == 1
    assert [r.same for r in rows] == [True, False, False, True]
    assert rows[-1].a is a[-1] and rows[-1].b is b[-1]
    assert align(a, a)[1] is None


async def test_metrics_panel_shows_tools_models_and_charts(demo) -> None:
    store, result = demo
    app = app_for(store, result.sessions["triage"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MetricsScreen)
        text = screen_text(app)
        assert "Tools" in text and "run_tests" in text
        assert "Models" in text and "gpt-4o" in text
        assert sum(app.screen.query_one("#m-tokens").data) > 0
        # the title names the session; each chart says its scale
        assert "Metrics: Why did the deploy fail?" in text
        assert "peak 1,304 · total 2,782" in text
        # the time range has a line of its own, so at 80 columns neither it nor the scale is cut
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        narrow = screen_text(app)
        assert "peak 1,304 · total 2,782" in narrow
        assert any(line.strip().endswith("per bar") for line in narrow.splitlines())


async def test_metrics_without_llm_calls_shows_no_empty_charts(demo) -> None:
    store, result = demo
    app = app_for(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        text = screen_text(app)
        assert "no LLM calls, so no token or cost charts" in text
        assert "Tokens over time" not in text
        assert "Errors over time" in text


async def test_metrics_from_the_sessions_list_covers_the_whole_store(demo) -> None:
    store, _ = demo
    app = app_for(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        text = screen_text(app)
        assert "Metrics: every session" in text
        assert "Agents" in text and "support-bot" in text and "code-reviewer" in text
        assert "Errors over time" in text


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_compare_fits_both_sides_and_finds_sessions_by_search(demo, size) -> None:
    store, result = demo
    app = app_for(store, result.sessions["eval_fail"])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"deploy")  # typing searches every session, not a fixed list
        await settle(pilot)
        assert "Why did the deploy fail?" in screen_text(app)
        options = app.screen.query_one("#picker", OptionList)
        assert options.option_count == 1
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.b == result.sessions["triage"]
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if line.lstrip().startswith("#"))
        # B's column starts in the second half and ends inside the screen
        assert size[0] // 2 - 4 <= header.index(" B") < size[0] - 10
        steps = screen.query_one("#compare-steps", DataTable)
        assert sum(c.width for c in steps.columns.values()) + 6 <= size[0] - 2
        # the highlighted step is shown in full below, A beside B
        assert "A ▶ INPUT" in screen_text(app) or "A " in screen_text(app)


async def test_help_lists_every_key_of_the_screen(sqlite_store) -> None:
    store = sqlite_store
    ids = fill(store)
    app = app_for(store, ids["bad"], now=NOW)
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for binding in TimelineScreen.BINDINGS:
            assert binding.description in text, binding.description
        assert "Expand/collapse all" in text  # the metadata tree's key
        assert "Command palette" in text
        await pilot.press("escape")
        assert isinstance(app.screen, TimelineScreen)


async def test_command_palette_runs_actions_and_goes_to_sessions_by_title(sqlite_store) -> None:
    store = sqlite_store
    ids = fill(store)
    app = app_for(store, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"hotel")
        await pilot.pause(0.5)
        assert "Go to session: sub-agent: hotel lookup" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TimelineScreen)
        assert app.screen.session_id == ids["child"]
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Metrics")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MetricsScreen)


async def test_store_failure_shows_a_banner_and_recovers(sqlite_store) -> None:
    inner = sqlite_store
    fill(inner)
    store = FlakyStore(inner)
    app = app_for(store, now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        store.down = True
        await pilot.press("r")
        await settle(pilot)
        banner = app.screen.query_one(Banner)
        assert banner.shown
        assert "cannot reach the AgentLog server" in screen_text(app)
        assert "retrying" in screen_text(app)
        store.down = False
        app._probe()
        await settle(pilot)
        assert not banner.shown
        assert isinstance(app.screen, SessionsScreen)
        assert len(app.screen.ids) == 4


async def test_unknown_session_is_an_in_app_error_not_a_crash(sqlite_store) -> None:
    store = sqlite_store
    fill(store)
    app = app_for(store, "00000000-0000-7000-8000-00000000dead", now=NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TimelineScreen)
        assert app.return_code is None
        assert "no events match" in screen_text(app)


async def test_compare_offers_the_sessions_replays_first(demo) -> None:
    from agentlog.model import Event, Session

    store, result = demo
    original = result.sessions["eval_fail"]
    replay = Session(title="a re-run, on a fresh title", metadata={"replay_of": original})
    store.write([replay], [Event(session_id=replay.id, type="LOG", content="again")])
    app = app_for(store, original)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        options = app.screen.query_one("#picker", OptionList)
        first = options.get_option_at_index(0)
        assert first.id == replay.id
        assert "↻ replay" in str(first.prompt)
