"""The key bar: the current screen's keys on one line, like Textual's Footer but one widget.

Textual's `Footer` mounts a widget per key and rebuilds them whenever focus
moves; on a busy screen that restyling cost more than the timeline itself.
This draws the same information as one line of text, updated on focus changes.
"""

from __future__ import annotations

from rich.text import Text
from textual.events import Click
from textual.widget import Widget


class KeyBar(Widget):
    """`key description` for every shown binding of the focused chain, then the palette key."""

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.watch(self.screen, "focused", self._changed, init=False)

    def _changed(self) -> None:
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        seen: set[str] = set()
        self._spans: list[tuple[int, int, str]] = []  # (start, end, action): what a click runs
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            if text:
                text.append("  ")
            start = len(text)
            text.append(self.app.get_key_display(binding), style="bold")
            text.append(f" {binding.description}", style="dim" if not active.enabled else "")
            if active.enabled:
                self._spans.append((start, len(text), binding.action))
        start = len(text) + 2
        text.append("  ^p", style="bold")
        text.append(" palette")
        self._spans.append((start, len(text), "app.command_palette"))
        return text

    async def on_click(self, event: Click) -> None:
        """A click on `key description` does what the key does (the bar is one line of text)."""
        x = event.x - 1  # the bar's left padding
        for start, end, action in getattr(self, "_spans", []):
            if start <= x < end:
                event.stop()
                await self.screen.run_action(action)
                return
