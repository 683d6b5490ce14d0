"""Pilot tests of the keys a lazygit / k9s user expects: copy ids, $PAGER/$EDITOR, clickable key
bar, the help legend, and the filter and export dialogs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual.widgets import Label, Static
from tui_fixture import DEMO_NOW
from tui_screen import screen_text, settle

from agentlog.tui.app import make_app
from agentlog.tui.screens.event_filters import EventFilterDialog
from agentlog.tui.screens.export import ExportDialog
from agentlog.tui.screens.help import HelpScreen
from agentlog.tui.screens.metrics import MetricsScreen
from agentlog.tui.screens.timeline import TimelineScreen
from agentlog.tui.widgets.checklist import CheckList
from agentlog.tui.widgets.keybar import KeyBar

pytestmark = pytest.mark.anyio


def open_app(store, session_id=None):
    return make_app(store, now=DEMO_NOW, poll_interval=None, blink=False, session_id=session_id)


async def test_y_copies_the_event_and_session_ids(demo) -> None:
    store, result = demo
    sid = result.sessions["triage"]
    app = open_app(store, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        event = app.screen.timeline.selected
        await pilot.press("y")
        assert app.clipboard == event.id
        await pilot.press("Y")
        assert app.clipboard == sid
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")  # on the sessions list: the highlighted session's id
        assert app.clipboard == app.screen.selected_id


async def test_v_shows_the_event_in_the_pager_with_controls_made_visible(
    demo, tmp_path, monkeypatch
) -> None:
    store, result = demo
    seen = tmp_path / "seen.txt"
    pager = tmp_path / "pager.py"
    # argv: pager.py seen.txt <file>: copy the file the TUI wrote to where the test can read it
    monkeypatch.setenv("PAGER", f"{sys.executable} {pager} {seen}")
    pager.write_text(
        "import shutil, sys\nshutil.copy(sys.argv[2], sys.argv[1])\n", encoding="utf-8"
    )
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        event = app.screen.timeline.selected
        await pilot.press("v")
        await settle(pilot)
        text = seen.read_text(encoding="utf-8")
        assert event.id in text and (event.content or "")[:20] in text
        assert "\x1b" not in text
        monkeypatch.setenv("EDITOR", "no-such-editor-here")
        monkeypatch.delenv("VISUAL", raising=False)
        await pilot.press("E")
        await settle(pilot)
        assert any("no-such-editor-here" in str(n.message) for n in app._notifications)


async def test_clicking_the_key_bar_runs_the_key(demo) -> None:
    store, _ = demo
    app = open_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        text = bar.render().plain
        x = text.index("m Metrics") + 1 + 1  # the bar's padding, then inside the label
        await pilot.click(KeyBar, offset=(x, 0))
        await settle(pilot)
        assert isinstance(app.screen, MetricsScreen)


async def test_help_explains_the_symbols_and_scrolling(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["triage"])
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "scroll" in screen_text(app)
        app.screen.query_one("#help").scroll_end(animate=False)
        await settle(pilot)
        text = screen_text(app)
        for line in ("tool     TOOL_CALL", "stale: active, but quiet", "a child session"):
            assert line in text, line


async def test_palette_has_one_keys_entry_and_no_repeated_blurb(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["triage"])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        commands = list(app.get_system_commands(app.screen))
        titles = [c.title for c in commands]
        assert sum("Keys" in t for t in titles) == 1
        doc = (TimelineScreen.__doc__ or "").strip()
        assert not any(doc and doc in (c.help or "") for c in commands)


async def test_filter_dialog_first_space_toggles_the_first_agent(demo) -> None:
    store, result = demo
    app = open_app(store, result.sessions["triage"])
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, EventFilterDialog)
        agents = app.screen.query_one("#f-agents", CheckList)
        assert agents.highlighted == 0
        agents.focus()
        await pilot.press("space")
        await pilot.pause()
        first = agents.get_option_at_index(0).value
        assert first not in agents.selected and len(agents.selected) == 2
        assert "✔" in screen_text(app)  # checked boxes say so, not only by their colour


async def test_export_dialog_labels_its_choices_and_shows_where_and_a_button(
    demo, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store, result = demo
    app = open_app(store, result.sessions["eval_fail"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        labels = [str(label.render()) for label in app.screen.query(Label)]
        assert "Format" in labels and "Events" in labels
        # the chosen format and scope read ● and the others ○: the choice shows without colour
        lines = screen_text(app).splitlines()
        assert any("●  NDJSON" in line and "○  Filtered view" in line for line in lines)
        assert any("○  JSON" in line and "●  Whole session" in line for line in lines)
        # the full path the file goes to (a long one wraps over lines on screen)
        where = str(app.screen.query_one("#x-where", Static).render())
        assert where == f"→ {tmp_path / 'nightly-eval-summarize-tickets.ndjson'}", where
        assert "→ /" in screen_text(app)
        clicked = await pilot.click("#x-go", offset=(2, 0))  # the Export button
        await settle(pilot)
        assert clicked, screen_text(app)
        assert not isinstance(app.screen, ExportDialog), screen_text(app)
        assert (Path(tmp_path) / "nightly-eval-summarize-tickets.ndjson").exists()
