"""A SelectionList whose boxes read ✔ or blank, so checked and unchecked differ by more than a tint."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import SelectionList
from textual.widgets._toggle_button import ToggleButton
from textual.widgets.option_list import OptionDoesNotExist


class CheckList(SelectionList[str]):
    """Textual's SelectionList draws the same "X" in both states (only its colour changes)."""

    DEFAULT_CSS = """
    CheckList > .selection-list--button-selected,
    CheckList > .selection-list--button-selected-highlighted {
        text-style: bold;
    }
    """

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        mark = "✔" if option.value in self._selected else " "
        segments[1] = Segment(mark, segments[1].style, segments[1].control)
        return Strip(segments, strip.cell_length)

    def on_mount(self) -> None:
        # The first Space must toggle the first row: start with it highlighted, not nothing.
        self.call_after_refresh(self._highlight_first)

    def _highlight_first(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0
