"""The storage folders keep their boundaries: no backend reaches into another's folder."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _loaded_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return {m for m in out.split() if m.startswith("agentlog.storage.")}


@pytest.mark.parametrize(
    ("module", "foreign"),
    [
        ("agentlog.storage.postgres.store", "agentlog.storage.sqlite"),
        ("agentlog.storage.sqlite.store", "agentlog.storage.postgres"),
        ("agentlog.storage.sql.filters", "agentlog.storage.sqlite"),
        ("agentlog.storage.sql.sessions", "agentlog.storage.postgres"),
    ],
)
def test_a_backend_imports_only_its_own_folder_and_sql(module: str, foreign: str) -> None:
    pytest.importorskip("psycopg")
    leaked = sorted(m for m in _loaded_after(module) if m.startswith(foreign))
    assert leaked == [], f"{module} imports {leaked}"
