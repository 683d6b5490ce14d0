"""docs/errors.md lists every error code the code base can answer, with its HTTP status and exit."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import agentlog
from agentlog.errors import all_error_classes

PAGE = Path(__file__).resolve().parents[1] / "docs" / "errors.md"


def _every_error_class():
    # Error classes live beside the code that raises them (replay, ...): import every module
    # (those needing an extra that is not installed are skipped) so all subclasses exist.
    for module in pkgutil.walk_packages(agentlog.__path__, "agentlog."):
        if ".web." in module.name or module.name.endswith(("__main__", ".reference")):
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:
            continue
    return all_error_classes()


def test_every_error_code_has_a_section_and_its_status_and_exit_code() -> None:
    page = PAGE.read_text(encoding="utf-8")
    rows = {
        m.group(1): (m.group(2), m.group(3))
        for m in re.finditer(r"^\| `([a-z_]+)` \| (\S+) \| (\d+) \|$", page, re.M)
    }
    for cls in _every_error_class():
        assert f"## `{cls.code}`" in page, f"docs/errors.md has no section for {cls.code}"
        assert cls.code in rows, f"docs/errors.md's table has no row for {cls.code}"
        http, exit_code = rows[cls.code]
        assert int(exit_code) == cls.exit_code, cls.code
        assert http == "—" or int(http) == cls.http_status, cls.code
