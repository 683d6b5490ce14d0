"""RemoteStore's client behaviour: retries with backoff, Retry-After, clear errors, batch splitting."""

from __future__ import annotations

import httpx
import orjson
import pytest

from agentlog.errors import AuthError, NotFound, ServerUnavailable
from agentlog.model import Event, Session
from agentlog.storage.base import SessionQuery
from agentlog.storage.remote import RemoteStore

PAGE = {"items": [], "next_cursor": None}


def _store(handler, **options) -> RemoteStore:
    client = httpx.Client(base_url="http://agentlog.test", transport=httpx.MockTransport(handler))
    return RemoteStore(
        "http://agentlog.test",
        api_key="al_12345678_secret",
        client=client,
        backoff=0.001,
        **options,
    )


def test_retries_5xx_and_429_then_succeeds(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("agentlog.storage.remote.time.sleep", sleeps.append)
    answers = iter(
        [
            httpx.Response(503),
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json=PAGE),
        ]
    )
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return next(answers)

    assert _store(handler).list_sessions(SessionQuery()).items == []
    assert seen == ["Bearer al_12345678_secret"] * 3
    assert sleeps[0] < 1 and sleeps[1] == 2.0  # backoff, then the server's Retry-After


def test_gives_up_with_server_unavailable(monkeypatch):
    monkeypatch.setattr("agentlog.storage.remote.time.sleep", lambda s: None)
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(502, text="bad gateway")

    with pytest.raises(ServerUnavailable, match="keeps failing"):
        _store(handler, retries=2).get_session("01900000-0000-7000-8000-000000000000")
    assert len(calls) == 3


def test_connection_refused_is_server_unavailable(monkeypatch):
    monkeypatch.setattr("agentlog.storage.remote.time.sleep", lambda s: None)

    def handler(request):
        raise httpx.ConnectError("connection refused")

    with pytest.raises(ServerUnavailable, match="is `agentlog serve` running"):
        _store(handler, retries=1).count_sessions(SessionQuery())


def test_errors_keep_their_code_and_are_not_retried():
    calls = []

    def handler(request):
        calls.append(request.url.path)
        if request.url.path.startswith("/v1/sessions/"):
            return httpx.Response(
                404,
                json={"error": {"code": "not_found", "message": "no session X", "details": None}},
            )
        return httpx.Response(
            401,
            json={
                "error": {
                    "code": "unauthorized",
                    "message": "the API key is not valid",
                    "details": None,
                }
            },
        )

    store = _store(handler)
    with pytest.raises(NotFound, match="no session X"):
        store.get_session("x")
    with pytest.raises(AuthError, match="AGENTLOG_API_KEY"):
        store.count_sessions(SessionQuery())
    assert len(calls) == 2


def test_big_writes_are_split_and_indexes_mapped_back():
    bodies = []

    def handler(request):
        doc = orjson.loads(request.content)
        bodies.append(doc)
        errors = [{"index": 0, "id": doc["events"][0]["id"], "error": "nope"}]
        return httpx.Response(
            207, json={"inserted": len(doc["events"]) - 1, "duplicates": 0, "errors": errors}
        )

    s = Session(title="big")
    events = [Event(session_id=s.id, type="LOG", content="x") for _ in range(2500)]
    result = _store(handler).write([s], events)
    assert [len(b["events"]) for b in bodies] == [1000, 1000, 500]
    assert [len(b["sessions"]) for b in bodies] == [1, 0, 0]
    assert [e.index for e in result.errors] == [0, 1000, 2000] and result.inserted == 2497


def test_a_rejected_session_keeps_its_index_and_kind_across_chunks():
    def handler(request):
        doc = orjson.loads(request.content)
        errors = [{"index": 0, "id": doc["events"][0]["id"], "error": "nope", "kind": "event"}]
        if doc["sessions"]:
            errors.insert(0, {"index": 0, "id": "x", "error": "bad", "kind": "session"})
        return httpx.Response(207, json={"inserted": 0, "duplicates": 0, "errors": errors})

    s = Session(title="big")
    events = [Event(session_id=s.id, type="LOG", content="x") for _ in range(1500)]
    result = _store(handler).write([s], events)
    assert [(e.kind, e.index) for e in result.errors] == [
        ("session", 0),
        ("event", 0),
        ("event", 1000),
    ]


def test_scoped_views_send_the_team_header():
    headers = []

    def handler(request):
        headers.append(
            (request.headers.get("x-agentlog-team"), request.headers.get("x-agentlog-user"))
        )
        return httpx.Response(200, json=PAGE)

    store = _store(handler)
    store.list_sessions(SessionQuery())
    store.scoped("team-b", "bob").list_sessions(SessionQuery())
    store.scoped(None).list_sessions(SessionQuery())
    assert headers == [(None, None), ("team-b", "bob"), ("*", None)]
    assert store.scoped("team-b").team_id == "team-b" and store.scoped(None).team_id is None
