"""Helpers for pilot tests: read what the app shows as text, and wait for workers to settle."""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot


def screen_text(app: App) -> str:
    """The current screen (with any modal over it) as text, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let workers finish and their messages land (a few rounds: workers start workers)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
