"""Contract: a team-scoped view sees and writes only its team's sessions and events."""

from __future__ import annotations

import pytest

from agentlog.errors import Conflict, NotFound
from agentlog.model import SessionUpdate, new_id
from agentlog.storage.base import EventQuery, SessionQuery


@pytest.fixture
def teams(store, make):
    a, b = store.scoped("team-a", "alice"), store.scoped("team-b", "bob")
    sa, sb = make.session(title="alpha run"), make.session(title="beta run")
    a.write(sessions=[sa], events=make.events(sa.id, 3, agent_id="pa", content="shared word"))
    b.write(sessions=[sb], events=make.events(sb.id, 2, agent_id="pb", content="shared word"))
    return a, b, sa, sb


def test_writes_are_stamped_with_team_and_user(store, teams):
    a, _, sa, _ = teams
    got = a.get_session(sa.id)
    assert (got.team_id, got.created_by) == ("team-a", "alice")
    assert a.team_id == "team-a" and store.team_id is None


def test_other_team_session_behaves_as_missing(store, teams):
    a, b, sa, _ = teams
    with pytest.raises(NotFound):
        b.get_session(sa.id)
    with pytest.raises(NotFound):
        b.list_events(EventQuery(session_id=sa.id))
    with pytest.raises(NotFound):
        b.update_session(sa.id, SessionUpdate(title="hijack"))
    with pytest.raises(NotFound):
        b.delete_session(sa.id)
    event_id = a.list_events(EventQuery(session_id=sa.id)).items[0].id
    with pytest.raises(NotFound):
        b.get_event(event_id)
    assert a.get_session(sa.id).title == "alpha run"


def test_another_teams_session_id_is_a_new_session_of_ours(teams, make):
    """Ids are per team: writing another team's session id makes our own session, as any new id does."""
    a, b, sa, sb = teams
    result = b.write(events=[make.event(sa.id), make.event(sb.id)])
    assert (result.inserted, result.duplicates, result.errors) == (2, 0, [])
    ours = b.get_session(sa.id)
    assert (ours.team_id, ours.created_by, ours.title, ours.event_count) == ("team-b", "bob", "", 1)
    theirs = a.get_session(sa.id)
    assert (theirs.title, theirs.event_count) == ("alpha run", 3)
    b.write(sessions=[make.session(id=sa.id, title="beta's own")])
    assert b.get_session(sa.id).title == "beta's own"
    assert a.get_session(sa.id).title == "alpha run"
    assert b.update_session(sa.id, SessionUpdate(title="renamed")).title == "renamed"
    assert b.delete_session(sa.id) == 1
    assert a.get_session(sa.id).event_count == 3
    assert len(a.list_events(EventQuery(session_id=sa.id)).items) == 3


def test_another_teams_event_id_is_a_new_event_of_ours(teams, make):
    """An event id another team uses goes into our session; theirs is untouched."""
    a, b, sa, sb = teams
    theirs = a.list_events(EventQuery(session_id=sa.id)).items[0]
    mine = make.event(sb.id, id=theirs.id, content="beta's own words")
    result = b.write(events=[mine])
    assert (result.inserted, result.duplicates) == (1, 0)
    assert b.get_event(theirs.id).content == "beta's own words"
    assert a.get_event(theirs.id).content == theirs.content
    assert b.write(events=[mine]).duplicates == 1
    assert b.get_session(sb.id).event_count == 3
    assert a.get_session(sa.id).event_count == 3


def test_an_unscoped_view_refuses_an_id_several_teams_hold(store, teams, make):
    a, b, sa, _ = teams
    b.write(events=[make.event(sa.id)])
    with pytest.raises(Conflict):
        store.get_session(sa.id)
    result = store.write(events=[make.event(sa.id)])
    assert result.inserted == 0 and "several teams" in result.errors[0].error
    # a team-less session of the same id is then the one an unscoped view means
    store.write(sessions=[make.session(id=sa.id, title="local")])
    assert store.write(events=[make.event(sa.id)]).inserted == 1
    got = store.get_session(sa.id)
    assert (got.team_id, got.title, got.event_count) == (None, "local", 1)
    assert a.get_session(sa.id).event_count == 3


def test_auto_created_sessions_belong_to_the_writer(teams, make):
    a, b, _, _ = teams
    sid = new_id()
    a.write(events=[make.event(sid)])
    assert a.get_session(sid).team_id == "team-a"
    with pytest.raises(NotFound):
        b.get_session(sid)


def test_reads_see_only_the_team(store, teams):
    a, b, sa, _sb = teams
    assert [s.id for s in a.list_sessions(SessionQuery())] == [sa.id]
    assert b.count_sessions(SessionQuery(text="run")) == 1
    assert a.count_events(EventQuery(text="shared")) == 3
    assert b.count_events(EventQuery()) == 2
    assert len(b.event_keys(EventQuery())) == 2
    assert b.facets(EventQuery())["agent"] == {"pb": 2}
    assert b.stats(EventQuery()).events == 2
    assert [x.agent_id for x in a.agents()] == ["pa"]
    assert (a.info().sessions, a.info().events) == (1, 3)
    assert (store.info().sessions, store.info().events) == (2, 5)
    assert store.count_events(EventQuery(text="shared")) == 5


def test_prune_is_scoped(store, teams, make):
    _a, b, sa, sb = teams
    assert b.prune(make.at(10**6)) == 1
    assert store.get_session(sa.id).event_count == 3
    with pytest.raises(NotFound):
        store.get_session(sb.id)
