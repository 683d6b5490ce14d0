"""`agentlog config show|get|set|unset|path`: read and edit the settings file."""

from __future__ import annotations

from typing import Annotated

import typer

from agentlog.cli.options import JsonOpt, NdjsonOpt
from agentlog.cli.output import Column, Format, output_format, print_json, print_rows, write_line
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


def _check_key(key: str) -> None:
    if key not in SETTINGS:
        raise ConfigError(f"unknown setting {key!r}; `agentlog config show` lists them")


@config_app.command("show")
def show(json: JsonOpt = False, ndjson: NdjsonOpt = False) -> None:
    """Every setting with its value and where it came from (secrets masked).

    Example: agentlog config show --json
    """
    settings = Settings.load()
    rows = [
        {
            "key": key,
            "value": _display(key, settings.get(key)),
            "source": settings.sources.get(key, "default"),
            "env": setting.env,
            "help": setting.help,
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
    print_rows(rows, columns, output_format(json, ndjson))


@config_app.command("get")
def get(key: KeyArg, json: JsonOpt = False) -> None:
    """Print one setting's resolved value (secrets too: this is for scripts).

    Example: agentlog config get limits.retention_days
    """
    _check_key(key)
    value = Settings.load().get(key)
    if output_format(json) is Format.JSON:
        print_json({"key": key, "value": value})
    else:
        write_line(str(value))


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
