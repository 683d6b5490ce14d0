"""A RadioButton that reads ● when chosen and ○ when not, so the choice shows without colour."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import RadioButton


class MarkedRadioButton(RadioButton):
    """Textual's RadioButton draws the same ● in both states (only its colour changes)."""

    CHOSEN = "●"
    NOT_CHOSEN = "○"

    @property
    def _button(self) -> Content:
        button_style = self.get_visual_style("toggle--button")
        return Content.assemble(
            (" ", button_style),
            (self.CHOSEN if self.value else self.NOT_CHOSEN, button_style),
            (" ", button_style),
        )
