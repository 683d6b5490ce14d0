"""`agentlog config show|get|set|unset|path`."""

from __future__ import annotations

import orjson

from agentlog.config import SETTINGS, config_path


def test_set_get_unset_and_path(empty_cli):
    assert empty_cli.ok("config", "path").stdout.strip() == str(config_path())
    empty_cli.ok("config", "set", "limits.max_db_mb", "4096")
    assert empty_cli.ok("config", "get", "limits.max_db_mb").stdout == "4096\n"
    assert empty_cli.json("config", "get", "limits.max_db_mb") == {
        "key": "limits.max_db_mb",
        "value": 4096,
    }
    empty_cli.ok("config", "unset", "limits.max_db_mb")
    assert empty_cli.ok("config", "get", "limits.max_db_mb").stdout == "2048\n"


def test_show_masks_secrets_and_names_sources(empty_cli, monkeypatch):
    empty_cli.ok("config", "set", "api_key", "s3cret-value")
    monkeypatch.setenv("AGENTLOG_LIMITS_MAX_SESSIONS", "50")
    rows = {r["key"]: r for r in empty_cli.json("config", "show")["items"]}
    assert rows["api_key"]["value"] == "********" and rows["api_key"]["source"] == "file"
    assert rows["limits.max_sessions"] == {
        **rows["limits.max_sessions"],
        "value": 50,
        "source": "env",
    }
    table = empty_cli.ok("config", "show").stdout
    assert "s3cret" not in table and "********" in table


def test_config_mistakes(empty_cli):
    assert "unknown setting" in empty_cli.fails(1, "config", "get", "nope")
    assert "unknown setting" in empty_cli.fails(1, "config", "set", "nope", "1")
    assert "must be int" in empty_cli.fails(1, "config", "set", "limits.max_db_mb", "lots")


def test_show_prints_numbers_as_typed(empty_cli):
    out = empty_cli.ok("config", "show").stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("serve.port"))
    assert "8250" in line and "8,250" not in line


def test_yes_no_settings_take_the_usual_words_and_refuse_others(empty_cli, monkeypatch):
    """AGENTLOG_SERVE_COOKIE_SECURE=perhaps was read as yes."""
    monkeypatch.setenv("AGENTLOG_SERVE_COOKIE_SECURE", "perhaps")
    result = empty_cli("config", "get", "serve.cookie_secure")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "agentlog: error: serve.cookie_secure from AGENTLOG_SERVE_COOKIE_SECURE is 'perhaps';"
        " use auto, 1/0, true/false, yes/no or on/off"
    ]
    monkeypatch.setenv("AGENTLOG_SERVE_COOKIE_SECURE", "On")
    assert empty_cli.ok("config", "get", "serve.cookie_secure").stdout == "1\n"
    monkeypatch.delenv("AGENTLOG_SERVE_COOKIE_SECURE")
    assert "use 1/0, true/false" in empty_cli.fails(
        1, "config", "set", "serve.access_log", "perhaps"
    )
    empty_cli.ok("config", "set", "serve.access_log", "off")
    assert empty_cli.json("config", "get", "serve.access_log")["value"] is False


