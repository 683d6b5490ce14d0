"""A canonical request body becomes the model's rows in one pass; anything else is left to the model."""

from __future__ import annotations

import orjson

from agentlog.batchcheck import batch_rows
from agentlog.model import Event, new_id
from agentlog.storage.sql.rows import event_values
from tests.test_fastcheck import CASES, SID, _base

NOW = 1_767_225_600_000_000


def test_a_canonical_body_is_read_in_one_pass_and_any_other_is_left_to_the_model() -> None:
    good = [_base(id=new_id(), timestamp="2026-01-31T12:00:00Z", content=f"e{i}") for i in range(3)]
    read = batch_rows(orjson.dumps({"sessions": [{"id": SID}], "events": good}))
    assert read is not None
    sessions, rows = read
    assert sessions == [{"id": SID}]
    assert rows == [event_values(Event.model_validate(g)) for g in good]
    for odd in (
        {"events": [*good, _base(type="log")]},
        {"events": good, "extra": 1},
        {"events": [good[0]] * 1001},
        {"sessions": None, "events": good},
        {"events": [{**good[0], "parent_id": new_id().upper()}]},
        {"events": [{**good[0], "id": "x" * 36}]},
        [good[0]],
    ):
        assert batch_rows(orjson.dumps(odd)) is None
    assert batch_rows(b'{"events": [{"content": "\\ud800"}]}') is None
    assert batch_rows(b"not json") is None
    nul = _base(id=new_id(), timestamp="2026-01-31T12:00:00Z", content="a\x00b")
    assert batch_rows(orjson.dumps({"events": [nul]})) is None


def test_lone_surrogates_never_pass_in_any_text_field() -> None:
    for field in ("content", "name", "agent_id"):
        body = b'{"events": [{"session_id": "%s", "type": "LOG", "%s": "a\\udc00"}]}' % (
            SID.encode(),
            field.encode(),
        )
        assert batch_rows(body) is None


def test_nul_in_any_text_of_an_event_leaves_the_body_to_the_model() -> None:
    good = _base(id=new_id(), timestamp="2026-01-31T12:00:00Z")
    for field, value in (
        ("content", "a\x00b"),
        ("name", "\x00"),
        ("agent_id", "a\x00"),
        ("metadata", {"k": "a\x00b"}),
        ("metadata", {"a\x00": 1}),
    ):
        assert batch_rows(orjson.dumps({"events": [good, {**good, field: value}]})) is None
    # A session's text is the model's to read either way (`Session`), so it costs no event.
    read = batch_rows(orjson.dumps({"sessions": [{"id": SID, "title": "a\x00"}], "events": [good]}))
    assert read is not None and read[0] == [{"id": SID, "title": "a\x00"}]


def test_events_without_id_or_time_get_new_ones_in_order() -> None:
    read = batch_rows(orjson.dumps({"events": [_base(), _base()]}))
    assert read is not None
    first, second = read[1]
    assert len(first[0]) == 36 and first[0] != SID and first[0] < second[0]
    assert NOW < first[2] <= second[2]


def test_a_body_read_fast_gives_what_the_model_gives() -> None:
    accepted = 0
    for data in CASES:
        try:
            body = orjson.dumps({"events": [data]}, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # bytes, lone surrogates: no JSON body carries them
            continue
        read = batch_rows(body)
        if read is None:
            continue
        accepted += 1
        model = event_values(Event.model_validate(orjson.loads(body)["events"][0]))
        fast = read[1][0]
        skip = {i for i, key in ((0, "id"), (2, "timestamp")) if key not in data}
        assert [v for i, v in enumerate(fast) if i not in skip] == [
            v for i, v in enumerate(model) if i not in skip
        ]
        assert [type(v) for v in fast] == [type(v) for v in model]
    assert accepted >= 8


def test_ids_are_checked_all_at_once_in_their_canonical_form() -> None:
    from agentlog.batchcheck import _canonical_ids

    a, b = new_id(), new_id()
    assert _canonical_ids(a + b)
    assert _canonical_ids("")
    for odd in (
        a.upper() + b,
        a[:8] + "x" + a[9:],  # a hyphen missing
        a[:35] + "g",
        a.replace("-", "0", 1)[:35] + "-",  # four hyphens, one misplaced
        "é" * 36,
        a + b[:35],
    ):
        assert not _canonical_ids(odd), odd


def test_json_nested_past_the_stack_is_left_to_the_model() -> None:
    """msgspec recurses on Python's stack: 10,000 brackets were a RecursionError (a 500)."""
    from agentlog.batchcheck import line_event

    deep = b"[" * 10_000 + b"]" * 10_000
    line = b'{"kind":"event","id":"%s","session_id":"%s","timestamp":"2026-01-01T00:00:00Z",'
    line = line % (new_id().encode(), SID.encode())
    line += b'"type":"LOG","content":"x","metadata":{"a":' + deep + b"}}"
    assert line_event(line) is None
    body = b'{"events":[' + line.replace(b'"kind":"event",', b"") + b"]}"
    assert batch_rows(body) is None
