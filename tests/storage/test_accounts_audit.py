"""The audit log pages by keyset (at, id), newest first, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.server.service import open_backends
from agentlog.storage.accounts import AccountStore, Actor, Role
from agentlog.storage.postgres.testing import ENV, drop_schema, new_schema_url


@pytest.fixture(params=["sqlite", "postgres"])
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    schema = None
    if request.param == "postgres":
        if not os.environ.get(ENV):
            pytest.skip(f"PostgreSQL tests need {ENV} set")
        url, schema = new_schema_url("audit")
    else:
        url = str(tmp_path / "server.db")
    store, accounts = open_backends(url)
    try:
        yield accounts
    finally:
        accounts.close()
        store.close()
        if schema:
            drop_schema(schema)


def test_audit_pages_by_keyset_without_gaps_or_repeats(accounts: AccountStore) -> None:
    team = accounts.create_team("main")
    other = accounts.create_team("other")
    user = accounts.create_user("a@example.com", None, Role.ADMIN, team.id)
    for i in range(12):
        accounts.audit("test.entry", Actor(user.id), team_id=team.id, details={"i": i})
        accounts.audit("test.elsewhere", Actor(), team_id=other.id)
    everything = accounts.list_audit(team_id=team.id, limit=1000)
    seen = []
    before = None
    while True:
        page = accounts.list_audit(team_id=team.id, limit=5, before=before)
        if not page:
            break
        seen += page
        before = (page[-1].at, page[-1].id)
    assert [e.id for e in seen] == [e.id for e in everything]
    assert len(everything) == 14  # team.create, user.create and 12 entries; not the other team's
    assert all(e.team_id == team.id for e in seen)
    assert [e.at for e in seen] == sorted((e.at for e in seen), reverse=True)
