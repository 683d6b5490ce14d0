"""The fast check accepts only what the model accepts, builds the same Event, and leaves every message to the model."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from agentlog.fastcheck import FastEvent, FastSdkEvent, as_event, event_from
from agentlog.model import (
    MAX_CONTENT_BYTES,
    MAX_METADATA_DEPTH,
    Event,
    EventType,
    from_us,
    new_id,
    validation_message,
)

SID = new_id()
LONE = json.loads('"\\ud800"')


def _deep(levels: int) -> dict:
    root: dict = {}
    node = root
    for _ in range(levels):
        node["k"] = {}
        node = node["k"]
    return root


def _base(**kw):
    return {"session_id": SID, "type": "LOG", **kw}


CASES = [
    _base(),
    _base(id=new_id(), timestamp="2026-01-31T12:00:00.123456Z", content="hello"),
    _base(timestamp="2026-01-31T12:00:00+00:00", agent_id="a", name="n", status="error"),
    _base(metadata={"step": 1, "nested": {"a": [1, 2, {"b": None}]}}, parent_id=new_id()),
    _base(metadata=None, content=None, duration_ms=1.5, input_tokens=3, cost_usd=0.1),
    _base(content="é" * 1000, name="ü"),
    # not canonical, but valid: the model normalises them
    _base(type="log"),
    _base(type="tool-call"),
    _base(session_id=SID.upper()),
    _base(id="{" + new_id() + "}"),
    _base(timestamp=1_700_000_000),
    _base(timestamp="2026-01-31T12:00:00+02:00"),
    _base(timestamp="2026-01-31"),
    _base(timestamp="9999-12-30T23:00:00Z"),
    _base(parent_id=""),
    _base(content={"a": 1}),
    _base(content=b"bytes"),
    _base(content="x" * (MAX_CONTENT_BYTES // 4 + 10)),
    _base(content=LONE, name=LONE, agent_id=LONE),
    _base(metadata={LONE: [LONE]}),
    _base(metadata={1: "non-str key"}),
    _base(content="a\x00b", name="\x00", agent_id="x\x00"),
    _base(metadata={"k\x00": ["\x00"]}),
    _base(duration_ms="12"),
    # invalid: the model's message
    _base(type="bogus"),
    _base(type=b"LOG"),
    _base(session_id=SID.encode()),
    _base(id="not-a-uuid"),
    _base(timestamp="yesterday"),
    _base(timestamp=b"2026-01-31T12:00:00Z"),
    _base(timestamp="2026-02-30T00:00:00Z"),
    _base(timestamp="9999-12-31T23:00:00Z"),
    _base(timestamp="1969-12-31T23:59:59Z"),
    _base(content="x" * (MAX_CONTENT_BYTES + 1)),
    _base(content="é" * (MAX_CONTENT_BYTES // 2 + 1)),
    _base(metadata={"k": "v" * 70_000}),
    _base(metadata=_deep(MAX_METADATA_DEPTH + 1)),
    _base(metadata=_deep(MAX_METADATA_DEPTH - 1)),
    _base(metadata=[1]),
    _base(agent_id="a" * 201),
    _base(name="n" * 1001),
    _base(input_tokens=-1),
    _base(cost_usd=1e10),
    _base(status="bogus"),
    _base(surprise=1),
    {"type": "LOG"},
]


def _outcome(fn, data):
    try:
        return ("ok", fn(data).model_dump())
    except ValidationError as exc:
        return ("error", validation_message(exc))


@pytest.mark.parametrize("data", CASES)
def test_event_from_is_the_model(data) -> None:
    fast = _outcome(event_from, data)
    model = _outcome(Event.model_validate, data)
    if fast[0] == "ok":  # a fresh id and time where the data had none
        for side in (fast[1], model[1]):
            for key in ("id", "timestamp"):
                if key not in data:
                    side.pop(key)
    assert fast == model


@pytest.mark.parametrize("data", CASES)
def test_the_fast_check_never_accepts_what_the_model_refuses(data) -> None:
    try:
        fast = as_event(FastEvent.model_validate(data))
    except ValidationError:
        return
    model = Event.model_validate(data)
    assert type(fast) is Event
    assert fast.model_dump(exclude={"id", "timestamp"}) == model.model_dump(
        exclude={"id", "timestamp"}
    )
    assert fast.model_fields_set == model.model_fields_set


def test_the_fast_check_mirrors_every_field_of_the_model() -> None:
    assert list(FastEvent.model_fields) == list(Event.model_fields)
    for name, field in FastEvent.model_fields.items():
        assert field.is_required() == Event.model_fields[name].is_required(), name


def test_the_sdk_check_takes_its_own_records_and_refuses_lone_surrogates() -> None:
    values = {
        "id": new_id(),
        "session_id": SID,
        "timestamp": from_us(1_700_000_000_000_000),
        "type": EventType.TOOL_CALL,
        "content": "x",
        "metadata": None,
    }
    event = as_event(FastSdkEvent.model_validate(values))
    assert type(event) is Event and event.type is EventType.TOOL_CALL and event.metadata == {}
    with pytest.raises(ValidationError):
        FastSdkEvent.model_validate({**values, "content": "a" + LONE})
