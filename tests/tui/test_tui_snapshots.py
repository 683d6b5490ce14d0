"""Snapshot tests: every screen at 80x24 and 120x40 on the fixed demo store, and each widget alone.

Everything that varies is fixed: the demo's ids and times, the app's clock
(`now`), no polling, no cursor blink; workers are awaited before the shot.
Update with `pytest tests/tui/test_tui_snapshots.py --snapshot-update` and
look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest
from snapshot_apps.banner_widget import BannerWidgetApp
from snapshot_apps.detail_widget import DetailWidgetApp
from snapshot_apps.timeline_widget import TimelineWidgetApp
from tui_fixture import DEMO_NOW
from tui_screen import settle

from agentlog.tui.app import make_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def demo_app(store, session_id=None):
    return make_app(
        store,
        now=DEMO_NOW,
        poll_interval=None,
        blink=False,
        source="demo.db",
        session_id=session_id,
    )


def keys(*groups: str | tuple[str, ...]):
    """A run_before that presses each group of keys, letting workers settle after each group."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for group in groups:
            await pilot.press(*((group,) if isinstance(group, str) else group))
            await settle(pilot)
        # Screens under a modal repaint (focus lost) a frame later; let that land too.
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.05)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_sessions_screen(snap_compare, demo, size) -> None:
    """The home screen: demo sessions newest first, with the activity line."""
    store, _ = demo
    assert snap_compare(demo_app(store), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", SIZES)
def test_first_run_screen(snap_compare, size, sqlite_store) -> None:
    """An empty store explains how to get data in."""
    app = make_app(sqlite_store, now=DEMO_NOW, poll_interval=None, blink=False, source="empty.db")
    assert snap_compare(app, terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", SIZES)
def test_timeline_filtered_and_searched(snap_compare, demo, size) -> None:
    """The failing eval run, filtered to TOOL_CALL and ERROR, searched for "timeout"."""
    store, result = demo
    app = demo_app(store, result.sessions["eval_fail"])
    presses = [
        "t",
        "n",
        "down",
        "down",
        "down",
        "space",
        *["down"] * 5,
        "space",
        "enter",
        "slash",
        *"timeout",
        "enter",
    ]
    assert snap_compare(app, terminal_size=size, run_before=keys(*presses))


@pytest.mark.parametrize("size", SIZES)
def test_type_toggles_dialog(snap_compare, demo, size) -> None:
    """The type toggles with their counts."""
    store, result = demo
    assert snap_compare(
        demo_app(store, result.sessions["eval_fail"]), terminal_size=size, run_before=keys("t")
    )


@pytest.mark.parametrize("size", SIZES)
def test_compare_screen(snap_compare, demo, size) -> None:
    """The failing and the passing eval run side by side, at the first divergence."""
    store, result = demo
    app = demo_app(store, result.sessions["eval_fail"])
    assert snap_compare(app, terminal_size=size, run_before=keys("c", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_metrics_screen(snap_compare, demo, size) -> None:
    """The triage session's performance profile."""
    store, result = demo
    assert snap_compare(
        demo_app(store, result.sessions["triage"]), terminal_size=size, run_before=keys("m")
    )


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, demo, size) -> None:
    """? on the timeline lists its keys."""
    store, result = demo
    assert snap_compare(
        demo_app(store, result.sessions["eval_fail"]),
        terminal_size=size,
        run_before=keys("question_mark"),
    )


@pytest.mark.parametrize("size", SIZES)
def test_export_dialog(snap_compare, demo, size, monkeypatch) -> None:
    """e on the timeline: format, scope and file."""
    # The dialog shows the file's full path, relative to where the TUI started: start it
    # in the same folder on every machine (nothing is written; the dialog stays open).
    monkeypatch.chdir("/")
    store, result = demo
    assert snap_compare(
        demo_app(store, result.sessions["eval_fail"]), terminal_size=size, run_before=keys("e")
    )


def test_timeline_widget(snap_compare) -> None:
    """The line-API timeline alone, with the search term highlighted."""
    assert snap_compare(TimelineWidgetApp(), terminal_size=(100, 8), run_before=keys())


def test_detail_widget(snap_compare) -> None:
    """JSON re-escaped, RTL text, ANSI shown inert, deep metadata expanded."""
    assert snap_compare(DetailWidgetApp(), terminal_size=(70, 40), run_before=keys())


def test_banner_widget(snap_compare) -> None:
    """The error banner shows its message literally (no markup)."""
    assert snap_compare(BannerWidgetApp(), terminal_size=(80, 4), run_before=keys())
