"""One place that prints: rows as a rich table, `--json` or `--ndjson`; messages on stderr.

Data goes to stdout, everything else (hints, next-page cursors, warnings,
progress) to stderr through `err`, so `agentlog search x --json | jq` always
gets clean JSON. Every command formats its output through these functions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentlog.errors import UsageError
from agentlog.model import format_ts
from agentlog.textsafe import escape_json_controls, flat, safe_text


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    NDJSON = "ndjson"


def output_format(json: bool = False, ndjson: bool = False) -> Format:
    """The format chosen by --json / --ndjson (both is a usage error)."""
    if json and ndjson:
        raise UsageError("choose one of --json and --ndjson")
    if json:
        return Format.JSON
    if ndjson:
        return Format.NDJSON
    return Format.TABLE


def out() -> Console:
    """A Console on the current stdout (made per call so test runners can swap streams)."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=False)


def err() -> Console:
    """A Console on the current stderr: messages, hints, warnings, progress."""
    return Console(file=sys.stderr, highlight=False)


def message(text: str, *, style: str | None = None) -> None:
    """A message for the human (stderr), never mixed with data."""
    err().print(safe_text(text), style=style, markup=False, soft_wrap=True)


def warn(text: str) -> None:
    err().print(Text("warning: ", style="bold yellow") + Text(safe_text(text)), soft_wrap=True)


