"""An export of a store that holds several teams reads each session through its own team (ids are per team)."""

from __future__ import annotations

from agentlog.model import Event, EventType, Session
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
