"""The container's exact entry command, run natively with the compose file's environment against real PostgreSQL and Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from deploy_files import compose, dockerfile, env_instructions, exec_form, interpolate

from agentlog.server.testing import free_port
from agentlog.storage.postgres.testing import drop_schema, new_schema_url

PG = os.environ.get("AGENTLOG_TEST_POSTGRES_URL")
REDIS = os.environ.get("AGENTLOG_TEST_REDIS_URL")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (PG and REDIS), reason="needs AGENTLOG_TEST_POSTGRES_URL and AGENTLOG_TEST_REDIS_URL"
    ),
]
BIN = Path(sys.executable).parent
ADMIN = "ops@example.com"
PASSWORD = "a-long-first-password"


def container_env(db_url: str, home: Path, port: int) -> dict[str, str]:
    """What the container would see: the image's ENV, then compose's environment.

    Only what cannot be the same off Docker changes: the service host names
    (postgres, redis) become the test services, /data a temporary folder, and
    the port an ephemeral one.
    """
    _, stages = dockerfile()
    image_env = env_instructions(stages[-1])
    dot_env = {
        "POSTGRES_PASSWORD": "unused-here",
        "AGENTLOG_SERVE_JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "AGENTLOG_ADMIN_EMAIL": ADMIN,
        "AGENTLOG_ADMIN_PASSWORD": PASSWORD,
        "AGENTLOG_ADMIN_TEAM": "ops",
        # Other test runs share this Redis and log in from 127.0.0.1 too.
        "AGENTLOG_SERVE_LOGIN_LIMIT_PER_MINUTE": "1000",
    }
    service_env = {
        k: interpolate(str(v), dot_env)
        for k, v in compose()["services"]["agentlog"]["environment"].items()
    }
    assert service_env["AGENTLOG_DB"].startswith("postgresql://agentlog:unused-here@postgres:5432/")
    assert service_env["AGENTLOG_SERVE_REDIS_URL"].startswith("redis://redis:6379/")
    service_env["AGENTLOG_DB"] = db_url
    service_env["AGENTLOG_SERVE_REDIS_URL"] = REDIS or ""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    env.update(image_env)
    env.update(service_env)
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env["AGENTLOG_HOME"] = str(home)
    env["AGENTLOG_SERVE_PORT"] = str(port)
    return env


def entry_argv() -> list[str]:
    _, stages = dockerfile()
    final = stages[-1]
    return exec_form(final.last("ENTRYPOINT") or "[]") + exec_form(final.last("CMD") or "[]")


def healthcheck_argv() -> list[str]:
    _, stages = dockerfile()
    return exec_form((stages[-1].last("HEALTHCHECK") or "").partition("CMD")[2].strip())


def wait_healthy(proc: subprocess.Popen, env: dict[str, str]) -> None:
    """Run the image's HEALTHCHECK command until it passes, as Docker would."""
    argv = healthcheck_argv()
    argv[0] = sys.executable if argv[0] == "python" else argv[0]
    deadline = time.monotonic() + 60
    while subprocess.run(argv, env=env, capture_output=True, timeout=10).returncode != 0:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
        time.sleep(0.2)


@pytest.fixture
def schema_url():
    url, schema = new_schema_url("deploy")
    yield url
    drop_schema(schema)


