"""`agentlog config show|get|set|unset|path`."""

from __future__ import annotations

from agentlog.config import config_path


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
