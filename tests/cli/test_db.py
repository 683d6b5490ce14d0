"""`agentlog db info|check|vacuum|backup|prune`."""

from __future__ import annotations

import os
import sqlite3
import stat

from agentlog.storage import open_store


def test_info_json_with_limits(cli, demo):
    doc = cli.json("db", "info")
    assert doc["backend"] == "sqlite" and doc["schema_version"] >= 1
    assert doc["sessions"] == demo.session_count and doc["events"] == demo.event_count
    assert doc["size_bytes"] > 0 and doc["warnings"] == []
    assert doc["limits"] == {"max_db_mb": 2048, "max_sessions": 100_000, "retention_days": 0}


def test_info_warns_near_the_limits(cli, monkeypatch):
    monkeypatch.setenv("AGENTLOG_LIMITS_MAX_SESSIONS", "30")  # demo has 25: 83%
    monkeypatch.setenv("AGENTLOG_LIMITS_MAX_DB_MB", "1")
    monkeypatch.setenv("AGENTLOG_LIMITS_RETENTION_DAYS", "3")
    result = cli.ok("db", "info")
    warnings = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 3
    assert "limits.max_sessions" in result.stderr and "limits.max_db_mb" in result.stderr
    assert "limits.retention_days" in result.stderr
    assert "warning" not in result.stdout and "schema version" in result.stdout
    monkeypatch.setenv("AGENTLOG_LIMITS_MAX_SESSIONS", "100")  # 25%: no warning
    assert "max_sessions" not in " ".join(cli.json("db", "info")["warnings"])


def test_check_vacuum_backup(cli, tmp_path, demo):
    assert "ok" in cli.ok("db", "check").stderr
    assert cli.json("db", "check") == {"ok": True, "problems": []}
    assert "vacuumed" in cli.ok("db", "vacuum").stderr
    target = tmp_path / "copy.db"
    cli.ok("db", "backup", str(target))
    copy = open_store(str(target))
    try:
        assert copy.info().events == demo.event_count
    finally:
        copy.close()
    assert "already exists" in cli.fails(2, "db", "backup", str(target))
    cli.ok("db", "backup", str(target), "--force")


def test_backup_is_owner_only_like_the_store(cli, tmp_path, demo):
    """The copy holds every event, as the store (0600) does, whatever the umask."""
    old = os.umask(0o022)
    try:
        target = tmp_path / "bk.db"
        cli.ok("db", "backup", str(target))
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        target.chmod(0o644)  # an older, readable backup replaced with --force
        cli.ok("db", "backup", str(target), "--force")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_check_reports_damage_and_exits_1(cli, demo_db):
    # Erase events behind the store's back: the per-session aggregates now disagree.
    conn = sqlite3.connect(demo_db)
    with conn:
        conn.execute("DELETE FROM events WHERE rowid IN (SELECT rowid FROM events LIMIT 3)")
    conn.close()
    result = cli("db", "check")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("problem: ") and "Traceback" not in result.stderr
    doc = cli("db", "check", "--json")
    assert doc.exit_code == 1 and '"ok":false' in doc.stdout


def test_prune(cli, demo):
    assert "--yes" in cli.fails(2, "db", "prune", "--older-than", "3d")
    doc = cli.json("db", "prune", "--older-than", "3d", "--yes")
    assert doc["sessions_erased"] > 0
    left = cli.json("db", "info")["sessions"]
    assert left == demo.session_count - doc["sessions_erased"]
    again = cli.json("db", "prune", "--older-than", "3d", "--yes")
    assert again["sessions_erased"] == 0


def test_prune_needs_an_age(cli, monkeypatch):
    assert "--older-than" in cli.fails(2, "db", "prune", "--yes")
    assert "--older-than" in cli.fails(2, "db", "prune", "--older-than", "soon", "--yes")
    monkeypatch.setenv("AGENTLOG_LIMITS_RETENTION_DAYS", "365")
    assert cli.json("db", "prune", "--yes")["sessions_erased"] == 0


def test_local_only_commands_refuse_a_server(empty_cli):
    for args in (["check"], ["vacuum"], ["backup", "x.db"]):
        line = empty_cli.fails(2, "--server", "http://127.0.0.1:9", "db", *args)
        assert "local SQLite database only" in line


def test_prune_asks_on_a_terminal(cli, demo, monkeypatch):
    import agentlog.cli.db as db_cmd

    monkeypatch.setattr(db_cmd, "is_terminal", lambda stream=None: True)
    refused = cli("db", "prune", "--older-than", "3d", input="n\n")
    assert refused.exit_code == 1 and "sessions with no activity since" in refused.stderr
    assert cli.json("db", "info")["sessions"] == demo.session_count
    assert cli("db", "prune", "--older-than", "3d", input="y\n").exit_code == 0
    assert cli.json("db", "info")["sessions"] < demo.session_count


def test_prune_dry_run_counts_and_erases_nothing(cli, demo):
    before = cli.json("sessions", "list", "--limit", "100")["items"]
    out = cli.ok("db", "prune", "--older-than", "5d", "--dry-run")
    assert "would erase" in out.stderr and "nothing erased" in out.stderr
    doc = cli.json("db", "prune", "--older-than", "5d", "--dry-run")
    assert doc["dry_run"] is True and doc["sessions_to_erase"] > 0
    assert len(cli.json("sessions", "list", "--limit", "100")["items"]) == len(before)


def test_info_says_what_the_index_backlog_means(cli):
    out = cli.ok("db", "info").stdout
    assert "fts pending" not in out and "search index" in out
