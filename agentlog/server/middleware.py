"""Pure-ASGI middleware: body limits before parsing, security headers, metrics and API usage."""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentlog.errors import PayloadTooLarge
from agentlog.server.metrics import Metrics
from agentlog.server.usage import UsageCounter

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# /docs loads Swagger UI's script and style from its CDN.
DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    b"https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'",
)


def _too_large(limit: int) -> list[Message]:
    body = orjson.dumps(
        {
            "error": {
                "code": PayloadTooLarge.code,
                "message": f"the request body is over {limit:,} bytes; send smaller batches "
                "(at most 1,000 events or 10 MiB per request)",
                "details": {"limit_bytes": limit},
            }
        }
    )
    return [
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


class BodyLimit:
    """Refuse bodies over `limit` bytes from Content-Length or while streaming, before any parsing."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.limit:
                    for message in _too_large(self.limit):
                        await send(message)
                    return
        received = 0
        tripped = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, tripped
            if tripped:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    tripped = True
                    if not started:
                        for reply in _too_large(self.limit):
                            await send(reply)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if tripped:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not tripped:
                raise


class Observe:
    """Security headers on every answer; request metrics; API usage per team and endpoint."""

    def __init__(self, app: ASGIApp, metrics: Metrics, usage: UsageCounter) -> None:
        self.app = app
        self.metrics = metrics
        self.usage = usage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        docs = scope["path"] in ("/docs", "/docs/oauth2-redirect", "/redoc")

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*SECURITY_HEADERS, DOCS_CSP if docs else API_CSP]
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route = _route_template(scope)
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - start)
            principal: Any = scope.get("state", {}).get("principal")
            if principal is not None:
                self.usage.count(principal.team_id, f"{scope['method']} {route}", status)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
