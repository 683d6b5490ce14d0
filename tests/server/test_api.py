"""The HTTP API's behaviour: sessions, batches, limits, bad input, headers, health, metrics, export."""

from __future__ import annotations

import io

import orjson
import pytest

from agentlog.model import MAX_BATCH_BYTES, Event, Session
from agentlog.server.testing import start_test_server
from tests.support.server import make_session


def _code(r, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    return err["message"]


def test_session_lifecycle(world):
    c, h = world.client, world.member.h
    s = Session(title="triage", tags=["a"], metadata={"env": "prod"})
    r = c.post("/v1/sessions", json=s.to_json_dict(), headers=h)
    assert r.status_code == 201 and r.json()["title"] == "triage"
    assert (
        r.json()["team_id"] == world.member.user.team_id
        and r.json()["created_by"] == world.member.user.id
    )
    r = c.put(f"/v1/sessions/{s.id}", json={"status": "completed", "tags": ["a", "b"]}, headers=h)
    assert (
        r.status_code == 200
        and r.json()["status"] == "completed"
        and r.json()["tags"] == ["a", "b"]
    )
    page = c.get("/v1/sessions", params={"tag": "b", "status": "completed"}, headers=h).json()
    assert [x["id"] for x in page["items"]] == [s.id] and page["next_cursor"] is None
    r = c.delete(f"/v1/sessions/{s.id}", headers=h)
    assert r.status_code == 200 and r.json() == {"deleted_events": 0, "deleted_sessions": 1}
    _code(c.get(f"/v1/sessions/{s.id}", headers=h), 404, "not_found")
    audit = world.srv.accounts.list_audit(team_id=world.member.user.team_id)
    assert any(e.action == "session.delete" and e.target == s.id for e in audit)


def test_events_paging_and_filters(world):
    c, h = world.client, world.member.h
    sid = make_session(world, world.member, events=25)
    first = c.get(f"/v1/sessions/{sid}/events", params={"limit": 10}, headers=h).json()
    assert len(first["items"]) == 10 and first["next_cursor"]
    second = c.get(
        f"/v1/sessions/{sid}/events",
        params={"limit": 10, "cursor": first["next_cursor"]},
        headers=h,
    ).json()
    assert {e["id"] for e in first["items"]}.isdisjoint(e["id"] for e in second["items"])
    _code(
        c.get(f"/v1/sessions/{sid}/events", params={"cursor": "garbage!"}, headers=h),
        400,
        "invalid_cursor",
    )
    other_query = c.get(
        f"/v1/sessions/{sid}/events",
        params={"type": "ERROR", "cursor": first["next_cursor"]},
        headers=h,
    )
    _code(other_query, 400, "invalid_cursor")
    assert c.get(f"/v1/sessions/{sid}/events", params={"type": "log,error"}, headers=h).json()[
        "items"
    ]
    _code(
        c.get(f"/v1/sessions/{sid}/events", params={"type": "BOGUS"}, headers=h),
        422,
        "invalid_input",
    )
    _code(
        c.get(f"/v1/sessions/{sid}/events", params={"since": "yesterday-ish"}, headers=h),
        422,
        "invalid_input",
    )
    _code(
        c.get(f"/v1/sessions/{sid}/events", params={"limit": 5000}, headers=h), 422, "invalid_input"
    )
    _code(c.get("/v1/events/search", headers=h), 422, "invalid_input")


def test_batch_stores_good_events_and_reports_bad_ones(world):
    s = Session(title="mixed")
    good = [Event(session_id=s.id, type="LOG", content=f"ok {i}").to_json_dict() for i in range(3)]
    body = {
        "sessions": [s.to_json_dict()],
        "events": [
            good[0],
            {"session_id": s.id, "type": "NOPE"},
            good[1],
            "not an object",
            good[2],
        ],
    }
    r = world.client.post("/v1/events:batch", json=body, headers=world.member.h)
    assert r.status_code == 207
    out = r.json()
    assert out["inserted"] == 3 and [e["index"] for e in out["errors"]] == [1, 3]
    assert "unknown event type" in out["errors"][0]["error"]
    again = world.client.post("/v1/events:batch", json=body, headers=world.member.h).json()
    assert again["inserted"] == 0 and again["duplicates"] == 3


def test_a_bad_session_record_is_rejected_alone_and_the_good_events_are_stored(world):
    """The walk's body (F12): a bad session beside an event of an existing session."""
    c, h = world.client, world.member.h
    sid = make_session(world, world.member, events=0)
    event = Event(session_id=sid, type="LOG", content="kept").to_json_dict()
    r = c.post("/v1/events:batch", json={"sessions": [{"id": "x"}], "events": [event]}, headers=h)
    assert r.status_code == 207, r.text
    assert r.json() == {
        "inserted": 1,
        "duplicates": 0,
        "errors": [
            {
                "index": 0,
                "id": "x",
                "error": "id: session id 'x' is not a valid UUID",
                "kind": "session",
            }
        ],
    }
    stored = c.get(f"/v1/sessions/{sid}/events", headers=h).json()["items"]
    assert [e["content"] for e in stored] == ["kept"]


def test_events_of_a_rejected_new_session_are_rejected_naming_its_problem(world):
    c, h = world.client, world.member.h
    new, old = Session(title="new"), make_session(world, world.member, events=0)
    bad = {**new.to_json_dict(), "status": "bogus"}
    events = [
        Event(session_id=new.id, type="LOG", content="orphan").to_json_dict(),
        Event(session_id=old, type="LOG", content="kept").to_json_dict(),
    ]
    body = {"sessions": [Session(title="fine").to_json_dict(), bad, 7], "events": events}
    r = c.post("/v1/events:batch", json=body, headers=h)
    assert r.status_code == 207, r.text
    out = r.json()
    assert out["inserted"] == 1
    errors = [(e["kind"], e["index"], e["id"]) for e in out["errors"]]
    assert errors == [
        ("session", 1, new.id),
        ("session", 2, None),
        ("event", 0, events[0]["id"]),
    ]
    assert out["errors"][1]["error"] == "a session must be a JSON object"
    orphan = out["errors"][2]["error"]
    assert f"session {new.id} does not exist" in orphan and "sessions[1]" in orphan
    assert "status" in orphan
    _code(c.get(f"/v1/sessions/{new.id}", headers=h), 404, "not_found")
    # The same rejected record beside events of a session that exists: they are stored.
    c.post("/v1/sessions", json=new.to_json_dict(), headers=h).raise_for_status()
    later = Event(session_id=new.id, type="LOG", content="later").to_json_dict()
    r = c.post("/v1/events:batch", json={"sessions": [bad], "events": [later]}, headers=h)
    assert r.status_code == 207 and r.json()["inserted"] == 1
    assert [e["kind"] for e in r.json()["errors"]] == ["session"]
    # A good record of the same session in the batch carries its events.
    fixed = Session(title="fixed")
    again = {
        "sessions": [{**fixed.to_json_dict(), "status": "bogus"}, fixed.to_json_dict()],
        "events": [Event(session_id=fixed.id, type="LOG").to_json_dict()],
    }
    r = c.post("/v1/events:batch", json=again, headers=h)
    assert r.status_code == 207 and r.json()["inserted"] == 1
    assert [(e["kind"], e["index"]) for e in r.json()["errors"]] == [("session", 0)]


def test_an_all_good_batch_is_200_and_a_body_that_is_no_batch_stays_4xx(world):
    c, h = world.client, world.member.h
    s = Session(title="good")
    body = {
        "sessions": [s.to_json_dict()],
        "events": [Event(session_id=s.id, type="LOG").to_json_dict()],
    }
    r = c.post("/v1/events:batch", json=body, headers=h)
    assert r.status_code == 200 and r.json() == {"inserted": 1, "duplicates": 0, "errors": []}
    _code(c.post("/v1/events:batch", json=[body], headers=h), 422, "invalid_input")
    _code(
        c.post("/v1/events:batch", json={"sessions": {"id": "x"}}, headers=h),
        422,
        "invalid_input",
    )


def test_batch_with_a_lone_surrogate_and_an_overflowing_time_stores_the_rest(world):
    s = Session(title="hostile")
    body = (
        b'{"sessions": [%s], "events": ['
        b'{"session_id": "%s", "type": "LOG", "content": "good 1"},'
        b'{"session_id": "%s", "type": "LOG", "content": "bad \\ud800 text"},'
        b'{"session_id": "%s", "type": "LOG", "timestamp": "0001-01-01T00:00:00+14:00"},'
        b'{"session_id": "%s", "type": "LOG", "content": "good 2"}]}'
    ) % (orjson.dumps(s.to_json_dict()), *(s.id.encode(),) * 4)
    r = world.client.post(
        "/v1/events:batch",
        content=body,
        headers={**world.member.h, "Content-Type": "application/json"},
    )
    assert r.status_code == 207, r.text
    out = r.json()
    assert out["inserted"] == 3
    assert [(e["index"], e["error"]) for e in out["errors"]] == [
        (2, "timestamp: timestamp '0001-01-01T00:00:00+14:00' is outside 1970..9999")
    ]
    events = world.client.get(f"/v1/sessions/{s.id}/events", headers=world.member.h).json()
    assert [e["content"] for e in events["items"]] == ["good 1", "bad \ufffd text", "good 2"]


def test_batch_over_1000_events_is_413_and_stores_nothing(world):
    sid = make_session(world, world.member, events=0)
    events = [{"session_id": sid, "type": "LOG"} for _ in range(1001)]
    _code(
        world.client.post("/v1/events:batch", json={"events": events}, headers=world.member.h),
        413,
        "payload_too_large",
    )
    assert (
        world.client.get(f"/v1/sessions/{sid}", headers=world.member.h).json()["event_count"] == 0
    )


def test_body_over_10_mib_is_refused_before_parsing(world):
    big = b'{"events": [' + b" " * (MAX_BATCH_BYTES + 10) + b"]}"
    r = world.client.post(
        "/v1/events:batch",
        content=big,
        headers={**world.member.h, "Content-Type": "application/json"},
    )
    _code(r, 413, "payload_too_large")

    # a chunked body without Content-Length is cut off while streaming
    def chunks():
        for _ in range(11):
            yield b" " * (1024 * 1024)

    r = world.client.post("/v1/events:batch", content=chunks(), headers=world.member.h)
    _code(r, 413, "payload_too_large")


def test_unauthenticated_big_body_is_401_not_read(world):
    r = world.client.post(
        "/v1/events:batch", content=b"{" * 1000, headers={"Content-Type": "application/json"}
    )
    _code(r, 401, "unauthorized")


@pytest.mark.parametrize(
    "body,status,code",
    [
        (b"{not json", 400, "usage_error"),
        (b"", 400, "usage_error"),
        (b"[1, 2]", 422, "invalid_input"),
        (b'{"events": [], "extra": 1}', 422, "invalid_input"),
        (b'{"events": {"a": 1}}', 422, "invalid_input"),
        (b'{"sessions": {"status": "sleeping"}}', 422, "invalid_input"),
    ],
)
def test_malformed_batches(world, body, status, code):
    r = world.client.post(
        "/v1/events:batch",
        content=body,
        headers={**world.member.h, "Content-Type": "application/json"},
    )
    _code(r, status, code)


def test_metadata_nested_past_the_stack_is_a_4xx_not_a_500(world):
    """10,000 brackets in an event's metadata made the fast batch reader raise RecursionError."""
    s = Session(title="deep")
    event = orjson.dumps(Event(session_id=s.id, type="LOG", content="x").to_json_dict())
    deep = event.replace(
        b'"metadata":{', b'"metadata":{"a":' + b"[" * 10_000 + b"]" * 10_000 + b","
    )
    assert deep != event
    r = world.client.post(
        "/v1/events:batch",
        content=b'{"events":[' + deep + b"]}",
        headers={**world.member.h, "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert "depth" in r.json()["error"]["message"]


def test_unknown_fields_and_wrong_types_are_422(world):
    h = world.member.h
    _code(
        world.client.post("/v1/sessions", json={"title": "x", "owner": "me"}, headers=h),
        422,
        "invalid_input",
    )
    _code(world.client.post("/v1/sessions", json={"title": 5}, headers=h), 422, "invalid_input")
    msg = _code(
        world.client.post(
            "/v1/sessions", content=b"{", headers={**h, "Content-Type": "application/json"}
        ),
        400,
        "usage_error",
    )
    assert "JSON" in msg
    _code(world.client.get("/v1/sessions/not-a-uuid", headers=h), 404, "not_found")
    _code(world.client.get("/v1/nowhere", headers=h), 404, "not_found")
    _code(world.client.patch("/v1/sessions", headers=h), 405, "usage_error")


INJECTIONS = [
    "'; DROP TABLE events; --",
    '" OR 1=1 --',
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "${jndi:ldap://x}",
    'NEAR(a b) OR "c*" AND -d',
]


def test_injection_is_stored_as_inert_text(world):
    c, h = world.client, world.member.h
    for text in INJECTIONS:
        s = Session(title=text, description=text, tags=[text[:100]], metadata={text: text})
        ev = Event(
            session_id=s.id,
            type="TOOL_CALL",
            content=text,
            name=text,
            agent_id=text[:200],
            metadata={"q": text},
        )
        r = c.post(
            "/v1/events:batch",
            json={"sessions": [s.to_json_dict()], "events": [ev.to_json_dict()]},
            headers=h,
        )
        assert r.status_code == 200, r.text
        got = c.get(f"/v1/sessions/{s.id}", headers=h)
        assert got.json()["title"] == text and got.headers["content-type"] == "application/json"
        assert c.get(f"/v1/events/{ev.id}", headers=h).json()["content"] == text
        found = c.get("/v1/events/search", params={"q": text}, headers=h)
        assert found.status_code == 200, found.text
        listed = c.get(
            f"/v1/sessions/{s.id}/events", params={"agent": text[:200], "name": text}, headers=h
        )
        assert [e["id"] for e in listed.json()["items"]] == [ev.id]
    assert c.get("/v1/info", headers=h).json()["events"] == len(INJECTIONS)


def test_security_headers_and_no_cors_by_default(world):
    r = world.client.get(
        "/v1/sessions", headers={**world.member.h, "Origin": "https://evil.example"}
    )
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "access-control-allow-origin" not in r.headers
    pre = world.client.options(
        "/v1/sessions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in pre.headers


def test_cors_allows_configured_origins_only(tmp_path):
    srv = start_test_server(tmp_path / "cors", cors_origins=("https://ui.example",))
    try:
        ok = srv.client.options(
            "/v1/sessions",
            headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"},
        )
        assert ok.headers["access-control-allow-origin"] == "https://ui.example"
        scoped = srv.client.options(
            "/v1/sessions",
            headers={
                "Origin": "https://ui.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, x-agentlog-team, x-agentlog-user",
            },
        )
        assert scoped.status_code == 200, scoped.text
        bad = srv.client.options(
            "/v1/sessions",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in bad.headers
    finally:
        srv.close()


def test_health_and_readiness_recover_after_store_outage(world, monkeypatch):
    c = world.client
    assert c.get("/healthz").json() == {"status": "ok"}
    assert c.get("/readyz").status_code == 200
    store = world.srv.app.state.agentlog.store

    def down():
        from agentlog.errors import StoreError

        raise StoreError("disk gone")

    monkeypatch.setattr(store, "info", down)
    r = c.get("/readyz")
    assert r.status_code == 503 and r.json()["error"]["code"] == "store_error"
    assert r.headers["Retry-After"] == "5"
    monkeypatch.undo()
    assert c.get("/readyz").status_code == 200


def test_store_errors_map_to_503(world, monkeypatch):
    from agentlog.errors import DatabaseLocked
    from agentlog.storage.sqlite.store import SQLiteStore

    def locked(self, query):
        raise DatabaseLocked("database is locked; retry")

    monkeypatch.setattr(SQLiteStore, "list_sessions", locked)
    r = world.client.get("/v1/sessions", headers=world.member.h)
    _code(r, 503, "database_locked")
    assert r.headers["Retry-After"] == "5"


def test_metrics_for_admins(world):
    make_session(world, world.member, events=4)
    r = world.client.get("/metrics", headers=world.admin.h)
    assert r.status_code == 200
    text = r.text
    assert "agentlog_events_ingested_total 4.0" in text
    assert 'route="/v1/events:batch"' in text


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    srv = start_test_server(tmp_path / "rl", rate_limit_per_minute=5)
    try:
        h = {"Authorization": f"Bearer {srv.admin_key.secret}"}
        codes = [srv.client.get("/v1/sessions", headers=h).status_code for _ in range(7)]
        assert codes[:5] == [200] * 5 and codes[-1] == 429
        r = srv.client.get("/v1/sessions", headers=h)
        assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    finally:
        srv.close()


def test_openapi_and_docs(world):
    spec = world.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/sessions",
        "/v1/sessions/{session_id}",
        "/v1/events:batch",
        "/v1/events/search",
        "/v1/sessions/{session_id}/export",
        "/v1/events/stream",
        "/v1/agents",
        "/v1/analytics/usage",
        "/v1/api-keys",
        "/v1/api-keys/{key_id}/rotate",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/users",
        "/v1/teams",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths, path
    assert "BatchIn" in spec["components"]["schemas"]
    docs = world.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Swagger UI comes from the package, not a CDN (a self-hosted server may have no internet).
    assert "cdn" not in docs.text.lower() and "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert world.client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


def test_export_streams_ndjson_that_import_reads(world):
    from agentlog.transfer.readers import read_ndjson

    sid = make_session(world, world.member, "exported", events=0)
    remote = world.srv.remote_store(
        world.member.key
    )  # RemoteStore splits the 1,200 into two requests
    assert (
        remote.write(
            events=[Event(session_id=sid, type="LOG", content=str(i)) for i in range(1200)]
        ).inserted
        == 1200
    )
    r = world.client.post(f"/v1/sessions/{sid}/export", headers=world.member.h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = r.content.splitlines()
    assert orjson.loads(lines[0])["format"] == "agentlog"
    assert orjson.loads(lines[1])["kind"] == "session" and len(lines) == 1202
    items = list(read_ndjson(io.BytesIO(r.content)))
    assert sum(1 for i in items if getattr(i, "kind", None) == "event") == 1200


def test_agents_and_analytics(world):
    c, h = world.client, world.member.h
    s = Session(
        title="paid", metadata={"agentlog": {"sdk": "agentlog-python", "integration": "langgraph"}}
    )
    events = [
        Event(
            session_id=s.id,
            type="LLM_CALL",
            agent_id="planner",
            input_tokens=10,
            output_tokens=5,
            cost_usd=0.01,
            cache_read_tokens=6,
            cache_creation_tokens=2,
            reasoning_tokens=3,
        ),
        Event(session_id=s.id, type="ERROR", agent_id="planner", status="error"),
    ]
    c.post(
        "/v1/events:batch",
        json={"sessions": [s.to_json_dict()], "events": [e.to_json_dict() for e in events]},
        headers=h,
    )
    agents = c.get("/v1/agents", headers=h).json()
    assert agents[0]["agent_id"] == "planner" and agents[0]["error_rate"] == 0.5
    assert (
        c.get("/v1/agents", params={"active_since": "2999-01-01T00:00:00Z"}, headers=h).json() == []
    )
    u = c.get("/v1/analytics/usage", headers=h).json()
    assert u["totals"]["input_tokens"] == 10 and u["totals"]["errors"] == 1
    details = ("cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")
    assert [u["totals"][k] for k in details] == [6, 2, 3]
    assert [u["per_day"][-1][k] for k in details] == [6, 2, 3]
    assert u["per_integration"][0]["integration"] == "langgraph"
    assert u["per_user"][0]["email"] == "member@example.com"
    assert {t["type"] for t in u["per_type"]} == {"LLM_CALL", "ERROR"}
    assert u["per_day"][-1]["events"] == 2
    assert any(e["endpoint"] == "POST /v1/events:batch" for e in u["per_endpoint"])
    _code(
        c.get("/v1/analytics/usage", params={"since": "2020-01-01T00:00:00Z"}, headers=h),
        422,
        "invalid_input",
    )


def test_client_disconnect_mid_request_leaves_server_working(world):
    """A body that stops arriving (disconnect) is dropped; the next request is served."""
    app = world.srv.app
    sent = []

    async def run():
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/events:batch",
            "raw_path": b"/v1/events:batch",
            "query_string": b"",
            "root_path": "",
            "scheme": "http",
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1),
            "http_version": "1.1",
            "headers": [
                (b"authorization", world.member.h["Authorization"].encode()),
                (b"content-type", b"application/json"),
            ],
        }
        messages = [
            {"type": "http.request", "body": b'{"events": [', "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)

    import anyio

    anyio.run(run)
    assert world.client.get("/v1/sessions", headers=world.member.h).status_code == 200
    assert world.client.get("/v1/info", headers=world.member.h).json()["events"] == 0


def test_each_app_has_its_own_metrics(tmp_path):
    a = start_test_server(tmp_path / "a")
    b = start_test_server(tmp_path / "b")
    try:
        assert a.app.state.agentlog.metrics.registry is not b.app.state.agentlog.metrics.registry
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    "url",
    [
        "/v1/events?agent=%00",
        "/v1/events?name=a%00",
        "/v1/events?metadata=k%3D%00",
        "/v1/sessions?tag=%00",
        "/v1/events/search?q=x%00",
    ],
)
def test_a_nul_in_a_query_parameter_is_a_4xx_not_an_outage(world, url):
    r = world.client.get(url, headers=world.member.h)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["code"] in ("invalid_input", "usage_error")
