"""Bad files and bad records: each gets a clear message, a correct report, and no half import."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from agentlog.errors import UsageError
from agentlog.model import MAX_CONTENT_BYTES, BatchError, Event, Session, WriteResult
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer import readers
from agentlog.transfer.export import Selection, export
from agentlog.transfer.importer import import_file
from agentlog.transfer.writers import CSV_COLUMNS
from tests.support.portability import dump, fill, lines, make_event, make_session

HEADER = b'{"format":"agentlog","version":1,"exported_at":"2026-03-01T12:00:00.000000Z"}\n'


def ndjson(path: Path, records: list[Any], header: bool = True) -> Path:
    body = b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in records)
    path.write_bytes((HEADER if header else b"") + body)
    return path


def good_records(n_events: int = 3) -> list[dict[str, Any]]:
    from agentlog.transfer.records import event_record, session_record

    s = make_session(1)
    return [{"kind": "session", **session_record(s)}] + [
        {"kind": "event", **event_record(make_event(s, i))} for i in range(n_events)
    ]


def test_bad_records_are_skipped_reported_and_written_to_rejects(store, tmp_path) -> None:
    recs = good_records(3)
    bad_type = {**recs[2], "id": "01900000-0001-7000-8000-00000000aaaa", "type": "NOPE"}
    big = {
        **recs[3],
        "id": "01900000-0001-7000-8000-00000000bbbb",
        "content": "x" * (MAX_CONTENT_BYTES + 1),
    }
    path = ndjson(
        tmp_path / "in.ndjson", [recs[0], recs[1], b"{not json\n", bad_type, recs[2], big, recs[3]]
    )
    report = import_file(store, path, rejects_path=tmp_path / "rejects.ndjson")
    assert (report.sessions.imported, report.events.imported, report.events.rejected) == (1, 3, 3)
    reasons = {p.line: p.reason for p in report.rejects}
    assert set(reasons) == {4, 5, 7}  # the header is line 1
    assert "line 4 is not valid JSON" in reasons[4]
    assert "unknown event type 'NOPE'" in reasons[5]
    assert "the limit is 1,048,576 bytes" in reasons[7]
    assert not report.ok
    rejected = lines(tmp_path / "rejects.ndjson")
    assert rejected[0]["format"] == "agentlog"
    assert [r["_reject"]["line"] for r in rejected[1:]] == [4, 5, 7]
    assert rejected[2]["type"] == "NOPE" and rejected[1]["kind"] == "invalid"

    # Fix the rejects file and import it again: the fixed records go in.
    fixed = [r for r in rejected[1:] if r["kind"] == "event"]
    fixed[0]["type"] = "LOG"
    fixed[1]["content"] = "short now"
    again = import_file(store, ndjson(tmp_path / "fixed.ndjson", fixed))
    assert again.ok and again.events.imported == 2
    assert store.get_event(bad_type["id"]).type == "LOG"


def test_line_numbers_and_limit_for_an_overlong_line(store, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(readers, "MAX_LINE_BYTES", 4000)
    recs = good_records(2)
    long_one = {**recs[1], "id": "01900000-0001-7000-8000-00000000cccc", "content": "y" * 10_000}
    report = import_file(
        store, ndjson(tmp_path / "in.ndjson", [recs[0], long_one, recs[1], recs[2]])
    )
    assert report.events.imported == 2
    (problem,) = report.rejects
    assert problem.line == 3 and "the limit is 4,000 bytes" in problem.reason


def test_metadata_nested_past_the_stack_is_one_rejected_line(store, tmp_path) -> None:
    """10,000 brackets in an event's metadata stopped the import with a RecursionError traceback."""
    recs = good_records(2)
    line = orjson.dumps({**recs[1], "id": "01900000-0001-7000-8000-00000000dddd"})
    deep = line.replace(b'"metadata":{', b'"metadata":{"a":' + b"[" * 10_000 + b"]" * 10_000 + b",")
    report = import_file(store, ndjson(tmp_path / "in.ndjson", [recs[0], deep + b"\n", recs[2]]))
    assert report.events.imported == 1
    (problem,) = report.rejects
    assert problem.line == 3 and "depth" in problem.reason


def test_truncated_ndjson_keeps_the_complete_records(store, tmp_path) -> None:
    path = ndjson(tmp_path / "in.ndjson", good_records(3))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    report = import_file(store, path)
    assert report.events.imported == 2
    (problem,) = report.rejects
    assert problem.line == 5 and "truncated" in problem.reason


def test_truncated_gzip_is_reported_and_earlier_records_kept(store, tmp_path) -> None:
    fill(store, sessions=1, events=3000)
    src = tmp_path / "all.ndjson.gz"
    export(store, Selection(all=True), "ndjson", src)
    cut = tmp_path / "cut.ndjson.gz"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    target = SQLiteStore(tmp_path / "t.db")
    try:
        report = import_file(target, cut)
        assert report.aborted and "truncated" in report.aborted
        assert 0 < report.events.imported < 3000
        assert target.count_events(EventQuery()) == report.events.imported
    finally:
        target.close()


