"""The web view's server time and page weight: the sessions page and the first page of a
100,000-event timeline, each beside the bare JSON API route for the same data (the ceiling).

    .venv/bin/python bench/bench_web.py [--events 100000] [--runs 60]

Requests go through the whole ASGI app in-process (Starlette's TestClient: routing, auth,
the store, rendering), so the figure is server time without a network. Weight is the
HTML plus every asset the page loads (stylesheet; htmx only on a live page).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.testclient import TestClient

from agentlog.model import Session, SessionStatus
from agentlog.server import service
from agentlog.server.testing import BASE_URL, start_test_server
from agentlog.storage.accounts import Role
from bench.ceiling import make_events

PASSWORD = "a long passphrase of my own 42"


def timed(get, runs: int) -> tuple[float, float, int]:
    samples, size = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        r = get()
        samples.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text[:300]
        size = len(r.content)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-web-"))
    srv = start_test_server(tmp, rate_limit_per_minute=0)
    team = srv.accounts.team_by_name("main")
    user = service.create_user(
        srv.accounts, "bench@example.com", password=PASSWORD, role=Role.MEMBER, team=team
    ).user
    key = service.create_key(srv.accounts, user, team, "bench").secret
    store = srv.app.state.agentlog.store.scoped(team.id, user.id)
    big = Session(title="100k timeline", status=SessionStatus.COMPLETED)
    store.write(sessions=[big])
    events = make_events(args.events, big.id, seed=1)
    for i in range(0, len(events), 5000):
        store.write(events=events[i : i + 5000])
    others = [Session(title=f"run {i}") for i in range(args.sessions)]
    store.write(sessions=others)
    for s in others:
        store.write(events=make_events(5, s.id, seed=2))

    browser = TestClient(srv.app, base_url=BASE_URL)
    form = browser.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    r = browser.post(
        "/login", data={"csrf": csrf, "email": "bench@example.com", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text[:300]
    api = {"Authorization": f"Bearer {key}"}
    css = len(browser.get("/static/style.css").content)
    htmx = len(browser.get("/static/htmx.min.js").content) + len(
        browser.get("/static/htmx-ext-sse.min.js").content
    )
    rows = [
        (
            "sessions page (first 50)",
            lambda: browser.get("/sessions"),
            "GET /v1/sessions?limit=50",
            lambda: srv.client.get("/v1/sessions", params={"limit": 50}, headers=api),
        ),
        (
            f"timeline first page ({args.events:,}-event session, 100 events)",
            lambda: browser.get(f"/s/{big.id}"),
            "GET /v1/events?session_id=…&limit=100",
            lambda: srv.client.get(
                "/v1/events", params={"session_id": big.id, "limit": 100}, headers=api
            ),
        ),
    ]
    print("| page | p50 | p95 | ceiling p95 (same run) | ratio | page + assets |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, page, ceiling_name, ceiling in rows:
        timed(page, 5)
        timed(ceiling, 5)
        p50, p95, size = timed(page, args.runs)
        _c50, c95, _csize = timed(ceiling, args.runs)
        weight = (size + css) / 1024
        print(
            f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {ceiling_name} {c95:.1f} ms | "
            f"{p95 / c95:.1f}× | {weight:.0f} KB (HTML {size / 1024:.0f} + CSS {css / 1024:.1f}) |"
        )
    print(f"\nhtmx + SSE extension (loaded only by a live session's page): {htmx / 1024:.0f} KB")
    srv.close()


if __name__ == "__main__":
    main()
