"""One JSON line per request (never a secret or a body), and `X-Request-ID` accepted or made, then echoed."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentlog.wire import REQUEST_ID_HEADER

LOGGER = "agentlog.access"
REQUEST_ID = REQUEST_ID_HEADER.lower().encode()  # ASGI header names are lower-case bytes
# A caller's id is kept only when it is short and plain, so it cannot forge log lines.
_GOOD_ID = re.compile(rb"^[A-Za-z0-9._:/+=-]{1,128}$")


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID and _GOOD_ID.match(value):
            return value.decode()
    return uuid.uuid4().hex


class AccessLog:
    """Outermost middleware: tags the request with its id and logs it once it is answered."""

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.log = logger or logging.getLogger(LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID]
                message = {**message, "headers": [*headers, (REQUEST_ID, rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            if self.log.isEnabledFor(logging.INFO):
                self.log.info(_line(scope, rid, status, time.perf_counter() - start))


def _line(scope: Scope, rid: str, status: int, seconds: float) -> str:
    route = getattr(scope.get("route"), "path", None)
    principal: Any = scope.get("state", {}).get("principal")
    client = scope.get("client")
    record: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "request_id": rid,
        "method": scope["method"],
        # The template (/v1/sessions/{session_id}), never the raw path or query: no ids, no tokens.
        "route": route if isinstance(route, str) else "unmatched",
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "client": client[0] if client else None,
        "user_id": getattr(principal, "user_id", None),
        "key_id": getattr(principal, "key_id", None),
        "team_id": getattr(principal, "team_id", None),
    }
    return orjson.dumps(record).decode()


def install_stdout_handler() -> None:
    """Send the access log to stdout as bare JSON lines (containers collect stdout)."""
    log = logging.getLogger(LOGGER)
    if any(getattr(h, "_agentlog_access", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._agentlog_access = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
