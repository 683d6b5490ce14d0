"""Faults against the real PostgreSQL: an exhausted pool answers 503 + Retry-After; killed connections fail cleanly and lose nothing acknowledged."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from starlette.testclient import TestClient

from agentlog.server import service
from agentlog.server.app import create_app
from agentlog.server.settings import ServerSettings
from agentlog.storage.accounts import Role

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"), reason="needs PostgreSQL"),
]


class PgServer:
    def __init__(self, client: TestClient, store, key: str, app_name: str, schema: str) -> None:
        self.client, self.store, self.app_name, self.schema = client, store, app_name, schema
        self.h = {"Authorization": f"Bearer {key}"}


@pytest.fixture
def pg_server(tmp_path) -> Iterator[PgServer]:
    from agentlog.storage.accounts.postgres import PostgresAccounts
    from agentlog.storage.postgres.store import PostgresStore
    from agentlog.storage.postgres.testing import drop_schema, new_schema_url

    url, schema = new_schema_url("deploy")
    app_name = (
        f"agentlog_deploy_{uuid.uuid4().hex[:8]}"  # tags our connections, so we kill only ours
    )
    url += f"&application_name={app_name}"
    store = PostgresStore(url, pool_size=2)
    accounts = PostgresAccounts(url)
    app = create_app(
        ServerSettings(db=url, data_dir=tmp_path, rate_limit_per_minute=0),
        store=store,
        accounts=accounts,
    )
    team = service.team_for(accounts, "main", create=True)
    admin = accounts.create_user("admin@example.com", None, Role.OWNER, team.id)
    key = service.create_key(accounts, admin, team, "tests")
    client = TestClient(app, base_url="http://agentlog.test")
    client.__enter__()
    try:
        yield PgServer(client, store, key.secret, app_name, schema)
    finally:
        client.__exit__(None, None, None)
        store.close()
        accounts.close()
        drop_schema(schema)


def batch(n: int) -> tuple[dict, list[str]]:
    sid = str(uuid.uuid4())
    ids = [str(uuid.uuid4()) for _ in range(n)]
    body = {
        "sessions": [{"id": sid, "title": "fault"}],
        "events": [
            {"id": i, "session_id": sid, "type": "LOG", "content": f"line {k}"}
            for k, i in enumerate(ids)
        ],
    }
    return body, ids


def test_an_exhausted_pool_answers_503_with_retry_after_not_a_hang(pg_server):
    pool = pg_server.store._pool
    pool.timeout = 0.5  # the default waits 10 s; the behaviour is the same
    with pool.connection(), pool.connection():  # both connections taken by someone else
        started = time.monotonic()
        answer = pg_server.client.get("/v1/sessions", headers=pg_server.h)
        waited = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.headers["retry-after"].isdigit()
    assert answer.json()["error"]["code"] == "store_error"
    assert "no PostgreSQL connection" in answer.json()["error"]["message"]
    assert waited < 5
    assert pg_server.client.get("/v1/sessions", headers=pg_server.h).status_code == 200
    metrics = pg_server.client.get("/metrics", headers=pg_server.h).text
    assert "agentlog_db_errors_total 1.0" in metrics
    timeouts = [
        line for line in metrics.splitlines() if line.startswith("agentlog_db_pool_timeouts_total")
    ]
    assert any('pool="events"' in t and not t.endswith(" 0.0") for t in timeouts)


def test_connections_killed_under_load_fail_cleanly_and_lose_nothing_acknowledged(pg_server):
    stop = threading.Event()
    kills = 0

    def killer() -> None:
        """Five "restarts": every connection of ours dropped at once, 0.4 s apart."""
        nonlocal kills
        with psycopg.connect(os.environ["AGENTLOG_TEST_POSTGRES_URL"], autocommit=True) as conn:
            for _ in range(5):
                if stop.wait(0.4):
                    return
                row = conn.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (pg_server.app_name,),
                ).fetchone()
                kills += row[0] if row else 0

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    acknowledged: list[str] = []
    statuses: dict[int, int] = {}
    try:
        # Write for as long as the "restarts" go on (and a little more), bounded in time.
        deadline = time.monotonic() + 30
        sent = 0
        while (thread.is_alive() or sent < 20) and time.monotonic() < deadline:
            body, ids = batch(10)
            answer = pg_server.client.post("/v1/events:batch", json=body, headers=pg_server.h)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            if answer.status_code == 200:
                acknowledged.extend(ids)
            else:
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"]
                assert answer.json()["error"]["code"] == "store_error"
            sent += 1
    finally:
        stop.set()
        thread.join(5)
    assert kills > 0 and acknowledged, statuses
    # The pool recovers once the connections stop dying.
    body, ids = batch(1)
    assert (
        pg_server.client.post("/v1/events:batch", json=body, headers=pg_server.h).status_code == 200
    )
    with psycopg.connect(os.environ["AGENTLOG_TEST_POSTGRES_URL"]) as conn:
        stored = {
            r[0]
            for r in conn.execute(
                f'SELECT id FROM "{pg_server.schema}".events WHERE id = ANY(%s)', (acknowledged,)
            )
        }
    assert stored == set(acknowledged)
