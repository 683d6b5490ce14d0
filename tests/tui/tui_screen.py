"""Read what a running test app shows, as plain text lines (for assertions on the screen)."""

from __future__ import annotations

from textual.app import App


def screen_text(app: App) -> str:
    """The current screen (with any modal over it) as text, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)
