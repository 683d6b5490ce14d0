"""Benchmark `agentlog serve`: HTTP ingest vs a bare FastAPI endpoint, page and search p95, idle RSS.

Everything runs on loopback, bounded in count and time. Each figure stands
beside a ceiling measured in the same run:

- ingest: POST /v1/events:batch (1,000-event batches, one uvicorn process,
  SQLite store, auth + tenancy + metrics on) until durable and searchable,
  vs a bare FastAPI endpoint in its own uvicorn process that parses,
  validates and inserts the same batches into the same schema (SQLiteStore)
  and answers the same search;
- SDK over HTTP: AgentLog(server=URL, api_key=K) logging, until close();
- GET /v1/sessions/{id}/events page of 100 at the start, middle and end of a
  100,000-event session vs `list_events` on the same file in-process;
- GET /v1/events/search p95 vs `list_events(text=...)` in-process;
- RSS of an idle `agentlog serve`.

Usage: .venv/bin/python bench/bench_server.py [--events 100000] [--search-events 300000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agentlog.model import Session, format_ts, from_us, new_id, utcnow  # noqa: E402
from agentlog.storage.base import EventQuery, event_cursor  # noqa: E402

WORDS = [
    "timeout",
    "retry",
    "planner",
    "fetch",
    "tickets",
    "summarise",
    "refund",
    "order",
    "invoice",
    "latency",
    "cache",
    "miss",
    "database",
    "schema",
    "migration",
    "deploy",
    "rollback",
    "staging",
    "production",
    "alert",
    "queue",
    "worker",
    "crawler",
    "parser",
    "token",
    "budget",
    "model",
    "tool",
    "result",
    "error",
    "warning",
    "success",
    "handoff",
    "review",
    "approve",
]
BARE_APP = textwrap.dedent(
    '''
    """A bare FastAPI ingest endpoint: parse, validate, insert into the same schema. Nothing else."""
    import os
    import orjson
    from fastapi import FastAPI, Request
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    from agentlog.model import Event, Session
    from agentlog.storage.base import EventQuery
    from agentlog.storage.sqlite.store import SQLiteStore

    store = SQLiteStore(os.environ["BARE_DB"])
    app = FastAPI()

    @app.post("/batch")
    async def batch(request: Request) -> Response:
        body = await request.body()

        def work():
            data = orjson.loads(body)
            sessions = [Session.model_validate(s) for s in data.get("sessions", [])]
            events = [Event.model_validate(e) for e in data["events"]]
            r = store.write(sessions, events)
            return Response(orjson.dumps({"inserted": r.inserted}), media_type="application/json")

        return await run_in_threadpool(work)

    @app.get("/search")
    def search(q: str) -> Response:
        page = store.list_events(EventQuery(text=q, order="desc", limit=50))
        return Response(orjson.dumps([e.id for e in page.items]), media_type="application/json")
    '''
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(url + path, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def make_batches(session: Session, n_events: int, rng: random.Random, t0_us: int) -> list[bytes]:
    """Pre-serialised request bodies of 1,000 events (the session rides with the first)."""
    bodies = []
    sid = session.id
    for start in range(0, n_events, 1000):
        events = []
        for i in range(start, min(start + 1000, n_events)):
            kind = ("LLM_CALL", "TOOL_CALL", "TOOL_RESULT", "LOG", "AGENT_OUTPUT")[i % 5]
            events.append(
                {
                    "id": new_id(),
                    "session_id": sid,
                    "timestamp": format_ts(from_us(t0_us + i * 1000)),
                    "type": kind,
                    "agent_id": f"agent-{i % 7}",
                    "name": f"tool_{i % 13}",
                    "content": " ".join(rng.choice(WORDS) for _ in range(25)),
                    "metadata": {"step": i, "env": "bench"},
                    "duration_ms": float(i % 250),
                    "input_tokens": 100 + i % 50 if kind == "LLM_CALL" else None,
                }
            )
        doc = {"events": events}
        if start == 0:
            doc["sessions"] = [session.to_json_dict()]
        bodies.append(orjson.dumps(doc))
    return bodies


def post_all(client: httpx.Client, path: str, bodies: list[bytes]) -> None:
    for body in bodies:
        r = client.post(path, content=body, headers={"Content-Type": "application/json"})
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--events", type=int, default=100_000, help="events in the big session (ingest)"
    )
    ap.add_argument("--search-events", type=int, default=300_000, help="events in the search store")
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="agentlog-bench-server-"))
    home = tmp / "home"
    env = {**os.environ, "AGENTLOG_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    os.environ["AGENTLOG_HOME"] = str(home)
    agentlog = str(Path(sys.executable).parent / "agentlog")
    rng = random.Random(7)
    results: dict[str, object] = {}

    # ---------------------------------------------------------------- setup: admin + key
    db = tmp / "server.db"
    subprocess.run(
        [agentlog, "admin", "create-user", "bench@example.com", "--admin", "--db", str(db)],
        env=env,
        check=True,
        capture_output=True,
    )
    key = orjson.loads(
        subprocess.run(
            [agentlog, "admin", "keys", "create", "--label", "bench", "--json", "--db", str(db)],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    )["secret"]
    auth = {"Authorization": f"Bearer {key}"}

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = start([agentlog, "serve", "--port", str(port), "--db", str(db)], env)
    bare_port = free_port()
    bare_url = f"http://127.0.0.1:{bare_port}"
    (tmp / "bare_app.py").write_text(BARE_APP)
    bare = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(bare_port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--app-dir",
            str(tmp),
        ],
        {**env, "BARE_DB": str(tmp / "bare.db")},
    )
    try:
        wait_ready(url, serve)
        wait_ready(bare_url, bare, "/docs")
        time.sleep(1.0)
        results["idle_rss_start_mib"] = rss_mib(serve.pid)

        # ------------------------------------------------------------ ingest
        from agentlog.model import to_us

        t0_us = to_us(utcnow()) - 10**11
        big = Session(title="bench big session")
        bodies = make_batches(big, args.events, rng, t0_us)
        bare_bodies = make_batches(
            Session(title="bench big session"), args.events, random.Random(7), t0_us
        )
        rounds = []
        with (
            httpx.Client(base_url=url, headers=auth, timeout=120) as c,
            httpx.Client(base_url=bare_url, timeout=120) as b,
        ):
            # Alternate halves so load from other jobs hits both sides alike.
            half = len(bodies) // 2
            plan = [
                ("server", bodies[:half]),
                ("bare", bare_bodies[:half]),
                ("bare", bare_bodies[half:]),
                ("server", bodies[half:]),
            ]
            totals = {"server": 0.0, "bare": 0.0}
            for side, chunk in plan:
                client, path = (c, "/v1/events:batch") if side == "server" else (b, "/batch")
                t = time.perf_counter()
                post_all(client, path, chunk)
                totals[side] += time.perf_counter() - t
                rounds.append((side, len(chunk), time.perf_counter() - t))
            # until searchable: the first search brings the full-text index up to date
            t = time.perf_counter()
            r = c.get("/v1/events/search", params={"q": "rollback", "limit": 50})
            assert r.status_code == 200 and r.json()["items"], r.text[:200]
            totals["server"] += time.perf_counter() - t
            t = time.perf_counter()
            assert b.get("/search", params={"q": "rollback"}).json()
            totals["bare"] += time.perf_counter() - t
        results["ingest_server_eps"] = args.events / totals["server"]
        results["ingest_bare_eps"] = args.events / totals["bare"]
        results["ingest_ratio"] = totals["bare"] / totals["server"]
        results["ingest_rss_mib"] = rss_mib(serve.pid)

        # ------------------------------------------------------------ SDK over HTTP
        from agentlog import AgentLog

        n_sdk = 20_000
        t = time.perf_counter()
        log = AgentLog(server=url, api_key=key, spool=tmp / "spool.db")
        with log.session("sdk bench", agent_id="sdk-bench") as s:
            for i in range(n_sdk):
                s.log(f"sdk event {i} " + rng.choice(WORDS))
        assert log.close(timeout=120)
        results["sdk_http_eps"] = n_sdk / (time.perf_counter() - t)

        # ------------------------------------------------------------ pages at depth
        from agentlog.storage.sqlite.store import SQLiteStore

        local = SQLiteStore(db, read_only=True)
        keys = local.event_keys(EventQuery(session_id=big.id))
        assert len(keys) == args.events, len(keys)
        page_q = EventQuery(session_id=big.id, order="asc", limit=100)
        depths = {"start": None, "middle": keys[len(keys) // 2], "end": keys[-101]}
        with httpx.Client(base_url=url, headers=auth, timeout=30) as c:
            for name, key_at in depths.items():
                cursor = event_cursor(page_q, *key_at) if key_at else None
                params = {"limit": "100", "order": "asc", **({"cursor": cursor} if cursor else {})}
                http_t, local_t = [], []
                for _ in range(args.samples):
                    t = time.perf_counter()
                    r = c.get(f"/v1/sessions/{big.id}/events", params=params)
                    http_t.append(time.perf_counter() - t)
                    assert r.status_code == 200 and len(r.json()["items"]) == 100
                    t = time.perf_counter()
                    local.list_events(replace(page_q, cursor=cursor))
                    local_t.append(time.perf_counter() - t)
                results[f"page_{name}_p95_ms"] = p95(http_t) * 1000
                results[f"page_{name}_local_p95_ms"] = p95(local_t) * 1000
        local.close()

        # ------------------------------------------------------------ search over a bigger store
        extra = max(0, args.search_events - args.events - n_sdk)
        t = time.perf_counter()
        with httpx.Client(base_url=url, headers=auth, timeout=120) as c:
            for k in range(0, extra, 20_000):
                sess = Session(title=f"search filler {k}")
                post_all(
                    c,
                    "/v1/events:batch",
                    make_batches(sess, min(20_000, extra - k), rng, t0_us + k * 1000),
                )
            c.get("/v1/events/search", params={"q": "warmup"})
        results["search_fill_s"] = time.perf_counter() - t
        local = SQLiteStore(db, read_only=True)
        results["search_store_events"] = local.count_events(EventQuery())
        terms = ["rollback", "timeout retry", "invoice", "crawler parser", "zebra"]
        http_t, local_t = [], []
        with httpx.Client(base_url=url, headers=auth, timeout=30) as c:
            for i in range(args.samples):
                q = terms[i % len(terms)]
                t = time.perf_counter()
                r = c.get("/v1/events/search", params={"q": q, "limit": 50})
                http_t.append(time.perf_counter() - t)
                assert r.status_code == 200
                t = time.perf_counter()
                local.list_events(EventQuery(text=q, order="desc", limit=50))
                local_t.append(time.perf_counter() - t)
        local.close()
        results["search_p95_ms"] = p95(http_t) * 1000
        results["search_local_p95_ms"] = p95(local_t) * 1000

        time.sleep(3)
        results["idle_rss_after_mib"] = rss_mib(serve.pid)
    finally:
        for proc in (serve, bare):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    results["load_avg"] = os.getloadavg()
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


if __name__ == "__main__":
    main()
