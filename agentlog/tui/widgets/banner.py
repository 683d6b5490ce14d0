"""A one-line banner for errors and loading states, shown at the top of a screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class Banner(Static):
    """Hidden until `show()` is called; says what went wrong and what the app is doing about it."""

    DEFAULT_CSS = """
    Banner { display: none; height: auto; padding: 0 1; background: $error; color: $text; }
    Banner.-visible { display: block; }
    Banner.-info { background: $primary-darken-2; }
    """

    def show(self, message: str, *, info: bool = False) -> None:
        self.update(Text(message))  # messages may quote user data: never markup
        self.set_class(info, "-info")
        self.add_class("-visible")

    def hide(self) -> None:
        self.remove_class("-visible")

    @property
    def shown(self) -> bool:
        return self.has_class("-visible")
