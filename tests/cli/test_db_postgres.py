"""`agentlog db backup|restore` on PostgreSQL: pg_dump -Fc and pg_restore round trip in one schema."""

from __future__ import annotations

import os
import shutil
import stat

import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import Event, EventType, Session

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"), reason="needs PostgreSQL"),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs the PostgreSQL client tools"),
]
runner = CliRunner()


def test_backup_then_restore_brings_back_what_was_lost(tmp_path):
    from agentlog.storage.postgres.store import PostgresStore
    from agentlog.storage.postgres.testing import drop_schema, new_schema_url

    url, schema = new_schema_url("deploy")
    dump = tmp_path / "team.dump"
    try:
        with PostgresStore(url) as store:
            session = Session(title="keep me")
            store.write([session], [Event(session_id=session.id, type=EventType.LOG, content="x")])
        made = runner.invoke(app, ["db", "backup", str(dump), "--db", url])
        assert made.exit_code == 0, made.output
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600  # owner-only, as the store files
        again = runner.invoke(app, ["db", "backup", str(dump), "--db", url])
        assert again.exit_code == 2 and "--force" in again.stderr
        with PostgresStore(url) as store:
            store.delete_session(session.id)
            assert store.info().sessions == 0
        refused = runner.invoke(app, ["db", "restore", str(dump), "--db", url])
        assert refused.exit_code == 2 and "--yes" in refused.stderr
        restored = runner.invoke(app, ["db", "restore", str(dump), "--db", url, "--yes"])
        assert restored.exit_code == 0, restored.output
        with PostgresStore(url) as store:
            assert store.get_session(session.id).title == "keep me"
            assert store.info().events == 1
    finally:
        drop_schema(schema)


def test_restore_of_a_missing_file_is_one_line(tmp_path):
    url = os.environ["AGENTLOG_TEST_POSTGRES_URL"] + "?agentlog_schema=agentlog_deploy_nothing"
    result = runner.invoke(
        app, ["db", "restore", str(tmp_path / "nope.dump"), "--db", url, "--yes"]
    )
    assert result.exit_code == 2 and "is not a file" in result.stderr
