"""Requests against a server whose Redis is hung (accepts, never answers) vs. the same server without Redis.

Run: .venv/bin/python bench/bench_redis_hang.py [--requests 200]

The ceiling is the same in-process app with no Redis configured (in-process
limits and fan-out). With a hung Redis, the first request pays one command
timeout (`serve.redis_timeout_seconds`, 0.25 s); the circuit then opens and
every later request should cost what the ceiling costs. Before the breaker,
every request paid the 2 s socket timeout (plus redis-py's retries).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog.server.testing import start_test_server


def hung_redis() -> tuple[socket.socket, list[socket.socket]]:
    sock = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(sock.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return sock, held


def run(requests: int, redis_url: str) -> tuple[float, float]:
    """(first request seconds, median of the rest in ms)."""
    with tempfile.TemporaryDirectory() as tmp:
        srv = start_test_server(Path(tmp), redis_url=redis_url)
        try:
            h = {"Authorization": f"Bearer {srv.admin_key.secret}"}
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                assert srv.client.get("/v1/sessions", headers=h).status_code == 200
                times.append(time.perf_counter() - t0)
        finally:
            srv.close()
    return times[0], statistics.median(times[1:]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    start_test_server(Path(tempfile.mkdtemp())).close()  # warm the template database
    base_first, base = run(args.requests, "")
    sock, _held = hung_redis()
    url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    hung_first, hung = run(args.requests, url)
    sock.close()
    print(f"ceiling (no Redis): first {base_first * 1000:.1f} ms, median {base:.2f} ms")
    print(f"hung Redis:         first {hung_first * 1000:.1f} ms, median {hung:.2f} ms")
    print(f"ratio of medians:   {hung / base:.2f}x")


if __name__ == "__main__":
    main()
