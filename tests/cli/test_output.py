"""The one printer: tables for people, --json and --ndjson for scripts, messages on stderr."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from agentlog.cli.output import (
    Column,
    Format,
    cell,
    one_line,
    output_format,
    print_object,
    print_rows,
)
from agentlog.errors import UsageError
from agentlog.model import Event

WHEN = datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
EVENTS = [
    Event(
        session_id="01900000-0000-7000-8000-000000000001",
        type="LOG",
        content=f"line {i}\nsecond",
        timestamp=WHEN,
    )
    for i in range(3)
]
COLUMNS = [Column("TYPE", lambda e: e.type.value), Column("CONTENT", lambda e: e.content)]


def test_format_choice():
    assert output_format() is Format.TABLE
    assert output_format(json=True) is Format.JSON
    assert output_format(ndjson=True) is Format.NDJSON
    with pytest.raises(UsageError):
        output_format(True, True)


def test_json_is_one_document_with_next_cursor(capsys):
    print_rows(EVENTS, COLUMNS, Format.JSON, next_cursor="abc")
    captured = capsys.readouterr()
    doc = orjson.loads(captured.out)
    assert doc["next_cursor"] == "abc" and len(doc["items"]) == 3
    assert doc["items"][0]["timestamp"] == "2026-02-03T04:05:06.789000Z"
    assert captured.err == ""


def test_ndjson_is_one_object_per_line_cursor_on_stderr(capsys):
    print_rows(EVENTS, COLUMNS, Format.NDJSON, next_cursor="abc")
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 3 and all(orjson.loads(x)["type"] == "LOG" for x in lines)
    assert "abc" in captured.err and "abc" not in captured.out


def test_table_and_empty_message(capsys):
    print_rows(EVENTS, COLUMNS, Format.TABLE)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["TYPE", "CONTENT"] and len(out) == 4
    print_rows([], COLUMNS, Format.TABLE, empty="no events match")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "no events match"


def test_object_as_key_value_table_and_json(capsys):
    print_object({"a": 1, "when": WHEN}, Format.JSON)
    assert orjson.loads(capsys.readouterr().out) == {"a": 1, "when": "2026-02-03T04:05:06.789000Z"}
    print_object({"a": 1}, Format.TABLE, fields=[("count", 12_345), ("tags", ["x", "y"])])
    out = capsys.readouterr().out
    assert "12,345" in out and "x, y" in out


def test_cells():
    assert cell(None) == "" and cell(1234) == "1,234" and cell(0.5) == "0.5"
    assert cell(WHEN) == "2026-02-03 04:05:06"
    assert cell({"k": [1]}) == '{"k":[1]}'
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line("x" * 100, 10) == "x" * 9 + "…"


def test_narrow_terminals_drop_low_priority_columns_and_never_cut_ids():
    from agentlog.cli.output import fit_columns

    columns = [
        Column("ID", lambda r: r[0], priority=10),
        Column("TITLE", lambda r: r[1], flex=True, min_width=10, priority=9),
        Column("COST", lambda r: r[2], priority=2),
        Column("AGENTS", lambda r: r[3], flex=True, min_width=6, priority=3),
    ]
    cells = [["0" * 36, "a fairly long title of a session", "$0.01", "planner, coder"]]
    wide = fit_columns(cells, columns, 200)
    assert wide == {0: 36, 1: 32, 2: 5, 3: 14}
    medium = fit_columns(cells, columns, 80)
    assert list(medium) == [0, 1, 2, 3] and medium[0] == 36
    assert sum(medium.values()) + 2 * 3 == 80
    assert medium[3] == 6 and medium[1] == 27  # agents shrank to its minimum first
    narrow = fit_columns(cells, columns, 50)
    assert list(narrow) == [0, 1] and narrow[0] == 36 and narrow[1] == 12
    cjk = fit_columns([["x", "数据库索引", "", ""]], columns, 200)
    assert cjk[1] == 10  # five wide characters take ten cells


def test_tables_without_priorities_lose_their_last_columns_first():
    from agentlog.cli.output import fit_columns

    columns = [Column(h, lambda r, i=i: r[i]) for i, h in enumerate(["NAME", "ROLE", "NOTE"])]
    cells = [["alice" * 4, "admin" * 4, "x" * 300]]
    fitted = fit_columns(cells, columns, 60)
    assert list(fitted) == [0, 1] and fitted == {0: 20, 1: 20}
    alone = fit_columns([["y" * 300]], columns[:1], 60)
    assert alone == {0: 60}


def test_piped_tables_do_not_cut_agents_or_ids(cli, demo, monkeypatch):
    """Off a terminal with COLUMNS unset, `events` and `sessions list` print whole agents
    and ids: they cut AGENT to 'researc…' to fit 200 columns beside long content."""
    monkeypatch.delenv("COLUMNS", raising=False)
    for name in ("triage", "child", "long"):
        sid = demo.sessions[name]
        items = cli.json("events", sid)["items"]
        table = cli.ok("events", sid).stdout
        assert "…" not in "".join(line.split("  ")[0] for line in table.splitlines())
        for event in items:
            assert event["id"] in table
            if event["agent_id"]:
                assert f" {event['agent_id']} " in table, event["agent_id"]
    listed = cli.ok("sessions", "list").stdout
    for session in cli.json("sessions", "list")["items"]:
        if len(session["agents"]) == 1:
            assert f" {session['agents'][0]} " in listed


def test_piped_tables_keep_columns_when_it_is_set(cli, demo, monkeypatch):
    """COLUMNS set off a terminal still bounds the table (at least 200 columns)."""
    table = cli.ok("events", demo.sessions["long"], env={"COLUMNS": "200"}).stdout
    assert max(len(line) for line in table.splitlines()) <= 200


def test_every_page_as_json_is_written_as_it_is_read(capsys):
    """`events --all --json` holds one row at a time (it held every event: 509 MB for 100,000)."""
    from agentlog.cli.output import print_json_items

    written: list[str] = []

    def rows():
        for i, event in enumerate(EVENTS):
            if i:  # the rows before this one are already out
                written.append(capsys.readouterr().out)
            yield event

    print_json_items(rows())
    out = "".join(written) + capsys.readouterr().out
    assert written[0].startswith('{"items":[{') and written[1].count('"session_id"') == 1
    doc = orjson.loads(out)
    assert doc == {
        "items": [orjson.loads(orjson.dumps(e.to_json_dict())) for e in EVENTS],
        "next_cursor": None,
    }
    capsys.readouterr()
    print_json_items(iter(()))
    assert orjson.loads(capsys.readouterr().out) == {"items": [], "next_cursor": None}