def test_invalid_utf8_line_is_rejected_with_its_position(store, tmp_path) -> None:
    recs = good_records(2)
    broken = orjson.dumps(recs[2]).replace(b"step", b"st\xff\xfep") + b"\n"
    report = import_file(store, ndjson(tmp_path / "in.ndjson", [recs[0], recs[1], broken]))
    assert report.events.imported == 1
    assert "line 4 is not valid UTF-8 (byte 0xff" in report.rejects[0].reason


@pytest.mark.parametrize(
    ("fmt", "content", "expected"),
    [
        ("csv", HEADER, "is JSON, not CSV"),
        ("ndjson", b"id,session_id,timestamp,type\n1,2,3,4\n", "looks like CSV"),
        ("json", HEADER + b'{"kind":"session"}\n{"kind":"event"}\n', "it is NDJSON"),
        ("ndjson", b'{"format":"agentlog","version":1,"sessions":[]}\n', "use --format json"),
        ("auto", b"hello world\n", "cannot tell the file's format"),
        ("ndjson", b'{"format":"agentlog","version":7}\n', "newer than this AgentLog reads"),
        ("ndjson", b'{"format":"otherlog","version":1}\n', "not an AgentLog export"),
        ("json", b'{"format":"agentlog","sessions":[{"id":', "truncated or malformed"),
        ("json", b'{"format":"agentlog","sessions":[{"title":"caf\xe9"}]}', "not valid UTF-8"),
    ],
)
def test_unreadable_files_say_why(store, tmp_path, fmt: str, content: bytes, expected: str) -> None:
    path = tmp_path / "in.dat"
    path.write_bytes(content)
    report = import_file(store, path, fmt=fmt)
    assert report.aborted and expected in report.aborted, report.aborted
    assert store.count_events(EventQuery()) == 0


@pytest.mark.parametrize("fmt", ["auto", "ndjson", "json", "csv"])
def test_an_empty_file_is_a_usage_error(store, tmp_path, fmt: str) -> None:
    """Blank lines only count as empty: the user gave the wrong file, not a bad record."""
    path = tmp_path / "in.dat"
    path.write_bytes(b"\n \r\n")
    with pytest.raises(UsageError, match="the file is empty"):
        import_file(store, path, fmt=fmt)


def test_csv_column_problems(store, tmp_path) -> None:
    fill(store, sessions=1, events=2)
    export(store, Selection(all=True), "csv", tmp_path / "x.csv")
    text = (tmp_path / "x.csv").read_bytes().decode("utf-8")
    head, *rows = text.split("\r\n")
    target = SQLiteStore(tmp_path / "t.db")
    try:
        extra = tmp_path / "extra.csv"
        extra.write_text(
            head + ",surprise\r\n" + "\r\n".join(r + ",1" for r in rows if r), encoding="utf-8"
        )
        report = import_file(target, extra)
        assert report.aborted and "unknown column(s) 'surprise'" in report.aborted

        missing = tmp_path / "missing.csv"
        missing.write_text(head.replace("timestamp,", "") + "\r\n", encoding="utf-8")
        report = import_file(target, missing)
        assert report.aborted and "lacks the column(s) timestamp" in report.aborted

        ragged = tmp_path / "ragged.csv"
        ragged.write_text(
            "\r\n".join([head, rows[0] + ",oops", rows[1]]) + "\r\n", encoding="utf-8"
        )
        report = import_file(target, ragged)
        assert report.events.imported == 1
        assert (
            report.rejects[0].line == 2
            and f"has {len(CSV_COLUMNS) + 1} fields; the header has {len(CSV_COLUMNS)}"
            in report.rejects[0].reason
        )

        bad_bytes = tmp_path / "bytes.csv"
        bad_bytes.write_bytes(
            (head + "\r\n").encode() + rows[0].encode().replace(b"step", b"st\xffp") + b"\r\n"
        )
        report = import_file(target, bad_bytes)
        assert "not valid UTF-8" in report.rejects[0].reason
    finally:
        target.close()


def test_minimal_csv_with_only_the_required_columns(store, tmp_path) -> None:
    path = tmp_path / "min.csv"
    path.write_text(
        "id,session_id,timestamp,type,content\r\n"
        "01900000-0001-7000-8000-000000000001,01900000-0000-7000-8000-000000000009,"
        "2026-03-01T12:00:00Z,LOG,hello\r\n",
        encoding="utf-8",
    )
    report = import_file(store, path)
    assert report.ok and report.events.imported == 1
    assert store.get_event("01900000-0001-7000-8000-000000000001").content == "hello"


