"""Helpers for the server tests: who is calling (user + key), and quick ways to add users and sessions."""

from __future__ import annotations

from dataclasses import dataclass

from agentlog.server import service
from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role, User


@dataclass
class Who:
    user: User
    key: str

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class World:
    srv: TestServer
    admin: Who
    member: Who
    viewer: Who
    other: Who  # a member of team "other"
    other_team_id: str

    @property
    def client(self):
        return self.srv.client


def add_user(
    srv: TestServer, email: str, role: Role, team_name: str, password: str | None = None
) -> Who:
    team = service.team_for(srv.accounts, team_name, create=True)
    if password:
        user = service.create_user(
            srv.accounts, email, password=password, role=role, team=team
        ).user
    else:
        user = srv.accounts.create_user(email, None, role, team.id)
    return Who(user, service.create_key(srv.accounts, user, team, f"{email} key").secret)


def make_session(world: World, who: Who, title: str = "run", events: int = 3) -> str:
    """A session with `events` LOG events written by `who`; returns its id."""
    from agentlog.model import Event, Session

    s = Session(title=title)
    body = {
        "sessions": [s.to_json_dict()],
        "events": [
            Event(
                session_id=s.id, type="LOG", content=f"{title} line {i}", agent_id="bot"
            ).to_json_dict()
            for i in range(events)
        ],
    }
    r = world.client.post("/v1/events:batch", json=body, headers=who.h)
    assert r.status_code == 200, r.text
    return s.id
