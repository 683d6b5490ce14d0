"""`GET /v1/events/stream` over a real uvicorn: live events, per-session filter, Last-Event-ID replay, Redis fan-out."""

from __future__ import annotations

import os
import queue
import threading

import httpx
import orjson
import pytest

from agentlog.model import Event
from agentlog.server.testing import LiveServer, start_test_server
from tests.support.server import make_session


def _listen(url: str, headers: dict[str, str], out: queue.Queue, stop: threading.Event) -> None:
    try:
        _read(url, headers, out, stop)
    except httpx.HTTPError:
        pass  # the server shut down under us at the end of the test


def _read(url: str, headers: dict[str, str], out: queue.Queue, stop: threading.Event) -> None:
    with (
        httpx.Client(timeout=httpx.Timeout(20, read=20)) as client,
        client.stream("GET", url, headers=headers) as r,
    ):
        out.put(("status", r.status_code))
        event_id = None
        for line in r.iter_lines():
            if stop.is_set():
                return
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: ") and event_id:
                out.put(("event", orjson.loads(line[6:])))
                event_id = None


def _collect(out: queue.Queue, n: int, timeout: float = 10) -> list[dict]:
    got = []
    while len(got) < n:
        kind, value = out.get(timeout=timeout)
        if kind == "event":
            got.append(value)
    return got


def _start(url, headers):
    out: queue.Queue = queue.Queue()
    stop = threading.Event()
    t = threading.Thread(target=_listen, args=(url, headers, out, stop), daemon=True)
    t.start()
    assert out.get(timeout=10) == ("status", 200)
    return out, stop


def test_stream_delivers_new_events_of_one_session(world):
    sid = make_session(world, world.member, events=0)
    other = make_session(world, world.member, "noise", events=0)
    with LiveServer(world.srv.app) as live:
        out, stop = _start(f"{live.url}/v1/events/stream?session_id={sid}", world.member.h)
        remote = world.srv.remote_store(world.member.key)
        remote.write(events=[Event(session_id=other, type="LOG", content="elsewhere")])
        sent = [Event(session_id=sid, type="LOG", content=f"live {i}") for i in range(3)]
        remote.write(events=sent)
        got = _collect(out, 3)
        stop.set()
        assert [e["id"] for e in got] == [e.id for e in sent]
        assert got[0]["content"] == "live 0"


def test_stream_replays_after_last_event_id(world):
    sid = make_session(world, world.member, events=5)
    ids = [
        e["id"]
        for e in world.client.get(f"/v1/sessions/{sid}/events", headers=world.member.h).json()[
            "items"
        ]
    ]
    with LiveServer(world.srv.app) as live:
        out, stop = _start(
            f"{live.url}/v1/events/stream?session_id={sid}",
            {**world.member.h, "Last-Event-ID": ids[1]},
        )
        got = _collect(out, 3)
        stop.set()
        assert [e["id"] for e in got] == ids[2:]


def test_team_wide_stream_never_shows_other_teams(world):
    with LiveServer(world.srv.app) as live:
        out, stop = _start(f"{live.url}/v1/events/stream", world.other.h)
        make_session(world, world.member, "private", events=2)
        theirs = make_session(world, world.other, "theirs", events=1)
        got = _collect(out, 1)
        stop.set()
        assert [e["session_id"] for e in got] == [theirs]
        with pytest.raises(queue.Empty):
            _collect(out, 1, timeout=0.5)


@pytest.mark.redis
def test_redis_fans_out_across_workers(tmp_path):
    url = os.environ.get("AGENTLOG_TEST_REDIS_URL")
    if not url:
        pytest.skip("needs AGENTLOG_TEST_REDIS_URL (a Redis to fan events out across workers)")
    # Two apps over one database stand for two workers; a client on one sees writes through the other.
    a = start_test_server(tmp_path / "w", redis_url=url)
    from agentlog.server.app import create_app
    from agentlog.server.settings import ServerSettings

    b_app = create_app(
        ServerSettings(db=a.app.state.agentlog.settings.db, data_dir=tmp_path / "w", redis_url=url)
    )
    try:
        from starlette.testclient import TestClient

        b = TestClient(b_app)
        h = {"Authorization": f"Bearer {a.admin_key.secret}"}
        with LiveServer(a.app) as live:
            out, stop = _start(f"{live.url}/v1/events/stream", h)
            from agentlog.model import Session

            s = Session(title="via b")
            ev = Event(session_id=s.id, type="LOG", content="through redis")
            r = b.post(
                "/v1/events:batch",
                json={"sessions": [s.to_json_dict()], "events": [ev.to_json_dict()]},
                headers=h,
            )
            assert r.status_code == 200
            got = _collect(out, 1)
            stop.set()
            assert got[0]["id"] == ev.id
    finally:
        from agentlog.server.app import shutdown

        shutdown(b_app)
        a.close()


@pytest.mark.redis
def test_redis_rate_limit_is_shared_by_workers(tmp_path):
    url = os.environ.get("AGENTLOG_TEST_REDIS_URL")
    if not url:
        pytest.skip("needs AGENTLOG_TEST_REDIS_URL (a Redis to share rate limits across workers)")
    from agentlog.server.ratelimit import RedisLimiter

    limiter = RedisLimiter(url)
    bucket = f"test-{os.getpid()}-{id(tmp_path)}"
    assert [limiter.hit(bucket, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    other_worker = RedisLimiter(url)
    assert other_worker.hit(bucket, 3) > 0


def test_a_disabled_persons_open_stream_ends_and_sends_nothing_more(world):
    """A stream checked its caller once, at connection: a person removed (or signed out, or
    a key revoked) while it stayed open kept receiving every new event."""
    import time

    from agentlog.server.recheck import RECHECK_SECONDS

    sid = make_session(world, world.member, events=0)
    with LiveServer(world.srv.app) as live:
        out, stop = _start(f"{live.url}/v1/events/stream?session_id={sid}", world.viewer.h)
        remote = world.srv.remote_store(world.member.key)
        remote.write(events=[Event(session_id=sid, type="LOG", content="before")])
        assert _collect(out, 1)[0]["content"] == "before"
        world.srv.accounts.update_user(world.viewer.user.id, disabled=True)
        # The key cache's time (revocation takes effect within it) and one recheck.
        time.sleep(world.srv.app.state.agentlog.settings.key_cache_seconds + RECHECK_SECONDS + 0.2)
        remote.write(events=[Event(session_id=sid, type="LOG", content="after")])
        seen: list = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                seen.append(out.get(timeout=0.5))
            except queue.Empty:
                continue
        stop.set()
        assert all(v.get("content") != "after" for k, v in seen if k == "event"), seen
