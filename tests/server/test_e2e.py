"""End to end through real processes: `agentlog serve` → SDK writes → CLI `--server` reads back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.server.testing import free_port

AGENTLOG = str(Path(sys.executable).parent / "agentlog")


def _cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AGENTLOG, *args], input=input, capture_output=True, text=True, timeout=60
    )


@pytest.mark.slow
def test_serve_sdk_cli_round_trip(tmp_path):
    db = str(tmp_path / "team.db")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [AGENTLOG, "serve", "--port", str(port), "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "agentlog serve did not become ready"
            time.sleep(0.1)
        assert httpx.get(f"{url}/v1/sessions").status_code == 401  # nothing open without auth

        # The admin steps run in-process (same CLI code, no interpreter start-up each).
        admin = CliRunner()

        def run_admin(*args: str) -> str:
            result = admin.invoke(app, ["admin", *args, "--db", db])
            assert result.exit_code == 0, result.output
            return result.stdout

        run_admin("create-user", "boss@example.com", "--admin")
        key_a = orjson.loads(run_admin("keys", "create", "--label", "sdk", "--json"))["secret"]
        run_admin("teams", "create", "other")
        key_b = orjson.loads(
            run_admin("keys", "create", "--label", "b", "--team", "other", "--json")
        )["secret"]

        from agentlog import AgentLog

        log = AgentLog(server=url, api_key=key_a, spool=tmp_path / "spool.db")
        with log.session("e2e over http", agent_id="e2e-bot") as s:
            s.user_input("is the server up?")
            s.agent_output("yes, it answered")
        assert log.close(timeout=30)

        listed = _cli("--server", url, "--api-key", key_a, "sessions", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        items = orjson.loads(listed.stdout)["items"]
        assert [(i["title"], i["event_count"]) for i in items] == [("e2e over http", 2)]
        events = _cli("--server", url, "--api-key", key_a, "search", "answered", "--json")
        assert events.returncode == 0 and "yes, it answered" in events.stdout

        other = _cli("--server", url, "--api-key", key_b, "sessions", "list", "--json")
        assert other.returncode == 0 and orjson.loads(other.stdout)["items"] == []
        bad = _cli(
            "--server", url, "--api-key", "al_00000000_wrongwrongwrongwrong", "sessions", "list"
        )
        assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "agentlog admin create-user" in err  # the first start says how to make the first admin
