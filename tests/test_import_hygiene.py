"""The headless core must not pull in the TUI, CLI or server frameworks (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("textual", "typer", "fastapi", "uvicorn", "starlette")


def _imported(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import agentlog",
        "import agentlog.sdk, agentlog.storage, agentlog.model",
        "from agentlog import AgentLog, EventType; AgentLog(store=None)",
        "import agentlog.sdk.transport, agentlog.sdk.spool",
    ],
)
def test_core_imports_stay_light(code):
    modules = _imported(code)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == [], f"{code!r} imported {heavy}"


def test_bare_import_loads_no_pydantic():
    modules = _imported("import agentlog")
    assert not any(m.split(".")[0] == "pydantic" for m in modules)
