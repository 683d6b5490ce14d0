"""A real `agentlog serve` under a bounded loopback load: 8 clients for a few seconds, mixed batch
ingest, pages, searches and a live stream, on SQLite and on PostgreSQL; on PostgreSQL the
server's database connections are killed in the middle. No 500, no acknowledged event lost,
no event stored twice; the p95 of each kind of request is printed for bench/RESULTS.md.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import orjson
import pytest

from agentlog.model import Event, EventType, Session
from agentlog.server.testing import free_port

CLIENTS = 8
SECONDS = 4.0
ROOT = Path(__file__).resolve().parents[2]
AGENTLOG = str(Path(sys.executable).parent / "agentlog")


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([AGENTLOG, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _serve(
    db: str, tmp: Path, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str, str, dict[str, str]]:
    env = {
        **os.environ,
        "AGENTLOG_HOME": str(tmp / "home"),
        "PYTHONUNBUFFERED": "1",
        **(extra or {}),
    }
    env.pop("AGENTLOG_SERVER", None)
    _run(["admin", "create-user", "load@example.com", "--admin", "--db", db], env)
    key = orjson.loads(
        _run(["admin", "keys", "create", "--label", "load", "--json", "--db", db], env)
    )
    port = free_port()
    proc = subprocess.Popen(
        [AGENTLOG, "serve", "--port", str(port), "--db", db],
        env={"AGENTLOG_SERVE_RATE_LIMIT_PER_MINUTE": "0", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return proc, url, key["secret"], env


class Load:
    """What the clients saw: acknowledged event ids, status codes and latencies per kind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: set[str] = set()
        self.sent: set[str] = set()
        self.statuses: dict[int, int] = defaultdict(int)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.bad: list[str] = []

    def note(self, kind: str, r: httpx.Response, took: float) -> None:
        with self.lock:
            self.statuses[r.status_code] += 1
            self.latency[kind].append(took)
            if r.status_code >= 500 and (r.status_code != 503 or "retry-after" not in r.headers):
                self.bad.append(f"{kind}: {r.status_code} {r.text[:200]}")


def _client(url: str, key: str, load: Load, stop: threading.Event, n: int) -> None:
    h = {"Authorization": f"Bearer {key}"}
    session = Session(title=f"load client {n}")
    first = True
    with httpx.Client(base_url=url, headers=h, timeout=30) as c:
        i = 0
        while not stop.is_set():
            i += 1
            kind = ("ingest", "ingest", "page", "search")[i % 4]
            if kind == "ingest":
                events = [
                    Event(session_id=session.id, type=EventType.LOG, content=f"papaya {n} {i} {j}")
                    for j in range(50)
                ]
                body = {"events": [e.to_json_dict() for e in events]}
                if first:
                    body["sessions"] = [session.to_json_dict()]
                with load.lock:
                    load.sent.update(e.id for e in events)
                for _attempt in range(
                    20
                ):  # an unanswered or 503 batch is sent again, as the SDK does
                    t = time.perf_counter()
                    try:
                        r = c.post("/v1/events:batch", content=orjson.dumps(body),
                                   headers={"Content-Type": "application/json"})  # fmt: skip
                    except httpx.TransportError:
                        time.sleep(0.2)
                        continue
                    load.note(kind, r, time.perf_counter() - t)
                    if r.status_code == 200:
                        with load.lock:
                            load.acked.update(e.id for e in events)
                        first = False
                        break
                    time.sleep(float(r.headers.get("retry-after", "0.2")))
            else:
                path = (
                    "/v1/sessions?limit=50"
                    if kind == "page"
                    else "/v1/events/search?q=papaya&limit=20"
                )
                t = time.perf_counter()
                try:
                    r = c.get(path)
                except httpx.TransportError:
                    continue
                load.note(kind, r, time.perf_counter() - t)


def _stream(url: str, key: str, stop: threading.Event, seen: list[int]) -> None:
    h = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.stream("GET", url + "/v1/events/stream", headers=h, timeout=SECONDS + 30) as r:
            for line in r.iter_lines():
                if line.startswith("id: "):
                    seen[0] += 1
                if stop.is_set():
                    return
    except httpx.HTTPError:
        pass


