"""Accounts on both SQL backends: a team's retention_days, and erasing a user (GDPR)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.errors import InvalidInput, NotFound
from agentlog.storage.accounts import AccountStore, Actor, Role, open_accounts


@pytest.fixture(params=["sqlite", "postgres"])
def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AccountStore]:
    if request.param == "sqlite":
        opened = open_accounts(str(tmp_path / "accounts.db"))
        try:
            yield opened
        finally:
            opened.close()
        return
    from agentlog.storage.postgres.testing import ENV, drop_schema, new_schema_url

    if not os.environ.get(ENV):
        pytest.skip(f"PostgreSQL tests need {ENV} set")
    url, schema = new_schema_url("acct")
    opened = open_accounts(url)
    try:
        yield opened
    finally:
        opened.close()
        drop_schema(schema)


def test_retention_days_are_set_cleared_checked_and_audited(accounts):
    team = accounts.create_team("research")
    assert team.retention_days is None and team.public()["retention_days"] is None
    assert accounts.set_team_retention(team.id, 90, Actor("boss")).retention_days == 90
    assert accounts.get_team(team.id).retention_days == 90
    assert [t.retention_days for t in accounts.list_teams()] == [90]
    assert accounts.set_team_retention(team.id, None).retention_days is None
    for bad in (0, -1, 36_501):
        with pytest.raises(InvalidInput, match="retention_days"):
            accounts.set_team_retention(team.id, bad)
    with pytest.raises(NotFound):
        accounts.set_team_retention("no-such-team", 5)
    entries = [e for e in accounts.list_audit(team_id=team.id) if e.action == "team.retention"]
    assert [e.details for e in entries] == [{"retention_days": None}, {"retention_days": 90}]
    assert entries[1].actor_user_id == "boss"


def test_erasing_a_user_leaves_no_trace_of_who_they_were(accounts):
    team = accounts.create_team("main")
    admin = accounts.create_user("boss@example.com", "h", Role.ADMIN, team.id)
    ana = accounts.create_user("Ana@Example.com", "h", Role.MEMBER, team.id, Actor(admin.id))
    key, _ = accounts.create_key(ana.id, team.id, "laptop", Actor(ana.id))
    accounts.create_key(ana.id, team.id, "ci", Actor(admin.id))
    accounts.update_user(ana.id, role=Role.VIEWER, actor=Actor(admin.id))
    accounts.audit("note", Actor(admin.id), team_id=team.id, details={"who": "ana@example.com"})
    erased = accounts.erase_user(ana.id, Actor(admin.id), details={"sessions": "transfer"})
    assert (erased.keys_deleted, erased.team_id) == (2, team.id)
    with pytest.raises(NotFound):
        accounts.get_user(ana.id)
    with pytest.raises(NotFound):
        accounts.get_key(key.id)
    assert accounts.list_keys(user_id=ana.id) == []
    log = accounts.list_audit(limit=1000)
    text = repr([e.public() for e in log]).lower()
    assert ana.id.lower() not in text and "ana@example.com" not in text
    # user.create (target), her own key.create (actor), user.update (target), the note
    # (details): four entries named her; the admin's key.create names only the key.
    assert erased.audit_entries_pseudonymised == 4
    assert erased.pseudonym in text
    last = log[0]
    assert (last.action, last.target, last.actor_user_id) == (
        "user.erase",
        erased.pseudonym,
        admin.id,
    )
    assert last.details == {
        "keys_deleted": 2,
        "audit_entries_pseudonymised": 4,
        "sessions": "transfer",
    }
    # The admin's own entries still name the admin.
    assert any(e.actor_user_id == admin.id and e.action == "user.update" for e in log)
    # The email can be used again.
    assert accounts.create_user("ana@example.com", "h", Role.MEMBER, team.id).id != ana.id
