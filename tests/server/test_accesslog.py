"""The structured access log: one JSON line per request, no secrets or bodies, X-Request-ID echoed."""

from __future__ import annotations

import logging

import orjson
import pytest

from agentlog.server.accesslog import LOGGER


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)

    def read() -> list[dict]:
        return [orjson.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER]

    return read


def test_one_line_per_request_with_route_template_and_who(world, lines):
    sid = "0190a000-0000-7000-8000-00000000abcd"
    secret_query = "q=hunter2-in-a-query"
    answer = world.client.get(f"/v1/sessions/{sid}?{secret_query}", headers=world.member.h)
    assert answer.status_code == 404
    (line,) = lines()
    assert line["method"] == "GET" and line["status"] == 404
    assert line["route"] == "/v1/sessions/{session_id}"
    assert line["user_id"] == world.member.user.id and line["team_id"] == world.member.user.team_id
    assert line["duration_ms"] >= 0 and line["time"].endswith("Z")
    assert answer.headers["x-request-id"] == line["request_id"]
    text = orjson.dumps(line).decode()
    assert world.member.key not in text and "hunter2" not in text and sid not in text


def test_a_callers_request_id_is_echoed_and_a_forged_one_replaced(world, lines):
    ok = world.client.get("/healthz", headers={"X-Request-ID": "edge-42.abc"})
    assert ok.headers["x-request-id"] == "edge-42.abc"
    forged = world.client.get("/healthz", headers={"X-Request-ID": 'x" "status": 200'})
    assert forged.headers["x-request-id"] != 'x" "status": 200'
    assert len(forged.headers["x-request-id"]) == 32
    first, second = lines()
    assert first["request_id"] == "edge-42.abc" and first["user_id"] is None
    assert second["request_id"] == forged.headers["x-request-id"]


def test_a_login_logs_no_password_and_a_refused_body_still_gets_its_line(world, lines):
    world.client.post(
        "/v1/auth/login", json={"email": "admin@example.com", "password": "wrong-password-123"}
    )
    big = world.client.post(
        "/v1/events:batch",
        content=b"x" * (11 * 1024 * 1024),
        headers={**world.admin.h, "Content-Type": "application/json"},
    )
    assert big.status_code == 413 and big.headers["x-request-id"]
    login, refused = lines()
    assert "wrong-password" not in orjson.dumps(login).decode()
    assert login["route"] == "/v1/auth/login" and login["status"] == 401
    assert refused["status"] == 413
