"""The AgentLog Textual app: screens, global keys, store-error banner and retry, and `make_app`.

`make_app(store, ...)` is the one way to build the app, shared by
`agentlog tui` and the tests (which pass a fixed `now` and no polling so
screens are deterministic).
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.timer import Timer

from agentlog.errors import AgentLogError, InvalidCursor, InvalidInput, NotFound, UsageError
from agentlog.model import SessionSummary
from agentlog.present import DEFAULT_STALE_AFTER, plural
from agentlog.storage.base import EventQuery, SessionQuery, Store
from agentlog.tui import render
from agentlog.tui.access import agentlog_app
from agentlog.tui.messages import StoreFailed, StoreRecovered
from agentlog.tui.widgets.banner import Banner

RETRY_SECONDS = 2.0
# Errors about what was asked, not about the store being reachable: say so, do not retry.
_NOT_RETRIED = (NotFound, InvalidInput, UsageError, InvalidCursor)


def describe_error(error: BaseException) -> str:
    if isinstance(error, AgentLogError):
        return error.message
    return f"{type(error).__name__}: {error}"


class SessionCommands(Provider):
    """Command palette: "go to session" by title (searched in the store)."""

    async def _sessions(self, text: str | None) -> list:
        store: Store = agentlog_app(self).store
        try:
            page = await asyncio.to_thread(store.list_sessions, SessionQuery(text=text, limit=20))
        except Exception:
            return []
        return page.items

    async def discover(self) -> Hits:
        for s in await self._sessions(None):
            title = render.one_line(s.title or "(untitled)", 80)
            yield DiscoveryHit(
                f"Go to session: {title}",
                partial(agentlog_app(self).open_session, s.id),
                help=f"{s.status} · {plural(s.event_count, 'event')}",
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        seen = set()
        for text in (query, None):
            for s in await self._sessions(text):
                if s.id in seen:
                    continue
                seen.add(s.id)
                label = f"Go to session: {render.one_line(s.title or '(untitled)', 80)}"
                score = matcher.match(label)
                if score > 0 or text is not None:
                    yield Hit(
                        max(score, 0.1),
                        matcher.highlight(label),
                        partial(agentlog_app(self).open_session, s.id),
                        help=f"{s.status} · {plural(s.event_count, 'event')}",
                    )


class AgentLogApp(App[None]):
    """Explore what your agents did: sessions, timelines, search, compare, metrics."""

    CSS_PATH = [Path(__file__).parent / "styles" / "app.tcss"]
    TITLE = "AgentLog"
    COMMANDS = App.COMMANDS | {SessionCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Keys"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        store: Store,
        *,
        now: datetime | None = None,
        poll_interval: float | None = 2.0,
        source: str | None = None,
        session_id: str | None = None,
        blink: bool = True,
        stale_after: timedelta | None = DEFAULT_STALE_AFTER,
    ) -> None:
        super().__init__()
        self.blink = blink
        self.stale_after = stale_after
        self.store = store
        self.fixed_now = now
        self.poll_interval = poll_interval
        self.source: str = source or store.url
        self.start_session = session_id
        self._retry_timer: Timer | None = None
        self.store_error: str | None = None

    def now(self) -> datetime:
        """The app's clock: fixed in tests and snapshots so relative times do not vary."""
        return self.fixed_now or datetime.now(UTC)

    def on_mount(self) -> None:
        from agentlog.tui.screens.sessions import SessionsScreen

        self.push_screen(SessionsScreen())
        if self.start_session:
            self.open_session(self.start_session)

    # ------------------------------------------------------------ navigation
    def open_session(self, session_id: str, select: tuple[int, str] | None = None) -> None:
        """Open a session's timeline, at the event with key `select` if given."""
        from agentlog.tui.screens.timeline import TimelineScreen

        self.push_screen(TimelineScreen(session_id, select))

    def open_metrics(self, query: EventQuery, title: str, *, store_wide: bool = False) -> None:
        from agentlog.tui.screens.metrics import MetricsScreen

        self.push_screen(MetricsScreen(query, title, store_wide=store_wide))

    def show_first_run(self) -> None:
        from agentlog.tui.screens.first_run import FirstRunScreen

        self.push_screen(FirstRunScreen())

    def session_clock(self, session_id: str) -> datetime:
        """ "Now" for a session's relative time filters: its last event, or now if it is live."""
        from agentlog.tui.screens.timeline import TimelineScreen

        for screen in self.screen_stack:
            if (
                isinstance(screen, TimelineScreen)
                and screen.session_id == session_id
                and screen.session
            ):
                s = screen.session
                if s.status != "active" and s.last_event_at is not None:
                    return s.last_event_at
        return self.now()

    def compare_with(self, session_id: str) -> None:
        """Pick the other session (same agent first, opposite outcome first), then compare."""
        self._compare_pick(session_id)

    @work(thread=True, exclusive=True, group="compare-pick")
    def _compare_pick(self, session_id: str) -> None:
        try:
            session = self.store.get_session(session_id)
        except Exception as exc:
            self.post_message(StoreFailed(exc))
            return
        self.call_from_thread(self._push_picker, session)

    def _push_picker(self, session) -> None:
        from agentlog.tui.screens.compare import CompareScreen
        from agentlog.tui.screens.pickers import SessionPicker

        agent = session.agents[0] if session.agents else None
        wanted = "completed" if session.status == "failed" else "failed"

        def rank(s: SessionSummary) -> tuple[Any, ...]:
            similar = difflib.SequenceMatcher(None, session.title, s.title).ratio()
            return (s.status != wanted, -similar)

        def chosen(other: str | None) -> None:
            if other:
                self.push_screen(CompareScreen(session.id, other))

        title = f"Compare {render.one_line(session.title or '(untitled)', 40)} with…"
        self.push_screen(
            SessionPicker(
                title,
                SessionQuery(agent=agent, limit=200),
                exclude=session.id,
                rank=rank,
                fallback=SessionQuery(limit=200),
                pinned=SessionQuery(replay_of=session.id, sort="created_at", limit=20),
            ),
            chosen,
        )

    def action_help(self) -> None:
        from agentlog.tui.screens.help import HelpScreen

        if type(self.screen).__name__ != "HelpScreen":
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own "Keys" would sit beside ours: one entry, ours, which lists every key.
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        from agentlog.tui.screens.help import key_label

        for binding in type(screen).BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            yield SystemCommand(
                binding.description,
                f"key: {key_label(binding.key)}",
                partial(screen.run_action, binding.action),
            )
        yield SystemCommand(
            "Keys and symbols",
            "every key on this screen, and what ✔ ● ✖ ⚙ mean (key: ?)",
            self.action_help,
        )

    # ------------------------------------------------------------ store errors
    @on(StoreFailed)
    def _store_failed(self, message: StoreFailed) -> None:
        error = message.error
        text = describe_error(error)
        if isinstance(error, _NOT_RETRIED):
            self.notify(text, severity="error", title="AgentLog")
            return
        self.store_error = text
        self._show_banner(f"⚠ {text} — retrying every {RETRY_SECONDS:.0f}s")
        if self._retry_timer is None:
            self._retry_timer = self.set_interval(RETRY_SECONDS, self._retry)

    def _show_banner(self, text: str) -> None:
        banners = self.screen.query(Banner)
        if banners:
            banners.first().show(text)
        else:
            self.notify(text, severity="error", title="AgentLog")

    def _retry(self) -> None:
        self._probe()

    @work(thread=True, exclusive=True, group="store-retry")
    def _probe(self) -> None:
        try:
            self.store.list_sessions(SessionQuery(limit=1))
        except Exception as exc:
            text = describe_error(exc)
            self.call_from_thread(
                self._show_banner, f"⚠ {text} — retrying every {RETRY_SECONDS:.0f}s"
            )
            return
        self.call_from_thread(self._recovered)

    def _recovered(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        self.store_error = None
        for screen in self.screen_stack:
            for banner in screen.query(Banner):
                banner.hide()
            screen.post_message(StoreRecovered())
        self.notify("Connected again", title="AgentLog")

    def on_screen_resume(self) -> None:
        if self.store_error:
            self._show_banner(f"⚠ {self.store_error} — retrying every {RETRY_SECONDS:.0f}s")


def make_app(
    store: Store,
    *,
    now: datetime | None = None,
    poll_interval: float | None = 2.0,
    source: str | None = None,
    session_id: str | None = None,
    blink: bool = True,
    stale_after: timedelta | None = DEFAULT_STALE_AFTER,
) -> AgentLogApp:
    """The app over `store`.

    Tests and snapshots pass a fixed `now`, `poll_interval=None` (no polling)
    and `blink=False` (no cursor blink), so every screen is deterministic.
    """
    return AgentLogApp(
        store,
        now=now,
        poll_interval=poll_interval,
        source=source,
        session_id=session_id,
        blink=blink,
        stale_after=stale_after,
    )


__all__ = ["AgentLogApp", "describe_error", "make_app"]
