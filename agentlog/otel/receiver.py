"""`agentlog otel receive`: a standalone OTLP/HTTP trace receiver writing to a local Store.

Standard library HTTP server, no web framework: one route, `POST /v1/traces`; every
error, the other methods' 405 included, is answered in JSON.
Each request is answered only after the store committed its spans. Writes are
serialised; when too many requests already wait, the receiver answers 503 with
`Retry-After` (OTLP exporters retry), never accepting and dropping.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from agentlog.errors import AgentLogError, PayloadTooLarge
from agentlog.otel.decode import JSON, MAX_BODY_BYTES, PROTOBUF, decode
from agentlog.otel.ingest import ingest
from agentlog.storage import Store

TRACES_PATH = "/v1/traces"
MAX_WAITING = 16  # requests queued behind the writer before we answer 503
RETRY_AFTER_SECONDS = 1


class OTLPReceiver(ThreadingHTTPServer):
    """An HTTP server whose handler writes OTLP traces into `store`."""

    daemon_threads = True

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 4318) -> None:
        self.store = store
        self.write_lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(MAX_WAITING)
        self.spans_received = 0
        self.spans_rejected = 0  # answered in partialSuccess, counted for the operator
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: OTLPReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the CLI reports counts, not access lines

    def _answer(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        # OTLP/HTTP: failures carry a google.rpc.Status; JSON is accepted by every exporter.
        body = orjson.dumps({"code": status, "message": message})
        self._answer(status, body, JSON, headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The standard library's own answers (an unknown method, a malformed request line)
        # are HTML pages; an OTLP client expects the JSON every other error here carries.
        self.close_connection = True
        self._error(code, message or HTTPStatus(code).phrase)

    def _not_post(self) -> None:
        self.close_connection = True  # any body it sent is left unread
        if self.path.split("?")[0] != TRACES_PATH:
            self._error(404, f"unknown path {self.path[:100]!r}; OTLP traces go to {TRACES_PATH}")
            return
        self._error(
            405,
            f"{self.command} is not allowed; POST OTLP traces to {TRACES_PATH}",
            {"Allow": "POST"},
        )

    do_GET = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_post

    def do_POST(self) -> None:
        if self.path.split("?")[0] != TRACES_PATH:
            self._error(404, f"unknown path {self.path[:100]!r}; OTLP traces go to {TRACES_PATH}")
            return
        try:
            length = int(self.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0:
            self._error(411, "Content-Length is required")
            return
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._error(413, f"body is over {MAX_BODY_BYTES:,} bytes; send smaller batches")
            return
        body = self.rfile.read(length)
        ctype = self.headers.get("Content-Type")
        if not self.server.slots.acquire(blocking=False):
            self._error(503, "receiver busy", {"Retry-After": str(RETRY_AFTER_SECONDS)})
            return
        try:
            spans = decode(body, ctype, self.headers.get("Content-Encoding"))
            with self.server.write_lock:
                result = ingest(self.server.store, spans)
                self.server.spans_received += result.spans - len(result.rejected)
                self.server.spans_rejected += len(result.rejected)
        except PayloadTooLarge as exc:
            self._error(413, exc.message)
            return
        except AgentLogError as exc:
            status = exc.http_status if 400 <= exc.http_status < 500 else 503
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
            self._error(status, exc.message, headers)
            return
        except Exception as exc:  # the store failed: nothing acknowledged, ask to retry
            self._error(503, f"store unavailable: {exc}", {"Retry-After": "5"})
            return
        finally:
            self.server.slots.release()
        if (ctype or "").startswith(PROTOBUF):
            self._answer(200, result.response_protobuf(), PROTOBUF)
        else:
            self._answer(200, orjson.dumps(result.response_json()), JSON)
