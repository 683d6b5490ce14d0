"""The detail pane: one event's fields, its content pretty-printed and its metadata as a tree.

Content is untrusted: JSON is re-serialised (so control characters become
`\\u001b` escapes) and syntax-highlighted, other text is made safe and
wrapped, and anything past `MAX_SHOWN` characters or `MAX_LINES` lines is cut
with a note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from agentlog import present
from agentlog.model import Event
from agentlog.tui import render

MAX_SHOWN = present.CONTENT_CHARS  # characters of content rendered; the rest is one export away
MAX_CHILDREN = 200  # metadata children shown per node
# Lines of content rendered: the pane lays out every line on the UI thread at each
# update, so a tool result of [0] * 120000 (120,000 lines pretty-printed) froze the
# TUI for 35 s and 120,000 newlines in a prompt for 46 s; 2,000 lines take ~0.1 s.
MAX_LINES = present.CONTENT_LINES


ROLE_STYLES = {
    "system": "dim bold",
    "user": "bold cyan",
    "human": "bold cyan",
    "assistant": "bold magenta",
    "ai": "bold magenta",
    "tool": "bold yellow",
}
MAX_TURNS = 200  # messages of a conversation shown; the JSON below has them all


def turns_of(value: Any) -> list[dict[str, Any]] | None:
    """The messages of a model call (`{"prompt", "response"}`: the SDK, LangGraph, OpenAI
    Agents) or of a graph's state (`{"messages"}`), when every one has a role; else None."""
    if not isinstance(value, dict):
        return None
    if "prompt" in value or "response" in value:
        prompt = value.get("prompt")
        if isinstance(prompt, list) and prompt and isinstance(prompt[0], list):
            prompt = prompt[0]  # LangChain's batch of one
        turns: list[Any] = (
            list(prompt)
            if isinstance(prompt, list)
            else [{"role": "user", "content": prompt}]
            if isinstance(prompt, str)
            else []
        )
        response = value.get("response")
        if isinstance(response, str):
            response = {"role": "assistant", "content": response}
        if response is not None:
            turns.append(response)
    elif isinstance(value.get("messages"), list):
        turns = value["messages"]
    else:
        return None
    if turns and all(isinstance(t, dict) and isinstance(t.get("role"), str) for t in turns):
        return turns
    return None


def _lines_note(total: int) -> Text:
    return Text(
        f"{total:,} lines in all; showing the first {MAX_LINES:,} (e exports the full event)\n",
        style="italic dim",
    )


def conversation(turns: list[dict[str, Any]], term: str | None = None) -> Text:
    """Messages as a transcript: each role (and a tool's name), its text, the calls it asked for."""
    text = Text(overflow="fold")
    budget = MAX_LINES  # lines of the turns' texts still to show
    for turn in turns[:MAX_TURNS]:
        role = turn["role"]
        name = turn.get("name")
        text.append(render.one_line(role, 40), style=ROLE_STYLES.get(role, "bold"))
        if isinstance(name, str) and name:
            text.append(" " + render.one_line(name, 80), style="dim")
        text.append("\n")
        said = present.message_text(turn.get("content")) or present.message_text(turn.get("parts"))
        if said:
            safe = render.safe_text(said, MAX_SHOWN)
            shown, lines = present.head_lines(safe, max(budget, 1))
            text.append(shown + "\n")
            if len(shown) < len(safe):
                text.append("… (cut here; e exports the full event)\n", style="dim")
            budget = max(budget - lines, 0)
        for call in turn.get("tool_calls") or ():
            if isinstance(call, dict):
                shown = render.one_line(present.tool_call_text(call), 500)
                text.append(f"→ {shown}\n", style="yellow")
        text.append("\n")
    if len(turns) > MAX_TURNS:
        text.append(f"… {len(turns) - MAX_TURNS} more messages in the JSON below\n\n", style="dim")
    render.highlight(text, term)
    return text


def content_renderable(content: str | None, term: str | None = None) -> RenderableType:
    """Content as JSON with syntax colours when it parses (a conversation's turns first),
    else safe wrapped text."""
    if not content:
        return Text("(no content)", style="dim")
    value = present.parsed_json(content)  # larger JSON is shown as text, not re-parsed
    if value is not None:
        pretty = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
        pretty = render.safe_text(pretty)  # orjson keeps e.g. bidi controls raw
        size = len(pretty)
        pretty, total = present.head_lines(pretty[:MAX_SHOWN])
        raw: RenderableType = Syntax(
            pretty, "json", word_wrap=True, theme="ansi_dark", background_color="default"
        )
        if size > MAX_SHOWN or total > MAX_LINES:
            raw = Group(
                Text(
                    f"{size:,} characters of JSON in all; showing the first "
                    f"{len(pretty):,} (e exports the full event)\n",
                    style="italic dim",
                ),
                raw,
            )
        turns = turns_of(value)
        if turns is None:
            return raw
        return Group(conversation(turns, term), Text("as recorded:", style="dim italic"), raw)
    shown, total = present.head_lines(render.safe_text(content, MAX_SHOWN))
    text = Text(overflow="fold")
    if len(content) > MAX_SHOWN:
        text.append(
            f"{len(content):,} characters in all; showing the first {MAX_SHOWN:,} "
            "(e exports the full event)\n",
            style="italic dim",
        )
    if total > MAX_LINES:
        text.append(_lines_note(content.count("\n") + 1))
    text.append(shown)
    render.highlight(text, term)
    return text


