"""Pilot tests of the sessions screen: list, search as you type, filters, sort, paging, first run."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable
from tui_fixture import DEMO_NOW, NOW, fill
from tui_screen import screen_text, settle

from agentlog.model import Session, SessionStatus
from agentlog.storage.base import SessionQuery
from agentlog.transfer.rebuild import plain_session
from agentlog.tui.app import make_app
from agentlog.tui.screens.first_run import FirstRunScreen
from agentlog.tui.screens.sessions import SessionsScreen
from agentlog.tui.screens.timeline import TimelineScreen

pytestmark = pytest.mark.anyio


def app_for(store, **kw):
    return make_app(store, now=kw.pop("now", DEMO_NOW), poll_interval=None, blink=False, **kw)


async def test_lists_demo_sessions_newest_first(demo) -> None:
    store, result = demo
    app = app_for(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        assert len(screen.ids) == result.session_count
        text = screen_text(app)
        assert "Nightly eval: summarize-tickets" in text
        assert f"AgentLog  {result.session_count} sessions" in text
        assert "sort: last activity ↓" in text and "Last activity ↓" in text
        # newest activity first, each child session right under its parent
        rows = [store.get_session(i) for i in screen.ids]
        top = [r.last_event_at for r in rows if r.parent_session_id is None]
        assert top == sorted(top, reverse=True)
        for i, r in enumerate(rows):
            if r.parent_session_id:
                assert rows[i - 1].id == r.parent_session_id or rows[i - 1].parent_session_id
                assert "└ " in str(screen.query_one(DataTable).get_cell(r.id, "title"))


async def test_search_as_you_type_narrows_the_list(demo) -> None:
    store, result = demo
    app = app_for(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Nightly")
        await pilot.pause(0.3)
        await settle(pilot)
        screen = app.screen
        assert set(screen.ids) == {result.sessions["eval_pass"], result.sessions["eval_fail"]}
        await pilot.press("escape")
        await pilot.pause(0.3)
        await settle(pilot)
        assert len(screen.ids) == result.session_count


async def test_status_filter_shows_only_failed(demo) -> None:
    store, result = demo
    app = app_for(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        # the status select is focused: open it, pick "failed" (third option), apply
        await pilot.press("enter", "down", "down", "down", "enter", "ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        assert screen.ids, "some demo sessions failed"
        assert result.sessions["eval_fail"] in screen.ids
        assert all(store.get_session(i).status == SessionStatus.FAILED for i in screen.ids)
        assert "status=failed" in screen_text(app)


async def test_sort_key_cycles_and_reverses(demo) -> None:
    store, _ = demo
    app = app_for(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")  # last_event_at -> created_at? no: the next sortable column
        await settle(pilot)
        screen = app.screen
        assert screen.query_.sort == "title"
        titles = top_titles(store, screen.ids)
        assert titles == sorted(titles)
        await pilot.press("O")
        await settle(pilot)
        titles = top_titles(store, screen.ids)
        assert titles == sorted(titles, reverse=True)
        assert "sort: title ↑" not in screen_text(app) and "Title ↓" in screen_text(app)


def top_titles(store, ids: list[str]) -> list[str]:
    """Titles of the top-level rows (child sessions sit under their parents, out of order)."""
    rows = [store.get_session(i) for i in ids]
    return [r.title for r in rows if r.parent_session_id is None]


async def test_enter_opens_the_timeline(demo) -> None:
    store, result = demo
    app = app_for(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        row = app.screen.ids.index(result.sessions["eval_fail"])
        table.move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TimelineScreen)
        assert app.screen.session_id == result.sessions["eval_fail"]
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)


async def test_pages_load_lazily_as_you_scroll(sqlite_store) -> None:
    store = sqlite_store
    store.write(
        sessions=[
            Session(
                title=f"run {i:04d}", status=SessionStatus.COMPLETED, created_at=NOW, updated_at=NOW
            )
            for i in range(250)
        ]
    )
    app = app_for(store, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert len(screen.ids) == 100  # one page
        assert screen.total == 250
        await pilot.press("G")  # DataTable: end of the loaded rows → next page
        await settle(pilot)
        assert len(screen.ids) == 200
        await pilot.press("G")
        await settle(pilot)
        await pilot.press("G")
        await settle(pilot)
        assert len(screen.ids) == 250
        assert len(set(screen.ids)) == 250


async def test_empty_store_shows_first_run_then_the_list(sqlite_store) -> None:
    store = sqlite_store
    app = app_for(store, now=NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        assert "agentlog demo" in screen_text(app)
        fill(store)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        assert len(app.screen.ids) == 4


async def test_narrow_terminal_drops_columns_and_reflows(demo) -> None:
    store, _ = demo
    app = app_for(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = [c.key.value for c in app.screen.query_one(DataTable).columns.values()]
        assert "cost" not in keys and "title" in keys
        await pilot.resize_terminal(140, 40)
        await settle(pilot)
        keys = [c.key.value for c in app.screen.query_one(DataTable).columns.values()]
        assert "cost" in keys
        assert "Cost" in screen_text(app)


async def test_time_filters_active_since_and_created_before(demo) -> None:
    store, result = demo
    app = app_for(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#f-since").value = "4h"
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert result.sessions["eval_fail"] in screen.ids  # 3 hours ago
        assert result.sessions["eval_pass"] not in screen.ids  # a day ago
        assert "active since" in screen_text(app)
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#f-since").value = ""
        app.screen.query_one("#f-until").value = "1d"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert result.sessions["eval_pass"] in screen.ids
        assert result.sessions["eval_fail"] not in screen.ids


class CountingStore:
    """Delegates to `inner` and records the name of every Store method the TUI calls."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.url = inner.url
        self.team_id = None

    def __getattr__(self, name: str):
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args, **kwargs):
            self.calls.append(name)
            return target(*args, **kwargs)

        return call


