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


def _options(name: str) -> set[str]:
    from typer.main import get_command

    from agentlog.cli.app import app

    command = get_command(app).get_command(None, name)
    return {opt for p in command.params for opt in p.opts if opt.startswith("--")}


FILTERS = {
    "--type",
    "--agent",
    "--name",
    "--status",
    "--since",
    "--until",
    "--search",
    "--metadata",
}


def test_the_event_commands_share_one_filter_bundle():
    """events, stats, search and tail get their filters from event_filter_options, once."""
    assert _options("events") >= FILTERS
    assert _options("stats") >= FILTERS
    assert FILTERS - {"--search"} <= _options("search")  # its text is the argument
    assert FILTERS - {"--since", "--until"} <= _options("tail")  # follows from now on
    assert "--since" not in _options("tail") and "--search" not in _options("search")


def test_event_filters_make_one_query(tmp_path):
    from agentlog.cli.options import EventFilters
    from agentlog.storage.sqlite.store import SQLiteStore

    store = SQLiteStore(tmp_path / "q.db")
    try:
        filters = EventFilters(
            type_=["tool_call,error"],
            agent=["a,b"],
            name=["n"],
            status="error",
            search="word",
            metadata=["env=prod"],
        )
        query = filters.query(store, order="desc", limit=7)
        assert query.types == [EventType.TOOL_CALL, EventType.ERROR]
        assert (query.agents, query.names, query.status) == (["a", "b"], ["n"], "error")
        assert (query.text, query.metadata, query.order, query.limit) == (
            "word",
            {"env": "prod"},
            "desc",
            7,
        )
        assert filters.query(store, text="other").text == "other"  # `search`'s argument
    finally:
        store.close()


@pytest.mark.parametrize(
    "args",
    [
        ("otel", "receive", "--port", "70000"),
        ("otel", "receive", "--port", "-1"),
        ("mcp", "proxy", "--upstream", "http://127.0.0.1:9/mcp", "--port", "99999"),
        ("replay", "llm", "00000000-0000-7000-8000-000000000001", "--port", "65536", "--", "true"),
        ("serve", "--port", "70000"),
    ],
)
def test_a_port_out_of_range_is_a_usage_error(empty_cli, args):
    # Was: OverflowError from bind() as an "internal error" with a traceback.
    assert "--port" in empty_cli.fails(2, *args)


def test_a_server_port_setting_out_of_range_is_refused(empty_cli, monkeypatch):
    monkeypatch.setenv("AGENTLOG_SERVE_PORT", "70000")
    line = empty_cli.fails(1, "serve")
    assert "AGENTLOG_SERVE_PORT is 70000; use a port number from 1 to 65535" in line


def test_a_malformed_redis_url_is_refused_at_start(empty_cli, monkeypatch):
    monkeypatch.setenv("AGENTLOG_SERVE_REDIS_URL", "garbage")
    line = empty_cli.fails(1, "serve")
    assert "AGENTLOG_SERVE_REDIS_URL is 'garbage'; use a redis://" in line
    assert "Traceback" not in line


@pytest.mark.parametrize(
    ("env", "value"),
    [("AGENTLOG_SERVE_WORKERS", "0"), ("AGENTLOG_SERVE_CORS_ORIGINS", "notanorigin")],
)
def test_a_bad_serve_setting_is_refused_at_start(empty_cli, monkeypatch, env, value):
    monkeypatch.setenv(env, value)
    line = empty_cli.fails(1, "serve")
    assert env in line and "Traceback" not in line
