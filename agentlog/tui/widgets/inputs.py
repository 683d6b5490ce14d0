"""A text box that follows the app's `blink` setting (off in tests and snapshots)."""

from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    """An `Input` whose cursor blinks only when the app allows it."""

    def on_mount(self) -> None:
        self.cursor_blink = bool(getattr(self.app, "blink", True))
