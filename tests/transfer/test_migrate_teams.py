"""A migration into one team's view takes a served store's team-less sessions, never another team's."""

from __future__ import annotations

from agentlog.model import Event, EventType, Session
from agentlog.storage.base import SessionQuery
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.checkpoint import Checkpoint
from agentlog.transfer.migrate import Migration


def test_a_one_team_target_gets_the_team_less_and_its_own_sessions_only(tmp_path):
    source = SQLiteStore(tmp_path / "served.db")
    target_file = SQLiteStore(tmp_path / "server.db")
    target = target_file.scoped("team-a", "a-user")  # as a server through team-a's key
    try:
        made = {}
        for team in (None, "team-a", "team-b"):
            s = Session(title=f"of {team}")
            view = source.scoped(team, f"{team}-user") if team else source
            view.write(sessions=[s], events=[Event(session_id=s.id, type=EventType.LOG)])
            made[team] = s
        migration = Migration(source, target, checkpoint=Checkpoint(tmp_path / "c.db", "a", "b"))
        try:
            report = migration.run()
        finally:
            migration.close()
        assert report.ok and report.sessions_other_teams == 1, report
        titles = {s.title for s in target.list_sessions(SessionQuery(limit=10)).items}
        assert titles == {"of None", "of team-a"}
        assert target_file.scoped("team-b").list_sessions(SessionQuery()).items == []
        assert report.to_dict()["sessions_other_teams"] == 1
    finally:
        source.close()
        target_file.close()
