"""The row check accepts only what the model accepts and gives the very row the model's Event makes."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agentlog.batchcheck import json_row
from agentlog.model import (
    MAX_AGENT_ID_CHARS,
    MAX_COST_USD,
    MAX_DURATION_MS,
    MAX_TOKENS,
    Event,
    EventStatus,
    EventType,
    from_us,
    new_id,
)
from agentlog.rowcheck import sdk_row
from agentlog.sdk.writer import SdkEvent
from agentlog.storage.sql.rows import event_values
from tests.test_fastcheck import CASES, LONE, SID


def _model_row(data: dict) -> tuple | None:
    try:
        return event_values(Event.model_validate(data))
    except ValidationError:
        return None


def _same_row(fast: tuple, model: tuple, data: dict) -> None:
    # A fresh id and time where the data had none.
    skip = {0} if "id" not in data else set()
    skip |= {2} if "timestamp" not in data else set()
    assert [v for i, v in enumerate(fast) if i not in skip] == [
        v for i, v in enumerate(model) if i not in skip
    ]
    # Types too (a float column stays float, text stays plain str).
    assert [type(v) for v in fast] == [type(v) for v in model]


def test_every_case_of_the_fast_check_is_the_models_row_or_left_to_the_model() -> None:
    accepted = 0
    for data in CASES:
        fast = json_row(data)
        if fast is None:
            continue
        accepted += 1
        model = _model_row(data)
        assert model is not None, data
        _same_row(fast, model, data)
    assert accepted >= 8  # the canonical cases and the offsets fromisoformat reads


def test_refusals_are_left_to_the_model() -> None:
    for data in (
        {"session_id": SID, "type": "LOG", "surprise": 1},
        {"session_id": SID, "type": "log"},
        {"session_id": SID.upper(), "type": "LOG"},
        {"session_id": SID, "type": "LOG", "content": "a\x00b"},
        {"session_id": SID, "type": "LOG", "name": LONE},
        {"session_id": SID, "type": "LOG", "metadata": {1: "x"}},
        {"session_id": SID, "type": "LOG", "metadata": {"n": 2**70}},
        {"session_id": SID, "type": "LOG", "input_tokens": True},
        {"session_id": SID, "type": "LOG", "input_tokens": 3.0},
        {"session_id": SID, "type": "LOG", "duration_ms": math.nan},
        {"session_id": SID, "type": "LOG", "status": ["ok"]},
        {"session_id": SID, "type": {"LOG": 1}},
        {"session_id": SID, "type": "LOG", "timestamp": " 2026-01-01T00:00:00Z"},
        {"session_id": SID, "type": "LOG", "parent_id": ""},
        ["not", "a", "dict"],
    ):
        assert json_row(data) is None, data


# ------------------------------------------------------------------ a sweep of odd values
def _mostly(valid, odd):
    """Valid values 15 times in 16: with a dozen fields, about half the examples are valid
    throughout and reach the row check's end; the rest each hold one or two odd values."""
    return st.integers(0, 15).flatmap(lambda k: odd if k == 0 else valid)


_text = _mostly(
    st.one_of(st.none(), st.text(max_size=30)),
    st.sampled_from(["", "\x00", LONE, "é" * 5, "a" * (MAX_AGENT_ID_CHARS + 1), "ok", "LOG"]),
)
_odd_number = st.one_of(
    st.booleans(),
    st.integers(min_value=-2, max_value=-1),
    st.sampled_from([MAX_TOKENS, MAX_TOKENS + 1, MAX_DURATION_MS, MAX_COST_USD + 1, 2**70]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["12", b"1", 2.0]),
)
_count = _mostly(st.one_of(st.none(), st.integers(min_value=0, max_value=3)), _odd_number)
_measure = _mostly(
    st.one_of(st.none(), st.integers(min_value=0, max_value=3), st.floats(0, 10)), _odd_number
)
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_metadata = _mostly(
    st.one_of(st.none(), st.dictionaries(st.text(max_size=5), _json, max_size=4)),
    st.one_of(
        st.dictionaries(st.sampled_from([LONE, "k\x00"]), _json, min_size=1),
        st.sampled_from([[1], "x", {1: 2}, {"n": 2**64}]),
    ),
)
_types = _mostly(
    st.sampled_from(list(EventType)), st.sampled_from(["LOG", "log", "Tool_Call", "", 3])
)
_status = _mostly(
    st.one_of(st.none(), st.sampled_from(list(EventStatus))),
    st.sampled_from(["ok", "ERROR", "bogus", 1]),
)
_ids = _mostly(
    st.one_of(st.none(), st.just(new_id())), st.sampled_from(["", "nope", new_id().upper(), 7])
)
_times = _mostly(
    st.sampled_from(["2026-01-31T12:00:00Z", "2026-01-31T12:00:00.5+02:00", "2026-01-31"]),
    st.sampled_from(
        [
            "1969-12-31T23:59:59Z",
            "9999-12-31T00:00:00Z",
            "9999-12-31T00:00:01+00:00",
            "2026-02-30T00:00:00Z",
            "2026-01-31T12:00:00z",
            "yesterday",
            "",
            -10,
            2_000_000_000,
        ]
    ),
)


@settings(max_examples=600, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    type_=_types,
    agent_id=_text,
    name=_text,
    content=_text,
    metadata=_metadata,
    parent_id=_ids,
    duration=_measure,
    status=_status,
    tokens=_count,
    cost=_measure,
    detail=_count,
    stamp=_times,
)
def test_odd_values_give_the_models_row_or_none(
    type_,
    agent_id,
    name,
    content,
    metadata,
    parent_id,
    duration,
    status,
    tokens,
    cost,
    detail,
    stamp,
) -> None:
    data = {
        "session_id": SID,
        "timestamp": stamp,
        "type": type_,
        "agent_id": agent_id,
        "name": name,
        "content": content,
        "metadata": metadata,
        "parent_id": parent_id,
        "duration_ms": duration,
        "input_tokens": tokens,
        "cost_usd": cost,
        "reasoning_tokens": detail,
    }
    if status is not None:
        data["status"] = status
    fast = json_row(data)
    model = _model_row(data)
    if fast is not None:
        assert model is not None, data
        _same_row(fast, model, data)
    # The SDK's record of the same values: its clock's time, the id it made.
    item = (
        None,
        0,
        SID,
        new_id(),
        1_767_225_600_000_000,
        type_,
        agent_id,
        name,
        content,
        metadata,
        parent_id,
        duration,
        status,
        tokens,
        None,
        cost,
        {"reasoning_tokens": detail},
    )
    fast = sdk_row(item)
    if fast is None:
        return
    values = {
        "id": item[3],
        "session_id": SID,
        "timestamp": from_us(item[4]),
        "type": type_,
        "agent_id": agent_id,
        "name": name,
        "content": content,
        "metadata": metadata,
        "parent_id": parent_id,
        "duration_ms": duration,
        "input_tokens": tokens,
        "cost_usd": cost,
        "reasoning_tokens": detail,
    }
    if status is not None:
        values["status"] = status
    model_event = SdkEvent(**values)  # raises if the model refuses what the row check took
    assert fast == event_values(model_event)
    assert [type(v) for v in fast] == [type(v) for v in event_values(model_event)]
