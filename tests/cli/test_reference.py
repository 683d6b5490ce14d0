"""`docs/cli.md` is the CLI reference generated from the Typer app: it must not go stale."""

from __future__ import annotations

from pathlib import Path

from agentlog.cli.reference import reference

PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_the_cli_reference_page_is_current() -> None:
    assert PAGE.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is stale: run `python -m agentlog.cli.reference > docs/cli.md`"
    )


def test_every_command_has_a_section() -> None:
    page = reference()
    for command in ("agentlog demo", "agentlog mcp replay", "agentlog db backup", "agentlog serve"):
        assert f"## `{command}`" in page, command
