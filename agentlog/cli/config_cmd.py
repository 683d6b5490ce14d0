"""`agentlog config show|get|set|unset|path`: read and edit the settings file."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agentlog.cli.options import JsonOpt, NdjsonOpt
from agentlog.cli.output import (
    Column,
    Format,
    output_format,
    print_json,
    print_rows,
    write_line,
)
from agentlog.config import SETTINGS, Settings, config_path, write_value
from agentlog.errors import ConfigError

config_app = typer.Typer(
    help="Show and change settings (flag > env AGENTLOG_* > config file > default).\n\n"
    "Example: agentlog config set limits.max_db_mb 4096",
    no_args_is_help=True,
)

KeyArg = Annotated[str, typer.Argument(metavar="KEY", help="Setting name, e.g. limits.max_db_mb.")]
MASK = "********"


def _display(key: str, value: object) -> object:
    return MASK if SETTINGS[key].secret and value not in ("", None) else value


def _value(settings: Settings, key: str) -> object:
    """A setting's value as commands use it: `db` left at its default is the default file
    (an empty line told `config get db` nothing of where the local store is)."""
    if key == "db" and not settings.get("db"):
        return settings.db
    return settings.get(key)


def _check_key(key: str) -> None:
    if key not in SETTINGS:
        raise ConfigError(f"unknown setting {key!r}; `agentlog config show` lists them")


def _fail(errors: list[str]) -> None:
    """Each bad setting as its own `agentlog: error:` line, then exit 1 (so scripts notice)."""
    for error in errors:
        sys.stderr.write(f"agentlog: error: {error}\n")
    raise typer.Exit(1)


@config_app.command("show")
def show(json: JsonOpt = False, ndjson: NdjsonOpt = False) -> None:
    """Every setting with its value and where it came from (secrets masked).

    A bad value (one that stops other commands) is shown as given, with its error, and
    the exit code is 1.

    Example: agentlog config show --json
    """
    # inspect, not load: a bad setting must not hide the others (or itself).
    settings, errors = Settings.inspect()
    rows = [
        {
            "key": key,
            "value": _display(key, _value(settings, key)),
            "source": settings.sources.get(key, "default"),
            "env": setting.env,
            "help": setting.help,
            "error": errors.get(key),
        }
        for key, setting in SETTINGS.items()
    ]
    columns = [
        Column("KEY", lambda r: r["key"], style="bold"),
        # As typed in the config file: a port is 8250, not "8,250".
        Column("VALUE", lambda r: "" if r["value"] is None else str(r["value"]), max_width=40),
        Column("SOURCE", lambda r: r["source"]),
        Column("ENV", lambda r: r["env"]),
    ]
    if errors:
        columns.append(Column("ERROR", lambda r: r["error"] or "", style="red"))
    print_rows(rows, columns, output_format(json, ndjson))
    if errors:
        _fail(list(errors.values()))


@config_app.command("get")
def get(key: KeyArg, json: JsonOpt = False) -> None:
    """Print one setting's resolved value (secrets too: this is for scripts).

    With a bad setting (this one or any other) the errors go to stderr and the exit code
    is 1; a good value is still printed.

    Example: agentlog config get limits.retention_days
    """
    _check_key(key)
    settings, errors = Settings.inspect()
    # A bad value is not a value a script should use: nothing on stdout, only the error.
    if key not in errors:
        value = _value(settings, key)
        if output_format(json) is Format.JSON:
            print_json({"key": key, "value": value})
        else:
            write_line(str(value))
    if errors:  # this key's, or another's that stops every other command: exit 1 either way
        _fail(list(errors.values()))


@config_app.command("set")
def set_(
    key: KeyArg,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The new value.")],
) -> None:
    """Write one setting to the config file.

    Example: agentlog config set server http://127.0.0.1:8250
    """
    path = write_value(key, value)
    typer.echo(f"set {key} in {path}", err=True)


@config_app.command("unset")
def unset(key: KeyArg) -> None:
    """Remove one setting from the config file (back to env or default).

    Example: agentlog config unset server
    """
    path = write_value(key, None)
    typer.echo(f"unset {key} in {path}", err=True)


@config_app.command("path")
def path() -> None:
    """Print the config file's path.

    Example: agentlog config path
    """
    write_line(str(config_path()))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
