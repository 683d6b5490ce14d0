"""`agentlog otel receive` as a real subprocess, fed by the OpenTelemetry SDK's exporter."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentlog.storage import EventQuery, SessionQuery, open_store

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

from opentelemetry.exporter.otlp.proto.http import Compression

from tests.otel.test_receiver import emit_agent_run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_otel_receive_subprocess(tmp_path: Path) -> None:
    db = tmp_path / "local.db"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentlog", "--db", str(db), "otel", "receive", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AGENTLOG_HOME": str(tmp_path / "home")},
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        emit_agent_run(f"http://127.0.0.1:{port}/v1/traces", Compression.Gzip)
        # Acknowledged means committed: readable now, from another connection.
        store = open_store(str(db))
        try:
            (session,) = list(store.list_sessions(SessionQuery()))
            assert store.count_events(EventQuery(session_id=session.id)) == 4
        finally:
            store.close()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert "3 spans stored" in err


def test_export_format_otlp(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agentlog.cli.app import app
    from agentlog.model import Event, EventType, Session

    db = tmp_path / "x.db"
    store = open_store(str(db))
    session = Session(title="t")
    store.write(
        [session],
        [
            Event(
                session_id=session.id,
                type=EventType.LLM_CALL,
                name="m",
                input_tokens=2,
                cost_usd=0.01,
            )
        ],
    )
    store.close()
    out = tmp_path / "x.jsonl"
    result = CliRunner().invoke(
        app, ["--db", str(db), "export", "--all", "--format", "otlp", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    import orjson

    (span,) = orjson.loads(out.read_bytes())["resourceSpans"][0]["scopeSpans"][0]["spans"]
    attrs = {a["key"]: a["value"] for a in span["attributes"]}
    assert attrs["gen_ai.request.model"] == {"stringValue": "m"}
    assert attrs["gen_ai.usage.input_tokens"] == {"intValue": "2"}
    assert attrs["agentlog.cost_usd"] == {"doubleValue": 0.01}
