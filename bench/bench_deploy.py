"""The deployed server: HTTP batch ingest into PostgreSQL with 2 workers vs raw COPY of the same rows, same run.

    AGENTLOG_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
    AGENTLOG_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/bench_deploy.py [--events 100000] [--clients 4]

- server: the container's entry command (`agentlog serve --host 0.0.0.0`,
  read from deploy/Dockerfile) with the compose file's environment
  (AGENTLOG_SERVE_WORKERS=2, Redis, access log on), in a fresh schema;
  `--clients` threads POST /v1/events:batch with 1,000-event bodies (each
  session's first batch carries the session) until every batch is
  acknowledged and one search has brought the full-text index up to date.
- ceiling: `bench_postgres.raw_ingest` on the same events: psycopg COPY in
  1,000-row transactions into the same table and indexes, then the same
  tsvector/GIN; the faster of one run before and one after the server's
  (the shared machine's load drifts).

Bounded: N events, one server, schemas dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "deploy"))

from deploy_files import compose, dockerfile, env_instructions, exec_form, interpolate  # noqa: E402

from agentlog.model import Event, Session  # noqa: E402
from agentlog.storage.postgres.testing import drop_schema, new_schema_url  # noqa: E402
from bench.bench_postgres import raw_ingest  # noqa: E402
from bench.bench_server import free_port, wait_ready  # noqa: E402
from bench.ceiling import make_events  # noqa: E402

# bench.ceiling builds events with plain-string statuses; pydantic warns when dumping them.
warnings.filterwarnings("ignore", message="Pydantic serializer warnings")
SESSIONS = 10
BATCH = 1000
ADMIN, PASSWORD = "bench@example.com", "Tangerine-Harbor-42-Quill"  # passes the password policy


def server_env(db: str, redis: str, home: Path, port: int) -> dict[str, str]:
    _, stages = dockerfile()
    dot_env = {
        "POSTGRES_PASSWORD": "x",
        "AGENTLOG_SERVE_JWT_SECRET": uuid.uuid4().hex * 2,
        "AGENTLOG_ADMIN_EMAIL": ADMIN,
        "AGENTLOG_ADMIN_PASSWORD": PASSWORD,
        "AGENTLOG_SERVE_LOGIN_LIMIT_PER_MINUTE": "1000",
    }
    service = {
        k: interpolate(str(v), dot_env)
        for k, v in compose()["services"]["agentlog"]["environment"].items()
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTLOG_")}
    env |= env_instructions(stages[-1]) | service
    env |= {
        "AGENTLOG_DB": db,
        "AGENTLOG_SERVE_REDIS_URL": redis,
        "AGENTLOG_HOME": str(home),
        "AGENTLOG_SERVE_PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env


def bodies(sessions: list[Session], events: list[Event]) -> list[bytes]:
    out: list[bytes] = []
    by_session: dict[str, list[Event]] = {}
    for e in events:
        by_session.setdefault(e.session_id, []).append(e)
    for session in sessions:
        mine = by_session[session.id]
        for lo in range(0, len(mine), BATCH):
            doc: dict[str, object] = {"events": [e.to_json_dict() for e in mine[lo : lo + BATCH]]}
            if lo == 0:
                doc["sessions"] = [session.to_json_dict()]
            out.append(orjson.dumps(doc))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    redis = os.environ.get("AGENTLOG_TEST_REDIS_URL", "")
    if not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"):
        sys.exit("set AGENTLOG_TEST_POSTGRES_URL (and AGENTLOG_TEST_REDIS_URL)")
    n = args.events
    sessions = [Session(title=f"bench {k}") for k in range(SESSIONS)]
    events = [e for k, s in enumerate(sessions) for e in make_events(n // SESSIONS, s.id, seed=k)]
    n = len(events)
    payload = bodies(sessions, events)
    print(
        f"{n:,} events in {len(payload)} bodies of {BATCH:,} ({sum(map(len, payload)) / 2**20:,.0f} MiB)"
    )

    raw_before = raw_ingest(events)
    url, schema = new_schema_url("bench_deploy")
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix="agentlog-bench-deploy-"))
    env = server_env(url, redis, home, port)
    _, stages = dockerfile()
    argv = exec_form(stages[-1].last("ENTRYPOINT") or "[]") + exec_form(
        stages[-1].last("CMD") or "[]"
    )
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / argv[0]), *argv[1:]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc, "/readyz")
        token = httpx.post(
            f"{base}/v1/auth/login", json={"email": ADMIN, "password": PASSWORD}
        ).json()["access_token"]
        key = httpx.post(
            f"{base}/v1/api-keys",
            json={"label": "bench"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["secret"]
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        # First bodies carry the sessions: send those first so no batch waits on a peer's session.
        firsts = [b for b in payload if b'"sessions"' in b]
        rest = [b for b in payload if b'"sessions"' not in b]

        def post(body: bytes, client: httpx.Client) -> None:
            answer = client.post("/v1/events:batch", content=body, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.status_code}: {answer.text[:300]}")

        clients = [httpx.Client(base_url=base, timeout=120) for _ in range(args.clients)]
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            for group in (firsts, rest):
                list(
                    pool.map(
                        lambda ib: post(ib[1], clients[ib[0] % len(clients)]), enumerate(group)
                    )
                )
        acked_s = time.perf_counter() - start
        found = clients[0].get(
            "/v1/events/search", params={"q": "request", "limit": 10}, headers=headers
        )
        assert found.status_code == 200 and found.json()["items"], found.text[:200]
        server_s = time.perf_counter() - start
        for c in clients:
            c.close()
        info = httpx.get(f"{base}/v1/info", headers=headers).json()
        assert info["events"] == n, info
    finally:
        proc.terminate()
        proc.wait(30)
        drop_schema(schema)
    raw_after = raw_ingest(events)
    raw_s = min(raw_before, raw_after)
    print(
        f"HTTP ingest, 2 workers, {args.clients} clients, until durable and searchable: "
        f"{n / server_s:,.0f} events/s ({server_s:.1f} s; all acknowledged after {acked_s:.1f} s)"
        f" vs raw COPY + tsvector {n / raw_s:,.0f} events/s (best of {raw_before:.1f} s before"
        f" and {raw_after:.1f} s after): {raw_s / server_s:.0%} of the ceiling"
    )


if __name__ == "__main__":
    main()
