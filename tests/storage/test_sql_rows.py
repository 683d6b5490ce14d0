"""An event row as the API's JSON event (`row_json`, what the SDK sends a server): the server
reads back the very row it was made from."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agentlog.model import Event, EventStatus, EventType
from agentlog.storage.sql.rows import event_values, row_json, row_record
from tests.test_fastcheck import CASES, SID

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _events() -> list[Event]:
    events = []
    for data in CASES:
        try:
            events.append(Event.model_validate(data))
        except ValidationError:
            continue
    return events


def _read_back(row: tuple) -> tuple:
    return event_values(Event.model_validate(orjson.loads(row_json(row))))


def test_every_case_reads_back_as_its_row() -> None:
    events = _events()
    assert len(events) >= 8
    for event in events:
        row = event_values(event)
        assert _read_back(row) == row
        # The same document an export writes for the row (metadata as its JSON value).
        assert orjson.loads(row_json(row)) == row_record(row)


@settings(max_examples=150, deadline=None)
@given(
    content=st.none() | _TEXT,
    name=st.none() | _TEXT.filter(lambda t: 0 < len(t) <= 200),
    metadata=st.dictionaries(_TEXT.filter(bool), _JSON, max_size=4),
    duration=st.none() | st.floats(0, 1e9),
    cost=st.none() | st.floats(0, 1e6),
    tokens=st.none() | st.integers(0, 2**31),
    status=st.sampled_from(list(EventStatus)),
    kind=st.sampled_from(list(EventType)),
)
def test_odd_values_read_back_as_their_row(
    content, name, metadata, duration, cost, tokens, status, kind
) -> None:
    try:
        event = Event(
            session_id=SID,
            type=kind,
            content=content,
            name=name,
            metadata=metadata,
            duration_ms=duration,
            cost_usd=cost,
            input_tokens=tokens,
            status=status,
        )
    except ValidationError:
        return  # the model refuses it: no row to send
    row = event_values(event)
    assert _read_back(row) == row
