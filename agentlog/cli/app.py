"""The root `agentlog` Typer app: global options, error handling, and the command registry.

Every command module registers itself with ONE line in `COMMAND_MODULES`
below: the module exposes `register(app: typer.Typer) -> None`, which adds its
commands or sub-Typer. A line `"module:name1,name2"` names the top-level
commands the module adds, and the module is then imported only when one of
them runs (or `--help` lists them); a plain `"module"` line is imported at
start. A test checks each line's names against what `register` adds. Keep
heavy imports (textual, fastapi, uvicorn, httpx) inside the command
functions, so `agentlog sessions list` starts fast.

Errors: an `AgentLogError` is printed as `agentlog: error: <message>` on one
line and exits with its `exit_code`; a Click usage error is one line and exits
2; any other exception is a bug and prints a traceback asking for a report.
"""

from __future__ import annotations

import errno
import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer._click import exceptions as click_exc
from typer.core import TyperGroup, TyperOption

from agentlog.cli.context import CLIState
from agentlog.errors import AgentLogError
from agentlog.textsafe import flat
from agentlog.version import package_version

# One line per command module (each exposes `register(app)`); order sets `--help` order.
# "module:cmd1,cmd2" loads the module only when one of those commands is used.
COMMAND_MODULES: list[str] = [
    # -- core commands (issue 3)
    "agentlog.cli.demo_cmd:demo",
    "agentlog.cli.sessions:sessions",
    "agentlog.cli.events:events,search",
    "agentlog.cli.log:log",
    "agentlog.cli.run:run",
    "agentlog.cli.analytics:stats,agents",
    "agentlog.cli.tail:tail",
    "agentlog.cli.db:db",
    "agentlog.cli.config_cmd:config",
    # -- other command groups add their line below
    "agentlog.cli.serve:serve",  # issue 4
    "agentlog.cli.admin:admin",  # issue 4
    "agentlog.cli.login:login",  # issue 4
    "agentlog.cli.export:export",  # issue 6: data portability
    "agentlog.cli.importer:import",
    "agentlog.cli.hook:hook",  # issue 20: coding agents' live hooks
    "agentlog.cli.share:share",
    "agentlog.cli.migrate:migrate",
    "agentlog.cli.sync:sync",
    "agentlog.cli.tui:tui",
    "agentlog.cli.mcp_cmd:mcp",  # issue 17
    "agentlog.cli.otel:otel",  # issue 18: OpenTelemetry
    "agentlog.cli.compare:compare",  # issue 19: the regression gate
    "agentlog.cli.replay:replay",  # issue 19: replay a recorded run
]


def _one_line(text: str) -> str:
    # Typer passes pydantic's "Value error, " prefix through for Literal choices.
    return flat(str(text).replace("Value error, ", ""), 10_000)


def _print_error(message: str) -> None:
    sys.stderr.write(f"agentlog: error: {_one_line(message)}\n")
    sys.stderr.flush()


def parse_entry(entry: str) -> tuple[str, list[str]]:
    """A COMMAND_MODULES line → (module, top-level command names; empty = load at start)."""
    module, _, names = entry.partition(":")
    return module.strip(), [n.strip() for n in names.split(",") if n.strip()]


# Top-level command name → module that registers it, for the lazily loaded lines.
LAZY_COMMANDS: dict[str, str] = {}


def load_module_commands(module: str) -> dict[str, Any]:
    """Import one command module and return the Click commands its `register` adds."""
    scratch = typer.Typer()
    importlib.import_module(module).register(scratch)
    return dict(typer.main.get_group(scratch).commands)


def _flag_display_type(self: TyperOption, ctx: Any) -> str | None:
    """No type for an on/off flag: `--json <bool>` read as if `--json true` were valid."""
    if self.is_flag:
        return None
    return _typer_display_type(self, ctx)


# Typer shows every option's type in help, flags included (`-h <bool>`); flags take no value.
_typer_display_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_display_type  # type: ignore[method-assign]  # see above


