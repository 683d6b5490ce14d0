"""The `?` screen: every key of the screen underneath, its widgets and the app, generated from the bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from agentlog.present import STATES, TYPES

_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "escape": "esc",
    "enter": "enter",
    "pagedown": "pgdn",
    "pageup": "pgup",
    "ctrl+p": "ctrl+p",
}


def key_label(keys: str) -> str:
    out = []
    for key in keys.split(","):
        key = key.strip()
        out.append(_KEY_NAMES.get(key, key))
    return " ".join(out)


def _bindings(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for b in bindings:
        binding = b if isinstance(b, Binding) else Binding(*b)
        if binding.description:
            rows.append((key_label(binding.key), binding.description))
    return rows


def sections(screen: Screen, app: DOMNode) -> list[tuple[str, list[tuple[str, str]]]]:
    """(title, [(keys, what)]) for the screen, each kind of widget on it, and the app."""
    out = [(screen.__class__.__doc__ or type(screen).__name__, _bindings(type(screen).BINDINGS))]
    seen: set[type] = set()
    for widget in screen.walk_children():
        kind = type(widget)
        if (
            kind in seen
            or not kind.__dict__.get("BINDINGS")
            or not kind.__module__.startswith("agentlog")
        ):
            continue
        seen.add(kind)
        out.append((f"In the {kind.__name__}", _bindings(kind.BINDINGS)))
    out.append(
        (
            "Everywhere",
            [
                *_bindings(type(app).BINDINGS),
                ("ctrl+p", "Command palette: every action, sessions by title"),
            ],
        )
    )
    return [(title.strip().splitlines()[0], rows) for title, rows in out if rows]


def legend() -> Table:
    """What each glyph means: event types and session states, in their colours."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, justify="right")
    table.add_column()
    for kind, (glyph, style, short) in TYPES.items():
        table.add_row(Text(glyph, style=style), Text(f"{short.lower():<8} {kind}", style=""))
    table.add_row("", "")
    meaning = {
        "active": "active: events still arriving",
        "stale": "stale: active, but quiet for longer than display.stale_after_minutes",
        "completed": "completed",
        "failed": "failed",
    }
    for state, (glyph, style) in STATES.items():
        table.add_row(Text(glyph, style=style), meaning.get(state, state))
    table.add_row(
        Text("✖", style="bold red"), "in the timeline's first column: an event that failed"
    )
    table.add_row(Text("└", style="dim"), "a child session, under its parent")
    return table


class HelpScreen(ModalScreen[None]):
    """Every key of the screen you came from, and what the symbols mean."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True, justify="right")
        table.add_column()
        for title, rows in sections(self.under, self.app):
            table.add_row("", "")
            table.add_row("", Text(title, style="bold underline"))
            for keys, what in rows:
                table.add_row(keys, what)
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static("Keys  (↑↓ pgup pgdn scroll · esc closes)", classes="dialog-title")
            yield Static(table)
            yield Static(Text("Symbols", style="bold underline"), classes="help-section")
            yield Static(legend())

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
