"""One scenario: the EventTimeline widget alone, on the fixture's failing run, with a search highlighted."""

from __future__ import annotations

from textual.app import App, ComposeResult
from tui_fixture import fill

from agentlog.storage.base import EventQuery
from agentlog.tui.widgets.timeline import EventTimeline
from tests.support.stores import TempStore


class TimelineWidgetApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.store = TempStore()
        self.ids = fill(self.store)

    def compose(self) -> ComposeResult:
        yield EventTimeline(self.store)

    def on_mount(self) -> None:
        timeline = self.query_one(EventTimeline)
        timeline.session_start = self.store.get_session(self.ids["bad"]).first_event_at
        timeline.search_term = "timed out"
        timeline.load(EventQuery(session_id=self.ids["bad"]))
        timeline.focus()

    def on_unmount(self) -> None:
        self.store.close()