def test_entry_command_serves_the_api_with_the_compose_environment(tmp_path, schema_url):
    port = free_port()
    env = container_env(schema_url, tmp_path / "data", port)
    argv = entry_argv()
    assert argv[:2] == ["agentlog", "serve"]
    proc = subprocess.Popen(
        [str(BIN / argv[0]), *argv[1:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, env)
        with httpx.Client(base_url=base, timeout=30) as http:
            ready = http.get("/readyz").json()
            assert ready["backend"] == "postgresql" and ready["status"] == "ready"
            # The first admin came from AGENTLOG_ADMIN_*.
            login = http.post("/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
            assert login.status_code == 200, login.text
            token = {"Authorization": f"Bearer {login.json()['access_token']}"}
            me = http.get("/v1/auth/me", headers=token).json()
            assert me["role"] == "owner" and me["email"] == ADMIN  # the first user owns the server
            key = http.post("/v1/api-keys", json={"label": "ci"}, headers=token)
            assert key.status_code == 201, key.text
            auth = {"Authorization": f"Bearer {key.json()['secret']}"}

            sid = str(uuid.uuid4())
            batch = {
                "sessions": [{"id": sid, "title": "deployed"}],
                "events": [
                    {
                        "session_id": sid,
                        "type": "USER_INPUT",
                        "content": f"question {i} about zeppelins",
                        "agent_id": "ops-bot",
                    }
                    for i in range(50)
                ],
            }
            wrote = http.post("/v1/events:batch", json=batch, headers=auth)
            assert wrote.status_code == 200, wrote.text
            found = http.get(
                "/v1/events/search", params={"q": "zeppelins", "limit": 100}, headers=auth
            )
            assert found.status_code == 200 and len(found.json()["items"]) == 50
            exported = http.post(f"/v1/sessions/{sid}/export", headers=auth)
            lines = exported.text.strip().splitlines()
            assert exported.status_code == 200 and len(lines) == 52  # header, session, 50 events
            metrics = http.get("/metrics", headers=auth).text
            assert 'agentlog_db_pool_max{pool="events"}' in metrics
            assert "agentlog_events_ingested_total 50.0" in metrics
    finally:
        proc.send_signal(signal.SIGTERM)  # what `docker stop` sends
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"created the first admin {ADMIN}" in err
    assert PASSWORD not in out + err  # never echoed
    access = [orjson.loads(line) for line in out.splitlines() if line.startswith("{")]
    batch = [a for a in access if a["route"] == "/v1/events:batch"]
    assert len(batch) == 1 and batch[0]["status"] == 200 and batch[0]["team_id"]
    assert "0.0.0.0" in err


def test_a_second_start_keeps_the_admin_and_ignores_the_variables(tmp_path, schema_url):
    from agentlog.server.service import open_backends

    port = free_port()
    env = container_env(schema_url, tmp_path / "data", port)
    argv = entry_argv()
    for round_ in range(2):
        proc = subprocess.Popen(
            [str(BIN / argv[0]), *argv[1:]],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_healthy(proc, env)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert ("created the first admin" in err) == (round_ == 0)
        env["AGENTLOG_ADMIN_PASSWORD"] = "another-password-entirely"
    store, accounts = open_backends(schema_url)
    try:
        assert [u.email for u in accounts.list_users()] == [ADMIN]
    finally:
        accounts.close()
        store.close()


def test_sigterm_drains_a_request_in_flight(tmp_path, schema_url):
    """`docker stop` sends SIGTERM: a batch whose body is still arriving is finished and stored."""
    import socket

    port = free_port()
    env = container_env(schema_url, tmp_path / "data", port)
    argv = entry_argv()
    proc = subprocess.Popen(
        [str(BIN / argv[0]), *argv[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_healthy(proc, env)
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/v1/auth/login", json={"email": ADMIN, "password": PASSWORD}
        ).json()["access_token"]
        sid = str(uuid.uuid4())
        body = orjson.dumps(
            {
                "sessions": [{"id": sid, "title": "draining"}],
                "events": [
                    {"session_id": sid, "type": "LOG", "content": f"e{i}"} for i in range(200)
                ],
            }
        )
        head = (
            f"POST /v1/events:batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.5)  # the request is in flight: headers read, body half there
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(body[len(body) // 2 :])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    from agentlog.server.service import open_backends

    store, accounts = open_backends(schema_url)
    try:
        assert store.get_session(sid).title == "draining"
        assert store.info().events == 200
    finally:
        accounts.close()
        store.close()
