"""Every error answers `{"error": {"code", "message", "details"}}` with codes from agentlog.errors."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from agentlog.errors import (
    AgentLogError,
    AuthError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StoreError,
    UsageError,
)

log = logging.getLogger("agentlog.server")

RETRY_AFTER_UNAVAILABLE = "5"  # seconds a client waits before retrying while the store is away

_BY_STATUS: dict[int, str] = {
    400: UsageError.code,
    401: AuthError.code,
    403: Forbidden.code,
    404: NotFound.code,
    405: UsageError.code,
    413: PayloadTooLarge.code,
    422: InvalidInput.code,
    429: RateLimited.code,
}


def _wants_web_page(request: Request) -> bool:
    """A browser asking for a page (not an API client): the web view's own 404 answers it."""
    path = request.url.path
    return (
        request.method in ("GET", "HEAD")
        and "text/html" in request.headers.get("accept", "")
        and not path.startswith(("/v1/", "/static/"))
    )


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    body = orjson.dumps(
        {"error": {"code": code, "message": message, "details": details}}, default=str
    )
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def from_agentlog_error(exc: AgentLogError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(exc, AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited) and isinstance(exc.details, dict):
        headers["Retry-After"] = str(exc.details.get("retry_after", 1))
    if exc.http_status == 503:
        headers.setdefault("Retry-After", RETRY_AFTER_UNAVAILABLE)
    return error_response(exc.http_status, exc.code, exc.message, exc.details, headers)


def _validation_details(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details, parts = [], []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        details.append({"loc": loc, "message": msg, "type": err.get("type")})
        parts.append(f"{'.'.join(loc)}: {msg}")
    return "; ".join(parts) or "the request is not valid", details


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API document lists for this path (Starlette names only one route's)."""
    import re

    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods.update(m.upper() for m in operations)
    return sorted(methods) or ["GET"]


def install(app: FastAPI) -> None:
    @app.exception_handler(AgentLogError)
    async def _agentlog(request: Request, exc: AgentLogError) -> Response:
        if isinstance(exc, StoreError):
            state = getattr(request.app.state, "agentlog", None)
            if state is not None:
                state.metrics.db_errors.inc()
        return from_agentlog_error(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        message, details = _validation_details(exc)
        for err in exc.errors():
            if err.get("type") in ("json_invalid", "model_attributes_type") and err.get("loc", ())[
                :1
            ] == ("body",):
                return error_response(
                    400, UsageError.code, f"the request body is not valid JSON: {message}", details
                )
        return error_response(422, InvalidInput.code, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _BY_STATUS.get(exc.status_code, "agentlog_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            if _wants_web_page(request):
                # Imported here: the error handlers stay free of Jinja until a browser asks.
                from agentlog.server.web.routes import web_not_found

                return web_not_found(request, "no such page")
            message = f"no such endpoint {request.method} {request.url.path}; see /docs"
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            message = (
                f"{request.method} is not allowed on {request.url.path}; "
                f"use {' or '.join(allowed)} (see /docs)"
            )
        return error_response(exc.status_code, code, message, None, headers)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=400)  # nobody is listening; nothing to log

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, AgentLogError.code, "internal server error; see the server log")