def is_terminal(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- JSON
def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_ts(value)
    if hasattr(value, "to_json_dict"):
        return value.to_json_dict()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def to_jsonable(value: Any) -> Any:
    """Models → their JSON dicts (times as ISO `Z` text); plain values pass through."""
    if hasattr(value, "to_json_dict"):
        return value.to_json_dict()
    return value


def dumps(value: Any, *, indent: bool = False) -> str:
    # Datetimes go through _default so every time prints as ISO 8601 with `Z`.
    option = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    option |= orjson.OPT_INDENT_2 if indent else 0
    text = orjson.dumps(to_jsonable(value), default=_default, option=option).decode()
    # C1 controls (U+009B is a CSI) would act on a terminal: write them as \u escapes.
    return escape_json_controls(text)


def write_line(text: str) -> None:
    sys.stdout.write(text + "\n")


def print_json(value: Any) -> None:
    """One JSON document on stdout (indented on a terminal, compact in a pipe)."""
    write_line(dumps(value, indent=is_terminal()))
    sys.stdout.flush()


def print_json_items(rows: Iterable[Any]) -> None:
    """`{"items": [...], "next_cursor": null}` written row by row, holding one row at a time
    (every page of a large session); indented, and so held whole, on a terminal."""
    if is_terminal():
        print_json({"items": [to_jsonable(r) for r in rows], "next_cursor": None})
        return
    out = sys.stdout
    out.write('{"items":[')
    for i, row in enumerate(rows):
        out.write("," + dumps(row) if i else dumps(row))
    out.write('],"next_cursor":null}\n')
    out.flush()


def print_ndjson(rows: Iterable[Any]) -> None:
    for row in rows:
        write_line(dumps(row))
    sys.stdout.flush()


# ---------------------------------------------------------------- tables
@dataclass(frozen=True)
class Column:
    """One table column: where the value comes from and how it looks."""

    header: str
    get: Callable[[Any], Any]
    justify: str = "left"
    max_width: int | None = None
    style: str | None = None
    no_wrap: bool = True
    # Narrow terminals drop the lowest-priority columns first (10 = never dropped).
    priority: int = 5
    # A flexible column (a title, some content) shrinks down to `min_width`;
    # the others keep their natural width, so ids are never cut.
    flex: bool = False
    min_width: int = 12
    # The style of one row's cell (a status or type colour), from the row.
    paint: Callable[[Any], str | None] | None = None


def _paint(column: Column, row: Any) -> str:
    return (column.paint(row) or "") if column.paint is not None else ""


def cell(value: Any) -> str:
    """A value as the text of a table cell, with control characters made visible."""
    return safe_text(_cell(value))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return short_time(value)
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return dumps(value)
    return str(value)


def short_time(value: datetime) -> str:
    return format_ts(value)[:19].replace("T", " ")


def one_line(text: str | None, width: int = 80) -> str:
    """Content for a table cell: whitespace collapsed, controls visible, cut to `width` characters."""
    return flat(text, width)


GAP = 2  # rich's padding between columns of a box-less table
UNBOUNDED = 1_000_000  # a width every table fits in


def fit_columns(cells: list[list[str]], columns: Sequence[Column], width: int) -> dict[int, int]:
    """The columns that fit in `width` and the width each gets ({index: width}, in order).

    Fixed columns keep their natural width (ids are never cut). While even
    the minimums do not fit, the lowest-priority column is dropped; then the
    flexible columns shrink, lowest priority first, down to their minimum.
    """
    natural: list[int] = []
    minimum: list[int] = []
    for i, col in enumerate(columns):
        size = max([cell_len(col.header), *(cell_len(row[i]) for row in cells)])
        if col.max_width:
            size = min(size, col.max_width)
        natural.append(size)
        minimum.append(min(size, col.min_width) if col.flex else size)
    keep = list(range(len(columns)))

    def total(sizes: list[int]) -> int:
        return sum(sizes[i] for i in keep) + GAP * (len(keep) - 1)

    # Equal priorities drop from the right, so tables that set none lose their last columns.
    for _, neg in sorted((c.priority, -i) for i, c in enumerate(columns) if c.priority < 10):
        if total(minimum) <= width or len(keep) == 1:
            break
        keep.remove(-neg)
    sizes = list(natural)
    flexible = sorted((columns[i].priority, i) for i in keep if columns[i].flex)
    for _, i in flexible:
        excess = total(sizes) - width
        if excess <= 0:
            break
        sizes[i] = max(minimum[i], sizes[i] - excess)
    # Still too wide (only fixed columns left): cut the widest rather than wrap lines.
    while total(sizes) > width and max(sizes[i] for i in keep) > 4:
        widest = max(keep, key=lambda i: sizes[i])
        sizes[widest] = max(4, sizes[widest] - (total(sizes) - width))
    return {i: sizes[i] for i in keep}


def print_table(
    rows: Sequence[Any], columns: Sequence[Column], *, title: str | None = None
) -> None:
    console = out()
    cells = [[" ".join(cell(col.get(row)).splitlines()) for col in columns] for row in rows]
    if is_terminal():
        width = console.width
    elif "COLUMNS" in os.environ:
        width = console.width = max(console.width, 200)
    else:
        # Piped with no width asked for: nothing to fit, so no column (an agent, an id)
        # is squeezed; each keeps its natural width, up to its max_width.
        natural = fit_columns(cells, columns, UNBOUNDED)
        width = sum(natural.values()) + GAP * max(len(natural) - 1, 0)
        width = console.width = max(width, cell_len(title or ""), 1)
    widths = fit_columns(cells, columns, width)
    table = Table(
        title=Text(safe_text(title)) if title else None,
        box=None,
        header_style="bold",
        pad_edge=False,
        expand=False,
    )
    for i, size in widths.items():
        col = columns[i]
        table.add_column(
            col.header,
            justify=col.justify,  # type: ignore[arg-type]
            width=size,
            style=col.style,
            no_wrap=col.no_wrap,
            overflow="ellipsis",
        )
    for row, cells_of_row in zip(rows, cells, strict=True):
        table.add_row(*(Text(cells_of_row[i], style=_paint(columns[i], row)) for i in widths))
    console.print(table)


def print_rows(
    rows: Sequence[Any],
    columns: Sequence[Column],
    fmt: Format,
    *,
    next_cursor: str | None = None,
    title: str | None = None,
    empty: str = "nothing found",
) -> None:
    """A page of rows in the chosen format; the next cursor goes to JSON or stderr."""
    if fmt is Format.JSON:
        print_json({"items": [to_jsonable(r) for r in rows], "next_cursor": next_cursor})
        return
    if fmt is Format.NDJSON:
        print_ndjson(rows)
        if next_cursor:
            message(f"next page: --cursor {next_cursor}")
        return
    if not rows:
        message(empty)
    else:
        print_table(rows, columns, title=title)
    if next_cursor:
        message(f"more: add --cursor {next_cursor}")


def print_object(
    value: Any,
    fmt: Format,
    *,
    fields: Sequence[tuple[str, Any]] | None = None,
    title: str | None = None,
) -> None:
    """One object: JSON, one NDJSON line, or a two-column key/value table."""
    if fmt is Format.JSON:
        print_json(value)
        return
    if fmt is Format.NDJSON:
        print_ndjson([value])
        return
    data = fields if fields is not None else list(to_jsonable(value).items())
    table = Table(
        title=Text(safe_text(title)) if title else None, box=None, show_header=False, pad_edge=False
    )
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, val in data:
        table.add_row(safe_text(key), Text(cell(val)))
    out().print(table)


__all__ = [
    "Column",
    "Format",
    "cell",
    "dumps",
    "err",
    "fit_columns",
    "is_terminal",
    "message",
    "one_line",
    "out",
    "output_format",
    "print_json",
    "print_ndjson",
    "print_object",
    "print_rows",
    "print_table",
    "short_time",
    "to_jsonable",
    "warn",
]
