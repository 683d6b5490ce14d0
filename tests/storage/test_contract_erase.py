"""Contract: a user's sessions can be erased or handed to their team (GDPR), and nobody else's move."""

from __future__ import annotations

import pytest

from agentlog.errors import NotFound
from agentlog.storage.base import EventQuery, SessionQuery, erases_users


@pytest.fixture
def erasing(store):
    if erases_users(store) is None:
        pytest.skip(
            f"{type(store).__name__} does not erase users itself: the server's "
            "POST /v1/users/{id}:erase does (tests/server/test_erase_and_retention.py)"
        )
    return store


def _written(store, team, user, make, n=2):
    view = store.scoped(team, user)
    s = make.session(title=f"{user} run")
    view.write(sessions=[s], events=make.events(s.id, n))
    return s.id


def test_deleting_a_users_sessions_takes_their_events_and_nothing_else(erasing, make):
    mine = [_written(erasing, "team-a", "ana", make) for _ in range(2)]
    theirs = _written(erasing, "team-a", "bob", make)
    assert erasing.scoped("team-a").erase_user_sessions("ana") == 2
    team = erasing.scoped("team-a")
    for sid in mine:
        with pytest.raises(NotFound):
            team.get_session(sid)
    assert [s.id for s in team.list_sessions(SessionQuery()).items] == [theirs]
    assert team.count_events(EventQuery()) == 2
    assert erasing.scoped("team-a").erase_user_sessions("ana") == 0


def test_transferring_keeps_the_sessions_for_the_team_without_a_creator(erasing, make):
    sid = _written(erasing, "team-a", "ana", make, n=3)
    assert erasing.scoped("team-a").get_session(sid).created_by == "ana"
    assert erasing.scoped("team-a").erase_user_sessions("ana", transfer=True) == 1
    got = erasing.scoped("team-a").get_session(sid)
    assert got.created_by is None and got.event_count == 3
    assert erasing.scoped("team-a").erase_user_sessions("ana") == 0  # nothing of hers is left


def test_a_team_view_erases_only_in_its_team(erasing, make):
    here = _written(erasing, "team-a", "ana", make)
    there = _written(erasing, "team-b", "ana", make)  # ana moved teams
    assert erasing.scoped("team-a").erase_user_sessions("ana") == 1
    assert erasing.scoped("team-b").get_session(there).event_count == 2
    with pytest.raises(NotFound):
        erasing.scoped("team-a").get_session(here)
    # An unscoped view (the server owner's) reaches every team.
    assert erasing.erase_user_sessions("ana") == 1
    with pytest.raises(NotFound):
        erasing.scoped("team-b").get_session(there)
