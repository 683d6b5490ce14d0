"""The root app: help for every command, version, exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.main import get_command
from typer.testing import CliRunner

from agentlog.cli import app as app_module
from agentlog.cli.app import app
from agentlog.errors import AgentLogError
from agentlog.storage import open_store


def _walk(command, path=()):
    """Every command under `command`, loading lazily registered modules as help does."""
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), (*path, name))


def test_every_command_has_help_with_an_example():
    root = get_command(app)
    missing = []
    for path, command in _walk(root):
        if not path:
            continue
        text = (command.help or "").strip()
        if not text or not command.get_short_help_str(limit=200).strip():
            missing.append(" ".join(path))
        elif not hasattr(command, "commands"):
            example = text.partition("Example:")[2].strip()
            if "agentlog " + path[0] not in example:
                missing.append(" ".join(path) + " (no example)")
    assert not missing, f"commands without help text: {missing}"


def test_every_command_help_renders(empty_cli):
    root = get_command(app)
    for path, _ in _walk(root):
        result = empty_cli(*path, "--help")
        assert result.exit_code == 0, (path, result.stderr)
        assert "Usage:" in result.stdout


def test_no_flag_shows_a_type_in_help(empty_cli):
    """`--json <bool>` suggested `--json true`, which is an error: flags show no type."""
    root = get_command(app)
    for path, _ in _walk(root):
        out = empty_cli(*path, "--help", env={"COLUMNS": "200"}).stdout
        assert "<bool>" not in out, path
    assert "<int" in empty_cli("sessions", "list", "--help", env={"COLUMNS": "200"}).stdout


def test_a_mistyped_top_level_command_gets_did_you_mean(empty_cli):
    for typed, meant in (("sesions", "sessions"), ("serach", "search"), ("tial", "tail")):
        line = empty_cli.fails(2, typed, "list")
        assert f"Did you mean '{meant}'" in line, line
    assert "Did you mean" not in empty_cli.fails(2, "frobnicate")


def test_core_commands_are_registered():
    root = get_command(app)
    names = set(root.list_commands(typer.Context(root)))
    core = {"demo", "sessions", "events", "log", "run", "search", "stats", "agents", "tail"}
    assert core | {"db", "config"} <= names


def test_each_registry_line_names_exactly_what_its_module_registers():
    for entry in app_module.COMMAND_MODULES:
        module, names = app_module.parse_entry(entry)
        registered = app_module.load_module_commands(module)
        if names:
            assert sorted(registered) == sorted(names), entry
        assert registered, f"{module}.register adds no command"


def test_command_modules_load_only_when_used(tmp_path):
    open_store(str(tmp_path / "x.db")).close()  # a read opens a store; it never creates one
    code = (
        "import sys; from agentlog.cli.app import main\n"
        "try:\n    main(['--db', sys.argv[1], 'sessions', 'list'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('agentlog.cli.'))\n"
        "print(' '.join(loaded))\n"
        "assert not any(m in sys.modules for m in ('textual', 'fastapi', 'uvicorn'))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    assert "agentlog.cli.sessions" in loaded
    assert not loaded & {"agentlog.cli.admin", "agentlog.cli.tui", "agentlog.cli.run"}


def test_version(empty_cli):
    result = empty_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("agentlog ")


def test_unknown_option_is_one_line_exit_2(empty_cli):
    line = empty_cli.fails(2, "sessions", "list", "--bogus")
    assert "--bogus" in line and "agentlog sessions list --help" in line


def test_unknown_command_exit_2(empty_cli):
    line = empty_cli.fails(2, "nonsense")
    assert "nonsense" in line


def test_bad_choice_is_one_line_exit_2(empty_cli):
    line = empty_cli.fails(2, "sessions", "list", "--sort", "colour")
    assert "--sort" in line and "Value error" not in line


def test_json_and_ndjson_together_is_a_usage_error(cli):
    assert "--json" in cli.fails(2, "sessions", "list", "--json", "--ndjson")


def test_not_an_agentlog_database(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"this is a text file, not SQLite at all" * 100)
    result = CliRunner().invoke(app, ["--db", str(bogus), "sessions", "list"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agentlog: error: ")
    assert "Traceback" not in result.stderr


def test_agentlog_error_from_a_command_is_one_line(monkeypatch):
    boom = typer.Typer()

    @boom.command("boom")
    def _boom() -> None:
        """Fail on purpose.

        Example: agentlog boom
        """
        raise AgentLogError("it went wrong; do this instead")

    root = typer.Typer(cls=app_module.AgentLogGroup)
    root.callback()(lambda: None)
    root.add_typer(boom, name="x")
    result = CliRunner().invoke(root, ["x", "boom"])
    assert result.exit_code == 1
    assert result.stderr == "agentlog: error: it went wrong; do this instead\n"


def test_a_bug_shows_a_traceback_and_asks_for_a_report():
    root = typer.Typer(cls=app_module.AgentLogGroup)
    root.callback()(lambda: None)

    @root.command("bug")
    def _bug() -> None:
        """Crash.

        Example: agentlog bug
        """
        raise ZeroDivisionError("a real bug")

    result = CliRunner().invoke(root, ["bug"])
    assert result.exit_code == 1
    assert "internal error, please report" in result.stderr
    assert "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr


def test_db_flag_beats_server_from_environment(tmp_path, monkeypatch):
    from agentlog.cli.context import CLIState

    monkeypatch.setenv("AGENTLOG_SERVER", "http://127.0.0.1:1")
    state = CLIState(db=str(tmp_path / "x.db"))
    assert state.store_url() == str(tmp_path / "x.db")
    assert CLIState().store_url() == "http://127.0.0.1:1"
    assert CLIState(server="http://h:2", db="y.db").store_url() == "http://h:2"


def test_broken_config_file_is_one_line(empty_cli):
    from agentlog.config import config_path

    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("limits = [unclosed\n")
    line = empty_cli.fails(1, "sessions", "list")
    assert "not valid TOML" in line and str(config_path()) in line
