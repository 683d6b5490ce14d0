"""/metrics of `agentlog serve --workers 2` counts every worker's requests, whichever answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.server.testing import free_port

AGENTLOG = str(Path(sys.executable).parent / "agentlog")


def _count(text: str, route: str) -> float:
    pattern = rf'^agentlog_http_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} (\S+)$'
    return sum(float(m[1]) for m in re.finditer(pattern, text, re.M))


@pytest.mark.slow
def test_two_workers_report_the_whole_server(tmp_path):
    db = str(tmp_path / "team.db")
    runner = CliRunner()
    made = runner.invoke(app, ["admin", "create-user", "boss@example.com", "--owner", "--db", db])
    assert made.exit_code == 0, made.output
    made = runner.invoke(app, ["admin", "keys", "create", "--label", "m", "--json", "--db", db])
    assert made.exit_code == 0, made.output
    h = {"Authorization": f"Bearer {orjson.loads(made.stdout)['secret']}"}
    tmp = tmp_path / "tmp"  # where serve makes its private metrics directory
    tmp.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
    theirs = tmp_path / "theirs"  # a directory of the user's own is not used
    theirs.mkdir()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(theirs)
    proc = subprocess.Popen(
        [AGENTLOG, "serve", "--port", str(port), "--db", db, "--workers", "2", "--no-access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        ready = 0
        while ready < 10:  # both workers up: a few answers in a row
            try:
                ok = httpx.get(f"{url}/readyz", timeout=1).status_code == 200
                ready = ready + 1 if ok else 0
            except httpx.TransportError:
                ready = 0
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "agentlog serve did not become ready"
            time.sleep(0.05)
        (shared,) = [p for p in tmp.iterdir() if p.name.startswith("agentlog-metrics-")]
        assert shared.stat().st_mode & 0o777 == 0o700
        n = 40
        for _ in range(n):  # a new connection each: the kernel spreads them over both workers
            assert httpx.get(f"{url}/v1/sessions", headers=h).status_code == 200
        pids = {f.name.split("_")[-1] for f in shared.glob("counter_*.db")}
        assert len(pids) == 2, pids  # both workers answered some
        scrapes = [httpx.get(f"{url}/metrics", headers=h) for _ in range(8)]
        assert all(r.status_code == 200 for r in scrapes), [r.text[:300] for r in scrapes]
        assert [_count(r.text, "/v1/sessions") for r in scrapes] == [float(n)] * 8
        seen = [_count(r.text, "/metrics") for r in scrapes]
        assert seen == sorted(seen) and seen[-1] >= 7  # every earlier scrape, by either worker
        assert "agentlog_stream_clients 0.0" in scrapes[-1].text
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert list(tmp.iterdir()) == []  # the metrics directory went with the server
    assert list(theirs.iterdir()) == []


def test_one_app_keeps_its_own_registry(tmp_path, monkeypatch):
    from agentlog.server.metrics import Metrics

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    a, b = Metrics(), Metrics()
    a.requests.labels("GET", "/x", "200").inc()
    assert a.multiprocess_dir is None
    assert b'route="/x"' in a.render() and b'route="/x"' not in b.render()


def test_a_dead_workers_live_gauges_leave_the_sums(tmp_path):
    from agentlog.server.metrics import _forget_dead_workers

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead, alive = int(gone.stdout), os.getpid()
    for name in (f"gauge_livesum_{dead}.db", f"gauge_livesum_{alive}.db", f"counter_{dead}.db"):
        (tmp_path / name).write_bytes(b"")
    _forget_dead_workers(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{dead}.db",
        f"gauge_livesum_{alive}.db",
    ]


POOLS_IN_TWO_WORKERS = """
import os, sys
from agentlog.server.metrics import Metrics

class Pool:
    closed = False
    def __init__(self, errors): self.errors = errors
    def get_stats(self):
        return {"pool_size": 4, "pool_available": 1, "pool_max": 10, "requests_errors": self.errors}

class Store:
    def __init__(self, errors): self._pool = Pool(errors)

m = Metrics()
m.pools.watch("events", Store(int(sys.argv[1])))
m.pools.publish()
if sys.argv[2] == "scrape":
    sys.stdout.write(m.render().decode())
"""


def test_each_workers_pool_adds_to_the_sums(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def worker(errors: int, then: str) -> str:
        run = [sys.executable, "-c", POOLS_IN_TWO_WORKERS, str(errors), then]
        done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    # The first worker has gone (its live gauges are forgotten, its timeouts stay counted).
    worker(2, "-")
    text = worker(3, "scrape")
    assert 'agentlog_db_pool_in_use{pool="events"} 3.0' in text
    assert 'agentlog_db_pool_max{pool="events"} 10.0' in text
    assert 'agentlog_db_pool_timeouts_total{pool="events"} 5.0' in text