class AgentLogGroup(TyperGroup):
    """The root group: loads command modules on demand and turns every user
    mistake into one line on stderr and an exit code."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As Click's, plus "did you mean" for a mistyped top-level command (lazy ones too)."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=2, cutoff=0.6)
            if close:
                hint = " or ".join(f"'{c}'" for c in close)
                raise click_exc.UsageError(f"No such command '{name}'. Did you mean {hint}?", ctx)
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        return names + [name for name in LAZY_COMMANDS if name not in names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in LAZY_COMMANDS:
            for name, loaded in load_module_commands(LAZY_COMMANDS[cmd_name]).items():
                self.commands.setdefault(name, loaded)
            command = self.commands.get(cmd_name)
        if command is not None and cmd_name not in NO_STORE_COMMANDS:
            add_store_options(command)
        return command

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        prog_name = prog_name or "agentlog"
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        code = 0
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            # Non-standalone click returns an explicit Exit's code; commands return None.
            code = rv if isinstance(rv, int) and not isinstance(rv, bool) else 0
        except click_exc.NoArgsIsHelpError as exc:
            exc.show()
            code = exc.exit_code
        except click_exc.UsageError as exc:
            hint = ""
            if exc.ctx is not None:
                hint = f" (see '{exc.ctx.command_path} --help')"
            _print_error(exc.format_message() + hint)
            code = exc.exit_code
        except click_exc.ClickException as exc:
            _print_error(exc.format_message())
            code = exc.exit_code
        except typer.Abort:
            _print_error("aborted")
            code = 1
        except AgentLogError as exc:
            _print_error(exc.message)
            code = exc.exit_code
        except KeyboardInterrupt:
            code = 130
        except BrokenPipeError:
            code = _quiet_broken_pipe()
        except OSError as exc:
            code = _quiet_broken_pipe() if exc.errno == errno.EPIPE else _internal_error(exc)
        except Exception as exc:  # a bug, not a user's mistake: show it
            code = _internal_error(exc)
        sys.exit(code)


# Commands that open no event store, or whose --db/--server mean something else.
NO_STORE_COMMANDS = frozenset({"serve", "config", "login"})
STORE_OPTIONS = {"--server": "server", "--api-key": "api_key", "--db": "db"}


def _set_state(attr: str):
    def callback(ctx: Any, _param: Any, value: str | None) -> None:
        if value:
            from agentlog.cli.context import get_state

            setattr(get_state(ctx), attr, value)

    return callback


def add_store_options(command: Any, root_params: Sequence[Any] | None = None) -> None:
    """Give a command (and a group's subcommands) the root's --server/--api-key/--db,
    so `agentlog sessions list --server URL` works as well as `agentlog --server URL …`.
    Options a command already defines for itself (e.g. `migrate --api-key`) win."""
    import copy

    if getattr(command, "_agentlog_store_options", False):
        return
    command._agentlog_store_options = True
    if root_params is None:
        root_params = typer.main.get_group(app).params
    if hasattr(command, "commands"):
        for sub in command.commands.values():
            add_store_options(sub, root_params)
        return
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    for param in root_params:
        flag = next((o for o in getattr(param, "opts", ()) if o in STORE_OPTIONS), None)
        if flag and flag not in taken:
            option = copy.copy(param)
            option.expose_value = False
            option.callback = _set_state(STORE_OPTIONS[flag])
            command.params.append(option)


def _quiet_broken_pipe() -> int:
    # `agentlog events X | head`: the reader went away; that is not an error worth a trace.
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 1


def _internal_error(exc: BaseException) -> int:
    sys.stderr.write(
        "agentlog: internal error, please report it with the traceback below "
        "(https://github.com/agentlog/agentlog/issues)\n"
    )
    traceback.print_exception(exc, file=sys.stderr)
    sys.stderr.flush()
    return 1


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"agentlog {package_version()}")
        raise typer.Exit(0)


app = typer.Typer(
    name="agentlog",
    cls=AgentLogGroup,
    help="Record what your AI agents do and explore it from the terminal.\n\n"
    "Example: agentlog demo && agentlog sessions list",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    server: Annotated[
        str | None,
        typer.Option("--server", metavar="URL", help="AgentLog server URL (env AGENTLOG_SERVER)."),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", metavar="KEY", help="API key for --server (env AGENTLOG_API_KEY)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", metavar="PATH", help="Local SQLite file (env AGENTLOG_DB)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Record what your AI agents do and explore it from the terminal."""
    state = CLIState(server=server, api_key=api_key, db=db)
    ctx.obj = state
    ctx.call_on_close(state.close)


for _entry in COMMAND_MODULES:
    _module, _names = parse_entry(_entry)
    if _names:
        LAZY_COMMANDS.update(dict.fromkeys(_names, _module))
    else:
        importlib.import_module(_module).register(app)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (`agentlog = agentlog.cli.app:main`)."""
    app(args=list(argv) if argv is not None else None, prog_name="agentlog")


__all__ = [
    "COMMAND_MODULES",
    "LAZY_COMMANDS",
    "app",
    "load_module_commands",
    "main",
    "parse_entry",
]
