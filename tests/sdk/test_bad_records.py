"""One bad record never costs its neighbours: the text rule and the writer's per-record fallback."""

from __future__ import annotations

import json
from collections.abc import Sequence

from agentlog.model import Event, Session, WriteResult
from tests.sdk.fakes import FakeStore

LONE = json.loads('"\\ud800"')
ESCAPED = b"caf\xe9".decode("utf-8", "surrogateescape")


def test_lone_surrogates_are_stored_as_replacement_characters(make_log, tmp_path):
    log = make_log(db=tmp_path / "a.db")
    with log.session("surrogates") as s:
        s.log("good 1")
        s.log(LONE)
        s.log("good 2")
        s.log(ESCAPED, metadata={"k" + LONE: ["v" + LONE]})
        s.llm_call(model="m" + LONE, prompt={"p": LONE}, response="r")
        sid = s.id
    assert log.flush(10)
    assert (log.written, log.lost, log.dropped) == (5, 0, 0)
    from agentlog.storage import EventQuery, open_store

    with open_store(str(tmp_path / "a.db")) as store:
        events = store.list_events(EventQuery(session_id=sid)).items
    texts = [e.content for e in events]
    assert texts[:3] == ["good 1", "\ufffd", "good 2"]
    assert texts[3] == "caf\ufffd"
    assert events[3].metadata == {"k\ufffd": ["v\ufffd"]}


class PoisonStore(FakeStore):
    """Refuses any batch holding an event whose content is "poison", as a driver would."""

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        if any(e.content == "poison" for e in events):
            self.calls += 1
            raise UnicodeEncodeError("utf-8", "poison", 0, 1, "surrogates not allowed")
        return super().write(sessions, events)


def test_a_record_the_store_refuses_is_dropped_alone(make_log):
    store = PoisonStore()
    log = make_log(store=store, flush_interval=30)
    s = log.session("neighbours")
    for i in range(40):
        s.log("poison" if i in (7, 31) else f"ok {i}")
    assert log.flush(10) is True
    assert sorted(e.content for e in store.events.values()) == sorted(
        f"ok {i}" for i in range(40) if i not in (7, 31)
    )
    assert s.id in store.sessions
    assert (log.written, log.lost, log.dropped) == (38, 0, 2)


def test_an_unreachable_store_is_not_split_record_by_record(make_log):
    store = FakeStore(fail=100)
    log = make_log(store=store, flush_interval=30)
    s = log.session("down")
    for i in range(50):
        s.log(f"line {i}")
    log.flush(30)
    assert store.calls < 10  # retries, not one attempt per record
    assert log.lost == 51


def test_an_unknown_keyword_is_ignored_with_one_warning(make_log, fake, caplog):
    log = make_log(store=fake)
    s = log.session("kwargs")
    s.event("LOG", "kept", bogus=1)
    s.log("also kept", bogus=2, other=3)
    s.llm_call(model="m", temprature=0.2)
    with s.tool_call("search", {"q": 1}, timeout=5) as call:
        call.result("hit")
    assert log.flush(10)
    contents = sorted(e.content or "" for e in fake.events.values())
    assert "kept" in contents and "also kept" in contents and "hit" in contents
    assert len(fake.events) == 5
    warnings = [r.getMessage() for r in caplog.records if "unknown keyword" in r.getMessage()]
    assert any("event() ignored unknown keyword(s) bogus;" in w for w in warnings)
    assert any("bogus, other" in w for w in warnings)
    assert any("tool_call() ignored unknown keyword(s) timeout" in w for w in warnings)


def test_the_sdk_names_a_server_without_a_scheme_and_does_not_send_there(
    make_log, tmp_path, monkeypatch, caplog
):
    monkeypatch.chdir(tmp_path)
    log = make_log(server="127.0.0.1:8250")
    assert not log.url.startswith("127.0.0.1")
    assert any(
        "which has no scheme; use http://127.0.0.1:8250" in r.getMessage() for r in caplog.records
    )
    assert not (tmp_path / "127.0.0.1:8250").exists()
