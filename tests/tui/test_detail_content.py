"""The detail pane's content is bounded in lines as well as characters, so no event freezes it."""

from __future__ import annotations

import time

import orjson
import pytest
from rich.console import Console

from agentlog.present import head_lines
from agentlog.tui.widgets.detail import MAX_LINES, content_renderable

CONTENTS = {
    # 10,000 lines pretty-printed (a real tool result; 120,000 froze the TUI for 35 s)
    "json array": orjson.dumps([0] * 10_000).decode(),
    # 20,000 newlines of plain text
    "newlines": "\n" * 20_000,
    # a model call whose messages hold 20,000 lines (46 s for 120,000)
    "conversation": orjson.dumps(
        {"prompt": [{"role": "user", "content": "\n" * 2_000}] * 10, "response": "ok"}
    ).decode(),
}


@pytest.mark.parametrize("name", list(CONTENTS))
def test_content_renders_at_most_max_lines(name: str) -> None:
    console = Console(width=80, color_system=None)
    started = time.perf_counter()
    lines = console.render_lines(content_renderable(CONTENTS[name]), console.options)
    assert len(lines) <= 2 * MAX_LINES + 50, len(lines)  # a transcript and its JSON
    assert time.perf_counter() - started < 10
    shown = "".join(seg.text for line in lines[:3] for seg in line)
    assert "in all; showing the first" in shown or name == "conversation"


def test_head_lines_counts_every_line() -> None:
    assert head_lines("a\nb\nc", 2) == ("a\nb", 3)
    assert head_lines("a\nb", 2) == ("a\nb", 2)
    assert head_lines("", 5) == ("", 1)
