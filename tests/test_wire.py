"""One place for the wire names: the server offers exactly the query parameters RemoteStore sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agentlog.model import EventType, SessionStatus
from agentlog.server.testing import start_test_server
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.remote import event_params, session_params
from agentlog.wire import AGENTS_ACTIVE_SINCE, ChangesParam, EventParam, SessionParam, names

T = datetime(2026, 3, 1, tzinfo=UTC)
SID = "01900000-0000-7000-8000-000000000001"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("wire") / "server"
    folder.mkdir(mode=0o700)
    server = start_test_server(folder, rate_limit_per_minute=0)
    try:
        return server.client.get("/openapi.json").json()
    finally:
        server.close()


def offered(spec: dict, path: str) -> set[str]:
    return {
        p["name"] for p in spec["paths"][path]["get"].get("parameters", []) if p["in"] == "query"
    }


@pytest.mark.parametrize(
    "path",
    ["/v1/events", "/v1/events:count", "/v1/events:keys", "/v1/events:facets", "/v1/events:stats"],
)
def test_event_routes_read_the_event_names(spec, path) -> None:
    assert offered(spec, path) == names(EventParam)


@pytest.mark.parametrize("path", ["/v1/sessions", "/v1/sessions:count"])
def test_session_routes_read_the_session_names(spec, path) -> None:
    assert offered(spec, path) == names(SessionParam)


def test_changes_and_agents(spec) -> None:
    assert offered(spec, "/v1/sessions:changes") == names(ChangesParam)
    assert offered(spec, "/v1/agents") == {AGENTS_ACTIVE_SINCE}


def test_remote_store_sends_every_name_and_no_other() -> None:
    every = EventQuery(
        session_id=SID,
        types=[EventType.LOG],
        agents=["a"],
        names=["n"],
        status="error",
        since=T,
        until=T,
        text="x",
        metadata={"k": "v"},
        parent_id=SID,
        cursor="c",
    )
    assert {k for k, _ in event_params(every)} == names(EventParam)
    sessions = SessionQuery(
        status=SessionStatus.FAILED,
        tags=["t"],
        agent="a",
        since=T,
        until=T,
        text="x",
        parent_session_id=SID,
        replay_of=SID,
        cursor="c",
    )
    assert {k for k, _ in session_params(sessions)} == names(SessionParam)