def _drive(url: str, key: str, fault=None) -> Load:
    load, stop, seen = Load(), threading.Event(), [0]
    threads = [
        threading.Thread(target=_client, args=(url, key, load, stop, n)) for n in range(CLIENTS)
    ]
    threads.append(threading.Thread(target=_stream, args=(url, key, stop, seen), daemon=True))
    for t in threads:
        t.start()
    time.sleep(SECONDS / 2)
    if fault is not None:
        fault()
    time.sleep(SECONDS / 2)
    stop.set()
    for t in threads[:-1]:
        t.join(60)
    load.streamed = seen[0]  # type: ignore[attr-defined]
    return load


def _check(load: Load, url: str, key: str, label: str) -> None:
    assert load.bad == [], load.bad[:5]
    assert load.acked, "no batch was acknowledged"
    h = {"Authorization": f"Bearer {key}"}
    stored: list[str] = []
    with httpx.Client(base_url=url, headers=h, timeout=60) as c:
        cursor = None
        while True:
            params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = c.get("/v1/events", params=params).json()
            stored += [e["id"] for e in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    assert len(stored) == len(set(stored)), "an event was stored twice"
    missing = load.acked - set(stored)
    assert not missing, f"{len(missing)} acknowledged events lost"
    assert set(stored) <= load.sent
    p95 = {
        k: statistics.quantiles(v, n=20)[-1] * 1000 for k, v in load.latency.items() if len(v) > 1
    }
    print(f"\n{label}: {len(load.acked)} events acknowledged, {len(stored)} stored, statuses "
          f"{dict(load.statuses)}, streamed {load.streamed}, p95 ms "  # type: ignore[attr-defined]
          + ", ".join(f"{k} {v:.0f}" for k, v in sorted(p95.items())))  # fmt: skip


def test_sqlite_server_under_load_loses_nothing(tmp_path: Path) -> None:
    proc, url, key, _ = _serve(str(tmp_path / "server.db"), tmp_path)
    try:
        load = _drive(url, key)
        _check(load, url, key, "SQLite")
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.postgres
def test_postgres_server_under_load_survives_its_connections_killed(tmp_path: Path) -> None:
    if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        pytest.skip("needs AGENTLOG_TEST_POSTGRES_URL (a PostgreSQL to serve from)")
    import psycopg

    from agentlog.storage.postgres.testing import base_url, drop_schema, new_schema_url

    url_db, schema = new_schema_url("load")
    app_name = f"agentlog_load_{uuid.uuid4().hex[:8]}"  # tags the server's connections
    url_db += f"&application_name={app_name}"
    proc, url, key, _ = _serve(url_db, tmp_path)
    killed = [0]

    def kill_connections() -> None:
        with psycopg.connect(base_url(), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (app_name,),
            ).fetchall()
        killed[0] = len(rows)

    try:
        load = _drive(url, key, kill_connections)
        assert killed[0] > 0, "the fault did not reach the server's connections"
        _check(load, url, key, f"PostgreSQL ({killed[0]} connections killed mid-run)")
    finally:
        proc.terminate()
        proc.wait(30)
        drop_schema(schema)


def test_a_server_losing_its_redis_mid_run_loses_nothing(tmp_path: Path) -> None:
    """Redis (rate limits, the live fan-out) killed under load: requests go on, nothing is lost."""
    import shutil
    import signal

    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server to start a private Redis it can kill")
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    proc = None
    try:
        time.sleep(0.5)
        extra = {  # rate limits on, so they are counted in Redis until it goes
            "AGENTLOG_SERVE_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "AGENTLOG_SERVE_RATE_LIMIT_PER_MINUTE": "100000",
        }
        proc, url, key, _ = _serve(str(tmp_path / "server.db"), tmp_path, extra)

        def lose_redis() -> None:
            redis.send_signal(signal.SIGKILL)
            redis.wait(10)

        load = _drive(url, key, lose_redis)
        assert redis.returncode is not None
        if load.bad:  # show the server's own account of a 500
            proc.terminate()
            proc.wait(30)
            log = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"{load.bad[:3]}\n--- server log ---\n{log[-4000:]}")
        _check(load, url, key, "SQLite + Redis (Redis killed mid-run)")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if redis.poll() is None:
            redis.kill()
            redis.wait(10)