def fields_table(event: Event, session_start: datetime | None) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    icon, style = render.TYPE_ICONS.get(event.type, ("?", "white"))
    table.add_row("type", Text(f"{icon} {event.type}", style=style))
    if event.name:
        table.add_row("name", Text(render.safe_text(event.name), style="bold"))
    if event.agent_id:
        table.add_row(
            "agent",
            Text(render.safe_text(event.agent_id), style=render.agent_colour(event.agent_id)),
        )
    table.add_row(
        "time",
        Text(f"{render.clock(event.timestamp)}  {render.offset(event.timestamp, session_start)}"),
    )
    status = Text(str(event.status), style="bold red" if event.status == "error" else "green")
    table.add_row("status", status)
    if event.duration_ms is not None:
        table.add_row("duration", render.duration(event.duration_ms))
    if event.input_tokens or event.output_tokens:
        table.add_row(
            "tokens",
            present.tokens(
                event.input_tokens,
                event.output_tokens,
                event.cache_read_tokens,
                event.cache_creation_tokens,
                event.reasoning_tokens,
            ),
        )
    if event.cost_usd:
        table.add_row("cost", render.cost(event.cost_usd))
    table.add_row("id", Text(event.id, style="dim"))
    if event.parent_id:
        table.add_row("parent", Text(f"{event.parent_id}  (p jumps to it)", style="dim"))
    return table


def _leaf(key: str, value: Any) -> Text:
    shown = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    text = Text(render.safe_text(key), style="bold")
    text.append(": ")
    text.append(render.one_line(shown, 300), style="green" if isinstance(value, str) else "cyan")
    return text


def add_tree(node: TreeNode[Any], value: Any) -> None:
    """Add `value`'s children under `node` (dicts by key, lists by index)."""
    items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
    for key, child in items[:MAX_CHILDREN]:
        label = str(key) if isinstance(value, dict) else f"[{key}]"
        if isinstance(child, dict | list) and child:
            size = f"{{{len(child)}}}" if isinstance(child, dict) else f"[{len(child)}]"
            branch = node.add(Text.assemble((render.safe_text(label), "bold"), " ", (size, "dim")))
            add_tree(branch, child)
        else:
            node.add_leaf(_leaf(label, child))
    if len(items) > MAX_CHILDREN:
        node.add_leaf(Text(f"… {len(items) - MAX_CHILDREN} more", style="dim"))


class MetadataTree(Tree[Any]):
    """Metadata as a collapsible tree; x expands or collapses every node."""

    DEFAULT_CSS = """
    MetadataTree { height: auto; max-height: 100%; background: $surface; padding: 0 1; }
    """

    BINDINGS = [("x", "toggle_all", "Expand/collapse all")]

    def show(self, metadata: dict[str, Any]) -> None:
        self.clear()
        self.root.set_label(Text(f"metadata {{{len(metadata)}}}", style="bold"))
        add_tree(self.root, metadata)
        self.root.expand()

    def action_toggle_all(self) -> None:
        nodes = list(self.root.children)
        if any(not n.is_expanded for n in nodes if n.allow_expand):
            self.root.expand_all()
        else:
            for n in nodes:
                n.collapse_all()


class EventDetail(VerticalScroll):
    """The selected event in full: fields, content, metadata."""

    DEFAULT_CSS = """
    EventDetail { background: $surface; padding: 0 1; }
    EventDetail > #detail-fields { margin-bottom: 1; }
    EventDetail > #detail-content { margin-bottom: 1; }
    EventDetail > .-hidden { display: none; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("Select an event", style="dim"), id="detail-fields")
        yield Static("", id="detail-content")
        tree = MetadataTree("metadata", id="detail-meta")
        tree.add_class("-hidden")
        yield tree

    def show_empty(self) -> None:
        self.query_one("#detail-fields", Static).update(Text("No event selected", style="dim"))
        self.query_one("#detail-content", Static).update("")
        self.query_one(MetadataTree).add_class("-hidden")

    def show(
        self, event: Event | None, session_start: datetime | None, term: str | None = None
    ) -> None:
        fields = self.query_one("#detail-fields", Static)
        content = self.query_one("#detail-content", Static)
        tree = self.query_one(MetadataTree)
        if event is None:
            fields.update(Text("loading…", style="dim"))
            content.update("")
            tree.add_class("-hidden")
            return
        fields.update(Group(fields_table(event, session_start)))
        content.update(content_renderable(event.content, term))
        if event.metadata:
            tree.show(event.metadata)
            tree.remove_class("-hidden")
        else:
            tree.add_class("-hidden")
        self.scroll_home(animate=False)
