"""The CLI reference as Markdown, generated from the Typer app itself (`docs/cli.md`).

    python -m agentlog.cli.reference > docs/cli.md

A test compares the committed page with this output, so the reference cannot
drift from the commands.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

HEADER = """# CLI reference

Every command, its arguments and options, generated from the code
(`python -m agentlog.cli.reference > docs/cli.md`; a test fails when this page is stale).
Each command prints a table by default and JSON with `--json` (NDJSON with `--ndjson` where
it streams); data goes to stdout, messages to stderr; the exit code is 0 on success, 1 when
the work failed and 2 for a usage error. Settings resolve flag > `AGENTLOG_*` environment >
config file > default.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# Typer builds on its own copy of Click (`typer._click`), so commands and parameters are
# told apart by what they have, not by Click's classes.
def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def _option_row(param: Any, ctx: Any) -> str:
    names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
    record = param.get_help_record(ctx)
    help_text = record[1] if record else ""
    if param.envvar and "env " not in help_text:
        envvar = param.envvar if isinstance(param.envvar, str) else ", ".join(param.envvar)
        help_text += f" (env {envvar})"
    return f"| {names} | {_cell(help_text)} |"


def _command(path: list[str], command: Any, parent: Any) -> list[str]:
    ctx = command.context_class(command, info_name=path[-1], parent=parent)
    title = " ".join(path)
    lines = [f"## `{title}`", ""]
    if command.help:
        lines += [command.help.strip().replace("\b\n", ""), ""]
    usage = command.collect_usage_pieces(ctx)
    lines += ["```text", f"{title} {' '.join(usage)}".rstrip(), "```", ""]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [
        p
        for p in command.params
        if p.param_type_name == "option" and not p.hidden and p.name != "help"
    ]
    if arguments:
        lines += ["| argument | |", "| --- | --- |"]
        for arg in arguments:
            help_text = getattr(arg, "help", None) or ""
            name = arg.metavar or (arg.name or "").upper()
            lines.append(f"| `{name}` | {_cell(help_text)} |")
        lines.append("")
    if options:
        lines += ["| option | |", "| --- | --- |"]
        lines += [_option_row(option, ctx) for option in options]
        lines.append("")
    if _is_group(command):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines += _command([*path, name], sub, ctx)
    return lines


def reference() -> str:
    """The whole reference page."""
    from agentlog.cli.app import app

    root: Any = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="agentlog")
    lines = [HEADER]
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        if command is not None and not command.hidden:
            lines += _command(["agentlog", name], command, ctx)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
