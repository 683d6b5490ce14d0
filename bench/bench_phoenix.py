"""AgentLog beside Arize Phoenix on the same OTLP spans: ingest until readable, spans lost, first page, bytes.

Phoenix is a peer, never a dependency: it runs from its own virtual environment, made once from
`bench/requirements-peers.txt`:

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -r bench/requirements-peers.txt
    .venv/bin/python bench/bench_phoenix.py --phoenix /tmp/peers/bin/phoenix [--spans 20000]

(or set AGENTLOG_PEER_PHOENIX to that `phoenix` executable; `python -m bench` runs this script
only then). Both sides run as their own server process on this machine over a SQLite file:
`agentlog serve` (POST /v1/traces with an API key) and `phoenix serve` (its OTLP/HTTP endpoint).
The spans are the same OTLP protobuf bodies (`bench_otel.make_bodies`: GenAI `chat` spans, ten
per trace, 500 per request), sent the same way by the same client: 4 concurrent senders (`--senders`) that
retry a 429/503 after its Retry-After, as OTLP exporters do. For each side:

- spans/s from the first request until every span is readable in the side's own database
  (`events` rows for AgentLog, `spans` rows for Phoenix), with a 120 s limit;
- spans lost: sent and answered 2xx, but not in the database 10 s after the last answer;
- first-page query time (median of 20): the newest 100 through each side's HTTP API
  (`GET /v1/events?limit=100` / `GET /v1/projects/default/spans?limit=100`);
- start-up time, idle and peak RSS of each server;
- database bytes after a WAL checkpoint, per span.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_otel import BATCH, make_bodies
from bench_server import free_port, rss_mib, start, wait_ready

READABLE_LIMIT_S = 120.0
SETTLE_S = 10.0


@dataclass
class Side:
    """One server under test: where to send spans, how to count them, how to read a page."""

    name: str
    proc: subprocess.Popen
    traces_url: str
    page_url: str
    headers: dict[str, str]
    db: Path
    count_sql: str
    startup_s: float = 0.0  # from launching the process until it answers its health check


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stored(side: Side) -> int:
    """How many spans the side's database holds now (0 while its schema is not there yet)."""
    try:
        conn = sqlite3.connect(f"file:{side.db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute(side.count_sql).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def send(side: Side, bodies: list[bytes], senders: int) -> tuple[list[bool], int]:
    """POST every body from `senders` threads; (which were answered 2xx, retries after 429/503)."""
    retries = 0
    headers = {**side.headers, "Content-Type": "application/x-protobuf"}

    def post(body: bytes) -> bool:
        nonlocal retries
        with httpx.Client(timeout=60) as client:
            for _ in range(50):
                r = client.post(side.traces_url, content=body, headers=headers)
                if r.status_code in (429, 503):
                    retries += 1
                    time.sleep(float(r.headers.get("Retry-After", "1")))
                    continue
                return 200 <= r.status_code < 300
        return False

    with ThreadPoolExecutor(senders) as pool:
        ok = list(pool.map(post, bodies))
    return ok, retries


def measure(side: Side, bodies: list[bytes], spans: int, senders: int) -> dict[str, float]:
    """Send, wait until readable, then time the first page; the figures of one side."""
    time.sleep(2.0)  # settle after start-up before the idle figure
    idle_rss = rss_mib(side.proc.pid)
    started = time.perf_counter()
    ok, retries = send(side, bodies, senders)
    answered = time.perf_counter()
    sizes = [min(BATCH, spans - i) for i in range(0, spans, BATCH)]
    acknowledged = sum(n for n, good in zip(sizes, ok, strict=True) if good)
    deadline = started + READABLE_LIMIT_S
    while stored(side) < spans and time.perf_counter() < deadline:
        time.sleep(0.05)
    readable = time.perf_counter()
    complete = stored(side) >= spans
    if not complete:
        time.sleep(SETTLE_S)
    have = stored(side)
    with httpx.Client(timeout=30, headers=side.headers) as client:
        client.get(side.page_url).raise_for_status()
        times = []
        for _ in range(20):
            t = time.perf_counter()
            client.get(side.page_url).raise_for_status()
            times.append(time.perf_counter() - t)
    return {
        "acknowledged": acknowledged,
        "retries": retries,
        "send_s": answered - started,
        "readable_s": readable - started if complete else float("nan"),
        "spans_per_s": spans / (readable - started) if complete else have / (readable - started),
        "lost": max(0, acknowledged - have),
        "first_page_ms": statistics.median(times) * 1000,
        "peak_rss_mib": peak_rss_mib(side.proc.pid),
        "idle_rss_mib": idle_rss,
        "startup_s": side.startup_s,
    }


def db_bytes(db: Path) -> int:
    """The database file after folding its write-ahead log in."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db.stat().st_size + sum(
        p.stat().st_size for p in db.parent.glob(db.name + "-wal") if p.exists()
    )


def agentlog_side(tmp: Path) -> Side:
    """`agentlog serve` on a fresh SQLite file, with an admin's API key."""
    home = tmp / "agentlog-home"
    env = {**os.environ, "AGENTLOG_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    agentlog = str(Path(sys.executable).parent / "agentlog")
    db = tmp / "agentlog.db"
    run = {"env": env, "check": True, "capture_output": True}
    subprocess.run(
        [agentlog, "admin", "create-user", "bench@example.com", "--admin", "--db", str(db)], **run
    )
    made = subprocess.run(
        [agentlog, "admin", "keys", "create", "--label", "bench", "--json", "--db", str(db)], **run
    )
    key = orjson.loads(made.stdout)["secret"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    launched = time.perf_counter()
    proc = start([agentlog, "serve", "--port", str(port), "--db", str(db)], env)
    wait_ready(url, proc)
    startup = time.perf_counter() - launched
    return Side(
        "AgentLog",
        proc,
        f"{url}/v1/traces",
        f"{url}/v1/events?limit=100",
        {"Authorization": f"Bearer {key}"},
        db,
        "SELECT count(*) FROM events",
        startup,
    )


def phoenix_side(tmp: Path, phoenix: str) -> Side:
    """`phoenix serve` with its working directory (and SQLite file) in `tmp`."""
    work = tmp / "phoenix"
    work.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": str(work),
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    launched = time.perf_counter()
    proc = start([phoenix, "serve"], env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, proc, "/healthz")
    startup = time.perf_counter() - launched
    return Side(
        "Phoenix",
        proc,
        f"{url}/v1/traces",
        f"{url}/v1/projects/default/spans?limit=100",
        {},
        work / "phoenix.db",
        "SELECT count(*) FROM spans",
        startup,
    )


def sdk_leg(side: Side, n: int, tmp: Path) -> dict[str, float]:
    """The same number of model calls through AgentLog's own SDK to the same server."""
    from agentlog import AgentLog

    key = side.headers["Authorization"].removeprefix("Bearer ")
    url = side.traces_url.removesuffix("/v1/traces")
    log = AgentLog(server=url, api_key=key, spool=tmp / "spool.db")
    prompt = "what is the weather in Paris " * 4
    started = time.perf_counter()
    with log.session("sdk leg", agent_id="bench") as s:
        for _ in range(n):
            s.llm_call("gpt-4o", prompt=prompt, response="sunny", input_tokens=42, duration_ms=5)
    enqueued = time.perf_counter() - started
    durable = log.flush(600)
    took = time.perf_counter() - started
    log.close()
    return {"events_per_s": n / took, "enqueue_per_s": n / enqueued, "durable": float(durable)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spans", type=int, default=20_000)
    ap.add_argument("--senders", type=int, default=4, help="concurrent OTLP senders")
    ap.add_argument("--phoenix", default=os.environ.get("AGENTLOG_PEER_PHOENIX", ""))
    args = ap.parse_args()
    if not args.phoenix or not Path(args.phoenix).exists():
        sys.exit(
            "no Phoenix to compare with: make a venv from bench/requirements-peers.txt and pass "
            "its bin/phoenix as --phoenix (or AGENTLOG_PEER_PHOENIX)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="agentlog-bench-phoenix-"))
    bodies = make_bodies(args.spans, "p")
    results: dict[str, dict[str, float]] = {}
    for make in (agentlog_side, lambda t: phoenix_side(t, args.phoenix)):
        side = make(tmp)
        try:
            results[side.name] = measure(side, bodies, args.spans, args.senders)
            if side.name == "AgentLog":
                results["sdk"] = sdk_leg(side, args.spans, tmp)
        finally:
            side.proc.terminate()
            try:
                side.proc.wait(30)
            except subprocess.TimeoutExpired:
                side.proc.kill()
        results[side.name]["db_bytes"] = db_bytes(side.db)
        results[side.name]["bytes_per_span"] = results[side.name]["db_bytes"] / max(1, stored(side))
    a, p = results["AgentLog"], results["Phoenix"]
    print(
        f"spans: {args.spans:,} GenAI chat spans, {len(bodies)} OTLP protobuf requests, "
        f"{args.senders} senders"
    )
    rows = [
        ("spans/s until readable", "spans_per_s", "{:,.0f}"),
        ("seconds until every answer", "send_s", "{:.1f}"),
        ("spans acknowledged (answered 2xx)", "acknowledged", "{:,.0f}"),
        ("acknowledged, not stored 130 s after the first request", "lost", "{:.0f}"),
        ("429/503 answers retried", "retries", "{:.0f}"),
        ("first page of 100 over HTTP, median ms", "first_page_ms", "{:.1f}"),
        ("start-up until the health check answers, s", "startup_s", "{:.1f}"),
        ("server idle RSS after start-up, MiB", "idle_rss_mib", "{:.0f}"),
        ("server peak RSS, MiB", "peak_rss_mib", "{:.0f}"),
        ("database bytes (WAL folded in)", "db_bytes", "{:,.0f}"),
        ("database bytes per stored span", "bytes_per_span", "{:,.0f}"),
    ]
    print(f"{'figure':<56} {'AgentLog':>12} {'Phoenix':>12}")
    for label, key, fmt in rows:
        print(f"{label:<56} {fmt.format(a[key]):>12} {fmt.format(p[key]):>12}")
    sdk = results["sdk"]
    print(
        f"AgentLog SDK -> the same server, {args.spans:,} model calls until acknowledged: "
        f"{sdk['events_per_s']:,.0f} events/s (durable: {bool(sdk['durable'])}; "
        f"{sdk['events_per_s'] / p['spans_per_s']:.1f}× Phoenix's spans/s)"
    )
    print(f"ingest: AgentLog at {a['spans_per_s'] / p['spans_per_s']:.2f}× Phoenix's spans/s")
    print(f"first page: AgentLog at {a['first_page_ms'] / p['first_page_ms']:.2f}× Phoenix's time")
    print(
        f"database bytes per stored span: AgentLog at "
        f"{a['bytes_per_span'] / p['bytes_per_span']:.2f}× Phoenix's"
    )


if __name__ == "__main__":
    main()
