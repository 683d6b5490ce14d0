"""Every format round-trips exactly: export → import → export gives the same records."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentlog.model import (
    MAX_COST_USD,
    MAX_DURATION_MS,
    MAX_TOKENS,
    Event,
    EventStatus,
    EventType,
    Session,
    SessionStatus,
)
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.export import Selection, export
from agentlog.transfer.importer import import_file
from tests.support.portability import dump, fill, lines

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
OPT_TEXT = st.none() | TEXT
JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
METADATA = st.dictionaries(TEXT, JSON, max_size=4)
TIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
# Up to the model's own limits (which keep per-session sums inside 64 bits).
DURATION = st.none() | st.floats(min_value=0, max_value=MAX_DURATION_MS, allow_nan=False)
COST = st.none() | st.floats(min_value=0, max_value=MAX_COST_USD, allow_nan=False)
COUNT = st.none() | st.integers(min_value=0, max_value=MAX_TOKENS)


@st.composite
def sessions_with_events(draw: st.DrawFn) -> tuple[list[Session], list[Event]]:
    sessions: list[Session] = []
    events: list[Event] = []
    for i in range(draw(st.integers(1, 3))):
        created = draw(TIMES)
        session = Session(
            title=draw(TEXT),
            description=draw(TEXT),
            status=draw(st.sampled_from(SessionStatus)),
            parent_session_id=sessions[0].id if i and draw(st.booleans()) else None,
            tags=draw(st.lists(TEXT, max_size=3)),
            metadata=draw(METADATA),
            created_at=created,
            updated_at=created,
            ended_at=draw(st.none() | TIMES),
        )
        sessions.append(session)
        for _ in range(draw(st.integers(0, 4))):
            events.append(
                Event(
                    session_id=session.id,
                    timestamp=draw(TIMES),
                    type=draw(st.sampled_from(EventType)),
                    agent_id=draw(OPT_TEXT),
                    name=draw(OPT_TEXT),
                    content=draw(
                        st.none()
                        | st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)
                    ),
                    metadata=draw(METADATA),
                    parent_id=events[-1].id if events and draw(st.booleans()) else None,
                    duration_ms=draw(DURATION),
                    status=draw(st.sampled_from(EventStatus)),
                    input_tokens=draw(COUNT),
                    output_tokens=draw(COUNT),
                    cost_usd=draw(COST),
                )
            )
    return sessions, events


@pytest.mark.parametrize("name", ["x.ndjson", "x.json", "x.csv", "x.csv.gz"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=sessions_with_events())
def test_generated_sessions_round_trip(name: str, data: tuple[list[Session], list[Event]]) -> None:
    sessions, events = data
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        first, second = SQLiteStore(folder / "a.db"), SQLiteStore(folder / "b.db")
        try:
            first.write(sessions, events)
            fmt = name.split(".")[1]
            export(first, Selection(all=True), fmt, folder / name)
            report = import_file(second, folder / name)
            assert report.ok, report.to_dict()
            assert report.events.imported == len(events)
            assert report.sessions.imported == len(sessions)
            assert dump(first, folder / "a.ndjson") == dump(second, folder / "b.ndjson")
        finally:
            first.close()
            second.close()


def test_round_trip_keeps_nulls_and_empty_strings_apart(store, other, tmp_path) -> None:
    (session,) = fill(store, sessions=1, events=0)
    store.write(
        [],
        [
            Event(session_id=session.id, type="LOG", content="", name="", agent_id=""),
            Event(session_id=session.id, type="LOG", content=None, name=None, agent_id=None),
        ],
    )
    export(store, Selection(all=True), "csv", tmp_path / "x.csv")
    assert import_file(other, tmp_path / "x.csv").ok
    dump(other, tmp_path / "o.ndjson")
    got = {
        (r["content"], r["name"], r["agent_id"])
        for r in lines(tmp_path / "o.ndjson")
        if r.get("kind") == "event"
    }
    assert got == {("", "", ""), (None, None, None)}


def test_empty_session_survives_csv(store, other, tmp_path) -> None:
    fill(store, sessions=2, events=0)
    export(store, Selection(all=True), "csv", tmp_path / "x.csv")
    report = import_file(other, tmp_path / "x.csv")
    assert report.sessions.imported == 2
    assert dump(store, tmp_path / "a.ndjson") == dump(other, tmp_path / "b.ndjson")


def test_importing_twice_changes_nothing(store, other, tmp_path) -> None:
    fill(store)
    export(store, Selection(all=True), "ndjson", tmp_path / "x.ndjson.gz")
    first = import_file(other, tmp_path / "x.ndjson.gz")
    before = dump(other, tmp_path / "1.ndjson")
    again = import_file(other, tmp_path / "x.ndjson.gz")
    assert (first.events.imported, first.sessions.imported) == (15, 3)
    assert (again.events.imported, again.events.duplicates) == (0, 15)
    assert (again.sessions.imported, again.sessions.duplicates) == (0, 3)
    assert again.ok
    assert dump(other, tmp_path / "2.ndjson") == before


def test_ndjson_layout_is_header_then_session_before_its_events(store, tmp_path) -> None:
    fill(store, sessions=2, events=2)
    export(store, Selection(all=True), "ndjson", tmp_path / "x.ndjson")
    rows = lines(tmp_path / "x.ndjson")
    assert rows[0] == {"format": "agentlog", "version": 1}
    assert [r["kind"] for r in rows[1:]] == ["session", "event", "event"] * 2
    assert rows[2]["session_id"] == rows[1]["id"]
    assert rows[2]["timestamp"].endswith("Z") and len(rows[2]["timestamp"]) == 27


@pytest.mark.parametrize("name", ["a.ndjson", "a.json", "a.csv"])
def test_two_exports_of_the_same_data_are_byte_identical(store, tmp_path, name) -> None:
    # Users diff an export against a re-export after an import; no clock in the file.
    fill(store, sessions=2, events=3)
    fmt = name.rsplit(".", 1)[1]
    export(store, Selection(all=True), fmt, tmp_path / name)
    export(store, Selection(all=True), fmt, tmp_path / f"b.{fmt}")
    assert (tmp_path / name).read_bytes() == (tmp_path / f"b.{fmt}").read_bytes()