async def test_live_list_adds_new_sessions_with_one_query_per_refresh(
    sqlite_store, monkeypatch
) -> None:
    # Idle means nothing written within the store's re-read margin (5 s); no margin
    # stands for a fill long ago without the test waiting for it.
    monkeypatch.setattr("agentlog.storage.sql.sessions.CHANGE_MARGIN_US", 0)
    inner = sqlite_store
    fill(inner)
    store = CountingStore(inner)
    app = make_app(store, now=NOW, poll_interval=None, blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        before = list(screen.ids)
        # Idle refreshes: exactly one store call each, whatever the number of rows shown.
        store.calls.clear()
        for _ in range(3):
            screen._poll()
            await settle(pilot)
        assert store.calls == ["changed_sessions"] * 3, store.calls
        # An agent starts a run while the list is open: its row appears without `r`.
        fresh = Session(title="a brand new run", created_at=NOW, updated_at=NOW)
        inner.write(sessions=[fresh])
        screen._poll()
        await settle(pilot)
        assert fresh.id in screen.ids
        assert set(before) <= set(screen.ids)
        assert "a brand new run" in screen_text(app)
        # A change to a shown row is applied in place, no listing.
        store.calls.clear()
        shown = plain_session(inner.get_session(before[0]))
        inner.write(sessions=[shown.model_copy(update={"status": SessionStatus.FAILED})])
        screen._poll()
        await settle(pilot)
        assert "list_sessions" not in store.calls
        table = screen.query_one(DataTable)
        assert str(table.get_cell(shown.id, "status")) == "✖"


async def test_a_quiet_active_session_shows_as_stale(demo) -> None:
    store, _ = demo
    active = store.list_sessions(SessionQuery(status=SessionStatus.ACTIVE)).items[0]
    quiet_for = DEMO_NOW - active.last_event_at
    app = make_app(store, now=DEMO_NOW, poll_interval=None, blink=False, stale_after=quiet_for / 2)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell(active.id, "status")) == "◌"
    app = make_app(store, now=DEMO_NOW, poll_interval=None, blink=False, stale_after=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert str(app.screen.query_one(DataTable).get_cell(active.id, "status")) == "●"


async def test_a_runs_tokens_and_cost_add_its_child_sessions(demo) -> None:
    """The deploy run's own session made few model calls; its researcher's session made more."""
    from agentlog.storage.tree import session_tree_totals

    store, _ = demo
    root = next(
        s for s in store.list_sessions(SessionQuery(limit=100)).items if s.title.startswith("Why")
    )
    tree = session_tree_totals(store, root)
    assert tree.sub_sessions and tree.tokens > root.input_tokens + root.output_tokens
    app = app_for(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell(root.id, "tokens")) == f"Σ{tree.tokens:,}"
        assert str(table.get_cell(root.id, "cost")).startswith("Σ$")
        child = next(s for s in app.screen.ids if store.get_session(s).parent_session_id)
        assert not str(table.get_cell(child, "tokens")).startswith("Σ")