def test_show_lists_every_setting_and_marks_the_bad_ones(empty_cli, monkeypatch):
    """troubleshooting.md sends you to `config show` for a bad setting: it must not fail
    with that setting's error, but show it, and still exit 1."""
    monkeypatch.setenv("AGENTLOG_SERVE_PORT", "70000")
    monkeypatch.setenv("AGENTLOG_SQLITE_SYNCHRONOUS", "maybe")
    result = empty_cli("config", "show", "--json")
    assert result.exit_code == 1
    rows = {r["key"]: r for r in orjson.loads(result.stdout)["items"]}
    assert set(rows) == set(SETTINGS)
    assert rows["serve.port"]["value"] == "70000" and rows["serve.port"]["source"] == "env"
    assert "use a port number from 1 to 65535" in rows["serve.port"]["error"]
    assert "use one of normal, full" in rows["sqlite.synchronous"]["error"]
    assert rows["limits.max_db_mb"]["error"] is None and rows["limits.max_db_mb"]["value"] == 2048
    assert result.stderr.splitlines() == [
        "agentlog: error: sqlite.synchronous from AGENTLOG_SQLITE_SYNCHRONOUS is 'maybe';"
        " use one of normal, full",
        "agentlog: error: serve.port from AGENTLOG_SERVE_PORT is 70000;"
        " use a port number from 1 to 65535",
    ]
    table = empty_cli("config", "show", env={"COLUMNS": "250"})
    assert table.exit_code == 1
    line = next(ln for ln in table.stdout.splitlines() if ln.startswith("serve.port"))
    assert "70000" in line and "use a port number" in line
    assert "ERROR" in table.stdout.splitlines()[0]


def test_get_works_beside_a_bad_setting_and_still_exits_1(empty_cli, monkeypatch):
    monkeypatch.setenv("AGENTLOG_SERVE_PORT", "70000")
    result = empty_cli("config", "get", "limits.max_db_mb")
    assert (result.exit_code, result.stdout) == (1, "2048\n")
    assert "serve.port from AGENTLOG_SERVE_PORT is 70000" in result.stderr
    bad = empty_cli("config", "get", "serve.port")
    assert (bad.exit_code, bad.stdout) == (1, "")
    assert bad.stderr.count("agentlog: error: serve.port") == 1


def test_show_with_an_unreadable_config_file(empty_cli):
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("this is = = not toml\n")
    result = empty_cli("config", "show", "--json")
    assert result.exit_code == 1 and "is not valid TOML" in result.stderr
    assert len(orjson.loads(result.stdout)["items"]) == len(SETTINGS)


def test_a_store_in_the_environment_beats_a_server_in_the_config_file(tmp_path, monkeypatch):
    """After `agentlog login` saved a server in the config file, `AGENTLOG_DB=x.db agentlog
    demo` wrote 25 sessions to the team's server: the environment beats the file, per setting
    and between the two settings that choose the store."""
    from typer.testing import CliRunner

    from agentlog import AgentLog
    from agentlog.cli.app import app

    runner = CliRunner()
    dead = "http://127.0.0.1:9"  # nothing listens: reaching for it fails the command
    assert runner.invoke(app, ["config", "set", "server", dead]).exit_code == 0
    local = tmp_path / "local.db"
    monkeypatch.setenv("AGENTLOG_DB", str(local))
    listed = runner.invoke(app, ["sessions", "list", "--json"])  # a read creates nothing
    assert listed.exit_code == 2 and f"no AgentLog store at {local}" in listed.stderr
    made = runner.invoke(app, ["sessions", "new", "local"])
    assert made.exit_code == 0, made.stderr
    assert local.exists()
    listed = runner.invoke(app, ["sessions", "list", "--json"])
    assert listed.exit_code == 0, listed.stderr
    with AgentLog() as log:
        assert log.url == str(local)
    # Both in the environment: the server, as before.
    monkeypatch.setenv("AGENTLOG_SERVER", dead)
    assert runner.invoke(app, ["sessions", "list", "--json"]).exit_code == 1


def test_db_at_its_default_shows_the_default_file():
    """`config get db` printed an empty line while db was at its default."""
    from typer.testing import CliRunner

    from agentlog.cli.app import app
    from agentlog.config import default_db_path

    runner = CliRunner()
    got = runner.invoke(app, ["config", "get", "db"])
    assert got.exit_code == 0 and got.stdout.strip() == str(default_db_path())
    shown = runner.invoke(app, ["config", "show", "--json"])
    (row,) = [r for r in orjson.loads(shown.stdout)["items"] if r["key"] == "db"]
    assert (row["value"], row["source"]) == (str(default_db_path()), "default")
