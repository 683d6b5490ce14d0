"""`migrate --to postgresql://…` straight into the PostgreSQL backend (needs AGENTLOG_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os

import pytest

from agentlog.model import Event
from agentlog.storage.base import EventQuery
from agentlog.transfer.migrate import Migration, verify_only
from tests.support.portability import Cli, fill

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"),
        reason="needs AGENTLOG_TEST_POSTGRES_URL (a PostgreSQL database for tests)",
    ),
]


@pytest.fixture
def pg():
    from agentlog.storage.postgres.testing import temporary_store

    store = temporary_store()
    yield store
    store.close()


def test_migrate_sqlite_to_postgresql_and_verify(store, pg) -> None:
    sessions = fill(store, sessions=3, events=40)
    # NUL is stored as U+2400 on every backend (model.encodable), so what SQLite took moves.
    store.write([], [Event(session_id=sessions[0].id, type="LOG", content="nul \x00 here")])
    report = Migration(store, pg).run()
    assert report.events_inserted == 121 and report.events_rejected == 0
    assert report.ok and report.verified == 3
    assert pg.count_events(EventQuery(text="here")) == 1
    (moved,) = pg.list_events(EventQuery(session_id=sessions[0].id, text="here")).items
    assert moved.content == "nul \u2400 here"
    assert verify_only(store, pg).mismatches == []


def test_migrate_command_to_a_postgresql_url(store, pg) -> None:
    fill(store, sessions=2, events=5)
    result = Cli(store.path)("migrate", "--to", pg.url)
    assert result.exit_code == 0, result.stderr
    assert pg.count_events(EventQuery()) == 10
    again = Cli(store.path)("migrate", "--to", pg.url, "--verify")
    assert again.exit_code == 0 and "sessions matching" in again.stdout
