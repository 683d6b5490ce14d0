"""`agentlog otel receive` as a real subprocess, fed by the OpenTelemetry SDK's exporter."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


_PARTIAL = b'{"partialSuccess": {"rejectedSpans": 1, "errorMessage": "span 1: no start time"}}'


def _answering(status: int) -> ThreadingHTTPServer:
    """A loopback HTTP server answering every POST with `status` (200: a partial success)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = _PARTIAL if status == 200 else b'{"code": %d, "message": "no"}' % status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [
        (None, "server_unavailable", 1),
        (401, "unauthorized", 1),
        (403, "forbidden", 1),
        (429, "rate_limited", 1),
        (501, "server_unavailable", 1),
        (503, "server_unavailable", 1),
        (413, "payload_too_large", 1),
        (200, "invalid_input", 1),  # some spans refused: the data's fault, not the command's
        (404, "usage_error", 2),
    ],
)
def test_otel_send_exits_as_errors_md_says(
    tmp_path: Path, status: int | None, code: str, exit_code: int
) -> None:
    """An unreachable or failing endpoint is docs/errors.md's error (exit 1); a wrong URL exits 2."""
    from typer.testing import CliRunner

    from agentlog.cli.app import app
    from agentlog.errors import AgentLogError
    from agentlog.model import Event, EventType, Session
    from agentlog.otel.files import send_otlp
    from agentlog.transfer.export import Selection

    db = tmp_path / "x.db"
    store = open_store(str(db))
    session = Session(title="t")
    store.write([session], [Event(session_id=session.id, type=EventType.LOG, content="x")])
    server = None if status is None else _answering(status)
    url = f"http://127.0.0.1:{server.server_address[1] if server else _free_port()}"
    try:
        with pytest.raises(AgentLogError) as raised:
            send_otlp(store, Selection(all=True), url, timeout=5)
        store.close()
        result = CliRunner().invoke(app, ["--db", str(db), "otel", "send", "--all", "--to", url])
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    assert (raised.value.code, raised.value.exit_code) == (code, exit_code)
    assert "127.0.0.1" in raised.value.message
    if status == 200:
        assert "rejected 1 span (span 1: no start time)" in raised.value.message
    assert result.exit_code == exit_code, result.output
