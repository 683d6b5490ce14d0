"""Helpers for the MCP tests: the real test server's command line and a store to read back."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("mcp")

SERVERS = Path(__file__).parent / "servers"
TOOLS_SERVER = [sys.executable, str(SERVERS / "tools_server.py")]
TEE = [sys.executable, str(SERVERS / "tee.py")]
AGENTLOG = [sys.executable, "-m", "agentlog"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mcp.db"


@pytest.fixture
def child_env(db_path: Path) -> dict[str, str]:
    """The environment for processes under test: the test's own store, nothing inherited."""
    env = dict(os.environ)
    env["AGENTLOG_DB"] = str(db_path)
    env.pop("AGENTLOG_SERVER", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env