def test_conflicts_keep_the_first_write_unless_overwrite(store, tmp_path) -> None:
    sessions = fill(store, sessions=2, events=3)
    export(store, Selection(all=True), "ndjson", tmp_path / "x.ndjson")
    rows = lines(tmp_path / "x.ndjson")
    changed_event = rows[2]["id"]
    rows[2]["content"] = "changed"
    rows[1]["title"] = "renamed"
    path = ndjson(tmp_path / "changed.ndjson", rows[1:])

    report = import_file(store, path)
    assert (report.events.conflicts, report.sessions.conflicts) == (1, 1)
    assert report.events.duplicates == 5 and not report.ok
    assert (
        "different content" in report.conflicts[-1].reason
        or "content" in report.conflicts[-1].reason
    )
    assert store.get_event(changed_event).content != "changed"
    assert store.get_session(sessions[0].id).title == "session 1"

    report = import_file(store, path, overwrite=True)
    assert (report.events.overwritten, report.sessions.overwritten) == (1, 1)
    assert report.ok
    assert store.get_event(changed_event).content == "changed"
    assert store.get_session(sessions[0].id).title == "renamed"
    assert store.count_events(EventQuery(session_id=sessions[0].id)) == 3


def test_a_repeated_id_inside_one_file_is_a_conflict(store, tmp_path) -> None:
    recs = good_records(2)
    twin = {**recs[1], "content": "other"}
    report = import_file(store, ndjson(tmp_path / "in.ndjson", [*recs, twin]))
    assert report.events.imported == 2 and report.events.conflicts == 1
    assert store.get_event(recs[1]["id"]).content == recs[1]["content"]


def test_events_of_a_rejected_session_are_rejected_too(store, tmp_path) -> None:
    recs = good_records(2)
    recs[0]["status"] = "exploded"
    report = import_file(store, ndjson(tmp_path / "in.ndjson", recs))
    assert report.sessions.rejected == 1 and report.events.rejected == 2
    assert "was rejected at line 2" in report.rejects[1].reason
    assert store.count_events(EventQuery()) == 0


def test_dry_run_writes_nothing(store, tmp_path) -> None:
    path = ndjson(tmp_path / "in.ndjson", good_records(4))
    report = import_file(store, path, dry_run=True)
    assert report.dry_run and report.ok
    assert (report.sessions.imported, report.events.imported) == (1, 4)
    assert store.count_events(EventQuery()) == 0


def test_strict_stops_at_the_first_bad_record_and_imports_nothing(store, tmp_path) -> None:
    recs = good_records(3)
    bad = {**recs[3], "id": "not-a-uuid"}
    report = import_file(
        store, ndjson(tmp_path / "in.ndjson", [*recs, bad, {**bad, "type": "X"}]), strict=True
    )
    assert report.events.rejected == 1 and not report.ok
    assert "is not a valid UUID" in report.rejects[0].reason
    assert store.count_events(EventQuery()) == 0
    assert store.count_sessions(SessionQuery()) == 0


class RejectingStore:
    """A SQLiteStore that refuses events whose content says REJECT (as a server might)."""

    def __init__(self, inner: SQLiteStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        keep = [e for e in events if "REJECT" not in (e.content or "")]
        result = self.inner.write(sessions, keep)
        errors = [
            BatchError(index=i, id=e.id, error="refused by policy")
            for i, e in enumerate(events)
            if "REJECT" in (e.content or "")
        ]
        return WriteResult(inserted=result.inserted, duplicates=result.duplicates, errors=errors)


def test_strict_rolls_back_when_the_store_refuses_part_of_a_batch(store, tmp_path) -> None:
    existing = fill(store, sessions=1, events=2)[0]
    before = dump(store, tmp_path / "before.ndjson")
    from agentlog.transfer.records import event_record, session_record

    fresh = make_session(7)
    records = [{"kind": "session", **session_record(fresh)}]
    records += [{"kind": "event", **event_record(make_event(fresh, i))} for i in range(1500)]
    records += [{"kind": "event", **event_record(make_event(existing, 50 + i))} for i in range(3)]
    records += [{"kind": "event", **event_record(make_event(existing, 60, content="REJECT me"))}]
    path = ndjson(tmp_path / "in.ndjson", records)

    report = import_file(RejectingStore(store), path, strict=True)  # type: ignore[arg-type]
    assert report.rolled_back and not report.ok
    assert "refused by policy" in report.rejects[0].reason
    assert dump(store, tmp_path / "after.ndjson") == before

    relaxed = import_file(RejectingStore(store), path)  # type: ignore[arg-type]
    assert (relaxed.events.imported, relaxed.events.rejected) == (1503, 1)


def test_gzip_is_detected_by_content_whatever_the_name(store, tmp_path) -> None:
    path = tmp_path / "export.data"
    path.write_bytes(
        gzip.compress(HEADER + b"".join(orjson.dumps(r) + b"\n" for r in good_records(2)))
    )
    report = import_file(store, path)
    assert report.ok and report.format == "ndjson" and report.events.imported == 2
