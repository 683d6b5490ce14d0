"""Event lines read the fast way (decoded straight into rows) import exactly as records read the model's way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.importer import Importer, import_file
from agentlog.transfer.readers import EVENT_RUN, read_ndjson
from agentlog.transfer.records import event_record, session_record
from tests.support.portability import dump, lines, make_event, make_session

HEADER = b'{"format":"agentlog","version":1,"exported_at":"2026-03-01T12:00:00.000000Z"}\n'


def _mixed_records() -> list[Any]:
    """Canonical lines, and lines only the model may read (or must refuse), interleaved."""
    good, bad = make_session(1), make_session(2)
    events = [{"kind": "event", **event_record(make_event(good, i))} for i in range(12)]
    events[3]["id"] = events[3]["id"].upper()  # the model normalises the id
    events[5]["timestamp"] = "2026-03-01T12:00:05"  # naive: the model reads it as UTC
    del events[7]["kind"]  # a bare event line
    events[8]["type"] = "NOPE"  # refused with the model's message
    events[9]["metadata"] = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}
    events[10]["content"] = "a NUL \x00 inside"  # the model's text rule: stored as U+2400
    events[11]["name"] = "tool\x00name"
    events[2]["metadata"] = {"k": "v\x00"}
    orphan = {"kind": "event", **event_record(make_event(bad, 1))}  # its session is refused
    return [
        {"kind": "session", **session_record(good)},
        *events[:6],
        {"kind": "session", **session_record(bad), "status": "exploded"},
        orphan,
        *events[6:],
        b"{not json\n",
    ]


def _write(path: Path, records: list[Any]) -> Path:
    body = b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in records)
    path.write_bytes(HEADER + body)
    return path


def test_fast_and_model_reads_store_and_report_the_same(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.ndjson", _mixed_records())
    fast = SQLiteStore(tmp_path / "fast.db")
    slow = SQLiteStore(tmp_path / "slow.db")
    try:
        fast_report = import_file(fast, src, rejects_path=tmp_path / "fast-rejects.ndjson")
        with src.open("rb") as stream:  # every line as a dict, through the model's checks
            slow_report = Importer(slow).run(read_ndjson(stream))
        assert dump(fast, tmp_path / "fast.ndjson") == dump(slow, tmp_path / "slow.ndjson")
        assert fast_report.events.imported == slow_report.events.imported == 11
        assert [(p.line, p.reason) for p in fast_report.rejects] == [
            (p.line, p.reason) for p in slow_report.rejects
        ]
        assert any("unknown event type 'NOPE'" in p.reason for p in fast_report.rejects)
        with_nul = next(
            r for r in _mixed_records() if isinstance(r, dict) and "NUL" in r.get("content", "")
        )
        assert fast.get_event(with_nul["id"]).content == "a NUL \u2400 inside"
        # A line read the fast way and rejected later (its session was refused) is written
        # to the rejects file as the record it was, ready to fix and import again.
        rejected = lines(tmp_path / "fast-rejects.ndjson")[1:]
        orphan = next(r for r in rejected if "was rejected at" in r["_reject"]["reason"])
        assert orphan["kind"] == "event" and orphan["session_id"] == make_session(2).id
        assert orphan["content"] == make_event(make_session(2), 1).content
    finally:
        fast.close()
        slow.close()


def test_a_file_of_canonical_lines_is_read_without_dicts(tmp_path: Path) -> None:
    s = make_session(3)
    records = [{"kind": "session", **session_record(s)}] + [
        {"kind": "event", **event_record(make_event(s, i))} for i in range(5)
    ]
    with _write(tmp_path / "in.ndjson", records).open("rb") as stream:
        items = list(read_ndjson(stream, decode_events=True))
    assert [i.kind for i in items] == ["session", "event"]
    run = items[1].run
    assert run is not None and items[1].data is None and items[1].line == 3
    assert run.lines == [3, 4, 5, 6, 7] and len(run.events) == len(run.sources) == 5
    assert items[0].data is not None and items[0].run is None


def test_a_run_of_fast_lines_ends_at_its_size_and_at_any_other_line(tmp_path: Path) -> None:
    s = make_session(4)
    events = [{"kind": "event", **event_record(make_event(s, i))} for i in range(EVENT_RUN + 3)]
    events[EVENT_RUN + 1]["type"] = "log"  # the model reads it (any case), not the fast way
    with _write(tmp_path / "in.ndjson", events).open("rb") as stream:
        items = list(read_ndjson(stream, decode_events=True))
    assert [len(i.run.lines) if i.run else None for i in items] == [EVENT_RUN, 1, None, 1]
    assert [i.line for i in items] == [2, EVENT_RUN + 2, EVENT_RUN + 3, EVENT_RUN + 4]
