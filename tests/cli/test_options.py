"""The CLI's shared option parsers: comma lists, event types, metadata and JSON values."""

from __future__ import annotations

import pytest

from agentlog.cli.options import event_types, json_object, metadata_filters, split_values
from agentlog.errors import UsageError
from agentlog.model import EventType


def test_split_and_types():
    assert split_values(["a,b", " c ", ",,"]) == ["a", "b", "c"]
    assert event_types(None) is None
    assert event_types(["tool_call,ERROR", "llm-call"]) == [
        EventType.TOOL_CALL,
        EventType.ERROR,
        EventType.LLM_CALL,
    ]
    with pytest.raises(UsageError, match="--type: unknown event type 'NOPE'"):
        event_types(["NOPE"])


def test_metadata_and_json_options():
    assert metadata_filters(["env=prod", "k=a=b", "empty="]) == {
        "env": "prod",
        "k": "a=b",
        "empty": "",
    }
    with pytest.raises(UsageError, match="KEY=VALUE"):
        metadata_filters(["novalue"])
    assert json_object('{"a": 1}', "--metadata") == {"a": 1}
    assert json_object(None, "--metadata") is None
    with pytest.raises(UsageError, match="--metadata: not valid JSON"):
        json_object("{bad", "--metadata")
    with pytest.raises(UsageError, match="JSON object"):
        json_object("[1, 2]", "--metadata")
