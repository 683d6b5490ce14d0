"""What one idle refresh of the TUI's live sessions list costs, over `agentlog serve`.

Before: one `GET /v1/sessions/{id}` per visible row (34 rows at 120x40), so an
idle TUI made ~17 requests/s. Now: one `GET /v1/sessions:changes` per refresh.
Figures are requests and time per refresh through a RemoteStore over an
in-process server holding SESSIONS sessions; the ceiling beside them is the
cheapest possible request (one `get_session`) timed in the same run.

    .venv/bin/python bench/bench_tui_live.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from agentlog.model import Event, EventType, Session
from agentlog.server.testing import start_test_server
from agentlog.storage.base import CHANGE_MARGIN_US, SessionQuery
from agentlog.storage.remote import RemoteStore

SESSIONS = 2_000
VISIBLE = 34  # rows of the sessions table at 120x40
ROUNDS = 30


def timed(fn, rounds: int = ROUNDS) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "server"
        folder.mkdir(mode=0o700)
        server = start_test_server(folder, rate_limit_per_minute=0)
        requests = 0

        def count(_request: object) -> None:
            nonlocal requests
            requests += 1

        server.client.event_hooks["request"].append(count)
        store = RemoteStore(
            "http://testserver", api_key=server.admin_key.secret, client=server.client
        )
        sessions = [Session(title=f"run {i}") for i in range(SESSIONS)]
        for start in range(0, SESSIONS, 500):
            part = sessions[start : start + 500]
            store.write(
                sessions=part,
                events=[Event(session_id=s.id, type=EventType.LOG, content="x") for s in part],
            )
        visible = [s.id for s in store.list_sessions(SessionQuery(limit=VISIBLE)).items]
        # Idle means nothing written lately: past the margin a token re-reads (5 s).
        time.sleep(CHANGE_MARGIN_US / 1e6 + 0.5)
        token = store.changed_sessions().token

        def per_row() -> None:  # the old poll
            for sid in visible:
                store.get_session(sid)

        def changes() -> None:  # the new poll
            store.changed_sessions(token)

        def ceiling() -> None:
            store.get_session(visible[0])

        requests = 0
        per_row()
        old_requests = requests
        requests = 0
        changes()
        new_requests = requests
        old_ms, new_ms, ceiling_ms = timed(per_row), timed(changes), timed(ceiling)
        server.close()
    print(
        f"idle refresh of the sessions list over HTTP, {SESSIONS:,} sessions, {VISIBLE} rows shown"
    )
    print(f"  before (get_session per row): {old_requests} requests, {old_ms:.1f} ms")
    print(f"  now (changed_sessions):       {new_requests} request,  {new_ms:.1f} ms")
    print(f"  ceiling (one get_session):    1 request,  {ceiling_ms:.1f} ms")
    print(f"  now / ceiling: {new_ms / ceiling_ms:.2f}x; before / now: {old_ms / new_ms:.1f}x")


if __name__ == "__main__":
    main()
