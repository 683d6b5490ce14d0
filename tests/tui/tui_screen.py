"""Helpers for pilot tests: read what the app shows as text, and wait for workers to settle."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot


def screen_text(app: App) -> str:
    """The current screen (with any modal over it) as text, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


async def settle(pilot: Pilot, rounds: int = 2, limit: int = 40) -> None:
    """Wait until no worker has run for `rounds` pauses in a row (workers start workers)."""
    idle = 0
    for _ in range(limit):
        await pilot.pause()
        busy = any(not w.is_finished for w in pilot.app.workers)
        await pilot.app.workers.wait_for_complete()
        idle = 0 if busy else idle + 1
        if idle >= rounds:
            return
