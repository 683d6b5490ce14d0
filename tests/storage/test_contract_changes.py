"""Contract: `changed_sessions` finds every created, written or updated session in one call."""

from __future__ import annotations

import pytest

from agentlog.errors import InvalidCursor
from agentlog.model import EventType, SessionStatus, SessionUpdate
from agentlog.storage.base import CHANGE_MARGIN_US, change_since, change_token


def test_without_a_token_answers_only_the_token(store, make):
    store.write(sessions=[make.session(title="old")])
    first = store.changed_sessions()
    assert first.sessions == []
    assert first.more is False
    assert change_since(first.token) > 0


def test_new_sessions_events_and_updates_are_changes(store, make):
    quiet = make.session(title="quiet")
    busy = make.session(title="busy")
    store.write(sessions=[quiet, busy])
    token = store.changed_sessions().token

    # An event stamped long ago (a late-stored, timed tool call) still counts as a change now.
    late = make.event(busy.id, EventType.TOOL_CALL, timestamp=make.at(-3600))
    fresh = make.session(title="fresh")
    store.write(sessions=[fresh], events=[late])
    changes = store.changed_sessions(token)
    by_id = {s.id: s for s in changes.sessions}
    assert {busy.id, fresh.id} <= set(by_id)
    assert by_id[busy.id].event_count == 1
    assert change_since(changes.token) >= change_since(token)

    store.update_session(quiet.id, SessionUpdate(status=SessionStatus.COMPLETED))
    after_update = store.changed_sessions(changes.token)
    assert quiet.id in {s.id for s in after_update.sessions}
    assert next(s for s in after_update.sessions if s.id == quiet.id).status == "completed"


def test_a_session_unchanged_past_the_margin_is_not_repeated(store, make):
    s = make.session(title="once")
    store.write(sessions=[s])
    token = store.changed_sessions().token
    later = change_token(change_since(token) + CHANGE_MARGIN_US + 1)
    assert store.changed_sessions(later).sessions == []


def test_more_than_the_limit_says_more(store, make):
    token = store.changed_sessions().token
    store.write(sessions=[make.session(title=f"s{i}") for i in range(5)])
    changes = store.changed_sessions(token, limit=3)
    assert len(changes.sessions) == 3
    assert changes.more is True


def test_a_scoped_view_sees_only_its_teams_changes(store, make):
    a, b = store.scoped("team-a"), store.scoped("team-b")
    token = a.changed_sessions().token
    b.write(sessions=[make.session(title="theirs")])
    mine = make.session(title="mine")
    a.write(sessions=[mine])
    assert [s.id for s in a.changed_sessions(token).sessions] == [mine.id]


def test_a_bad_token_is_a_clear_error(store):
    with pytest.raises(InvalidCursor, match="changes token"):
        store.changed_sessions("nonsense")
