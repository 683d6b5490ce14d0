"""The data model's limits answer with one clear message naming the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agentlog.model import (
    MAX_CONTENT_BYTES,
    MAX_METADATA_DEPTH,
    MAX_TOKENS,
    Event,
    EventType,
    new_id,
    validation_message,
)


def _event(**kw):
    return Event(session_id=new_id(), type="LOG", **kw)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"content": "x" * (MAX_CONTENT_BYTES + 1)}, "content"),
        ({"metadata": {"k": "v" * 70_000}}, "metadata"),
        ({"input_tokens": MAX_TOKENS + 1}, "input_tokens"),
        ({"cost_usd": -1}, "cost_usd"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"parent_id": "not-a-uuid"}, "parent_id"),
    ],
)
def test_each_limit_names_its_field(kw, field) -> None:
    with pytest.raises(ValidationError) as info:
        _event(**kw)
    assert validation_message(info.value).startswith(field)


def test_metadata_depth_limit() -> None:
    deep: dict = {}
    node = deep
    for _ in range(MAX_METADATA_DEPTH + 1):
        node["k"] = {}
        node = node["k"]
    with pytest.raises(ValidationError, match="nested deeper"):
        _event(metadata=deep)


def test_unknown_type_lists_the_choices_and_any_case_is_accepted() -> None:
    assert _event().type is EventType.LOG
    assert Event(session_id=new_id(), type="tool-call").type is EventType.TOOL_CALL
    with pytest.raises(ValidationError, match="use one of USER_INPUT"):
        Event(session_id=new_id(), type="bogus")


def test_new_ids_are_uuid7_strictly_increasing_and_unique() -> None:
    import uuid

    ids = [new_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(i).version for i in ids[:10]} == {7}


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00"])
def test_a_time_that_overflows_in_utc_is_a_validation_error(ts) -> None:
    with pytest.raises(ValidationError) as info:
        _event(timestamp=ts)
    assert validation_message(info.value) == f"timestamp: timestamp {ts!r} is outside 1970..9999"


def test_lone_surrogates_become_replacement_characters_in_every_text_field() -> None:
    import json

    lone = json.loads('"\\ud800"')
    event = _event(
        content=lone, name="n" + lone, agent_id=lone, metadata={lone: [lone, {"k": lone}]}
    )
    assert (event.content, event.name, event.agent_id) == ("\ufffd", "n\ufffd", "\ufffd")
    assert event.metadata == {"\ufffd": ["\ufffd", {"k": "\ufffd"}]}
    assert _event(content={"dict": lone}).content == '{"dict":"\ufffd"}'
    from agentlog.model import Session

    session = Session(title=lone, description=lone, tags=[lone])
    assert (session.title, session.description, session.tags) == ("\ufffd", "\ufffd", ["\ufffd"])
    # The bytes a UTF-8 encoder writes, so every store (and JSON) takes them.
    assert event.model_dump_json()


def test_integers_beyond_64_bits_are_kept_as_their_decimal_text() -> None:
    """JSON allows them, no store's JSON writer can write them: one stated rule, no 422."""
    big = -18558052227163515263760990208
    event = _event(metadata={"big": big, "small": 5, "nested": [2**70]}, content={"x": 2**65})
    assert event.metadata == {"big": str(big), "small": 5, "nested": [str(2**70)]}
    assert event.content == f'{{"x":"{2**65}"}}'


def test_name_id_is_uuid5_without_the_objects() -> None:
    import uuid

    from agentlog.model import name_id

    space = uuid.UUID("3b0c6a5e-1f7d-5e2a-9c4b-7d8e9f0a1b2c")
    for name in (
        "",
        "a",
        "trace:0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331",
        "ü\u202e" * 50,
    ):
        assert name_id(space, name) == str(uuid.uuid5(space, name))
