"""An export of a store that holds several teams reads each session through its own team (ids are per team)."""

from __future__ import annotations

from agentlog.model import Event, EventType, Session
from agentlog.storage.base import EventQuery
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.export import Selection, iter_selected, iter_selected_records


def test_two_teams_sessions_of_one_id_export_with_their_own_events(tmp_path):
    store = SQLiteStore(tmp_path / "server.db")
    try:
        shared = Session(title="same id")
        for team, word in (("team-a", "alpha"), ("team-b", "beta")):
            store.scoped(team, f"{team}-user").write(
                sessions=[shared],
                events=[Event(session_id=shared.id, type=EventType.LOG, content=word)],
            )
        exported = {
            session.team_id: [e.content for page in pages for e in page]
            for session, pages in iter_selected(store, Selection(all=True))
        }
        assert exported == {"team-a": ["alpha"], "team-b": ["beta"]}
        records = {
            session.team_id: [r["content"] for page in pages for r in page]
            for session, pages in iter_selected_records(store, Selection(all=True))
        }
        assert records == exported
    finally:
        store.close()


def test_migrating_a_store_of_several_teams_keeps_each_teams_session_of_one_id(tmp_path):
    from agentlog.transfer.checkpoint import Checkpoint
    from agentlog.transfer.migrate import Migration

    source = SQLiteStore(tmp_path / "server.db")
    target = SQLiteStore(tmp_path / "copy.db")
    try:
        shared = Session(title="same id")
        for team, word in (("team-a", "alpha"), ("team-b", "beta")):
            source.scoped(team, f"{team}-user").write(
                sessions=[shared],
                events=[
                    Event(session_id=shared.id, type=EventType.LOG, content=f"{word} {i}")
                    for i in range(3)
                ],
            )
        for run in range(2):  # the second run finds everything sent and verified
            ckpt = Checkpoint(tmp_path / "ckpt.db", source.url, target.url)
            migration = Migration(source, target, checkpoint=ckpt)
            try:
                report = migration.run()
            finally:
                migration.close()
            assert report.mismatches == [] and report.events_rejected == 0, report
            assert report.verified == 2
            assert report.events_inserted == (6 if run == 0 else 0)
        for team, word in (("team-a", "alpha"), ("team-b", "beta")):
            got = target.scoped(team).get_session(shared.id)
            assert (got.team_id, got.created_by, got.event_count) == (team, f"{team}-user", 3)
            contents = [e.content for e in target.scoped(team).list_events(EventQuery())]
            assert contents == [f"{word} {i}" for i in range(3)]
    finally:
        source.close()
        target.close()
