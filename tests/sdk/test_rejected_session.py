"""A session record the store rejects (a 207 naming `sessions[i]`) is one dropped record, not an event."""

from __future__ import annotations

from collections.abc import Sequence

from agentlog.model import BatchError, Event, Session, WriteResult
from tests.sdk.fakes import FakeStore


class RejectsSessions(FakeStore):
    """Stores the events and rejects every session record, as a server with stricter limits would."""

    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        result = super().write([], events)
        rejected = [
            BatchError(index=i, id=s.id, error="title: too long", kind="session")
            for i, s in enumerate(sessions)
        ]
        return result.model_copy(update={"errors": [*rejected, *result.errors]})


def test_a_rejected_session_counts_as_dropped_and_its_events_as_written(make_log, caplog):
    store = RejectsSessions()
    log = make_log(store=store, flush_interval=30)
    s = log.session("strict")
    for i in range(5):
        s.log(f"ok {i}")
    assert log.flush(10) is True
    assert len(store.events) == 5
    assert (log.written, log.lost, log.dropped) == (5, 0, 1)
    assert "the store rejected a session: title: too long" in caplog.text
