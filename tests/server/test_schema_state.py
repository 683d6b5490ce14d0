"""`serve --no-migrate` and `db upgrade`: what a database still lacks, read without writing."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.server.schema_state import pending_migrations, upgrade

runner = CliRunner()


def test_blank_sqlite_lacks_everything_and_looking_creates_nothing(tmp_path):
    db = tmp_path / "team.db"
    pending = pending_migrations(str(db))
    assert pending[0] == "agentlog:m001_initial" and "agentlog_accounts:m001_accounts" in pending
    assert not db.exists()
    assert upgrade(str(db)) == pending
    assert pending_migrations(str(db)) == []


def test_serve_no_migrate_refuses_an_old_schema_and_starts_after_upgrade(tmp_path):
    db = str(tmp_path / "team.db")
    refused = runner.invoke(app, ["serve", "--no-migrate", "--db", db])
    assert refused.exit_code == 2
    assert "agentlog db upgrade" in refused.stderr and refused.stderr.count("\n") == 1
    done = runner.invoke(app, ["db", "upgrade", "--db", db, "--json"])
    assert done.exit_code == 0 and "agentlog:m001_initial" in done.stdout
    assert '"created":true' in done.stdout.replace(" ", "")
    again = runner.invoke(app, ["db", "upgrade", "--db", db])
    assert again.exit_code == 0 and "up to date" in again.stderr


def test_upgrade_of_a_missing_file_says_it_made_a_new_store(tmp_path):
    """A mistyped path is not 'upgraded' in silence: the line says a new store was made."""
    db = tmp_path / "typo.db"
    made = runner.invoke(app, ["db", "upgrade", "--db", str(db)])
    assert made.exit_code == 0
    assert made.stderr.startswith(f"created a new store at {db} (no file was there): ")


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"), reason="needs PostgreSQL")
def test_postgres_pending_then_upgraded():
    from agentlog.storage.postgres.testing import drop_schema, new_schema_url

    url, schema = new_schema_url("deploy")
    try:
        pending = pending_migrations(url)
        assert "agentlog:m001_initial" in pending and "agentlog_accounts:m001_accounts" in pending
        assert upgrade(url) == pending
        assert pending_migrations(url) == []
    finally:
        drop_schema(schema)
