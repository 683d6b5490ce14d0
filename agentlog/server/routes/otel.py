"""`POST /v1/traces`: OTLP/HTTP trace ingest (protobuf or JSON, gzip) on the team server.

Authenticated by API key like every write route (`Authorization: Bearer al_…`,
which OTLP exporters send with `OTEL_EXPORTER_OTLP_HEADERS`). The answer is
OTLP's ExportTraceServiceResponse, sent only after the store committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from agentlog.errors import Busy
from agentlog.model import Event, WriteResult
from agentlog.server.deps import get_principal, resolve_scope
from agentlog.server.ingest import announce_written
from agentlog.server.schemas import ERROR_RESPONSES

router = APIRouter(prefix="/v1", tags=["otel"], responses=ERROR_RESPONSES)


@router.post(
    "/traces",
    responses={200: {"description": "ExportTraceServiceResponse (partialSuccess if any rejected)"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "An OTLP ExportTraceServiceRequest (optionally gzip-encoded).",
            "content": {
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "resourceSpans": {"type": "array", "items": {"type": "object"}}
                        },
                    }
                },
            },
        }
    },
)
async def otlp_traces(request: Request) -> Response:
    """Receive OTLP traces: each trace becomes a session (or joins its `session.id`)."""
    # Credentials first: an anonymous caller gets 401 without us reading its body.
    principal = await get_principal(request)
    principal.require_write()
    team_id, user_id = await resolve_scope(request, principal)
    state = request.app.state.agentlog
    # Backpressure, never loss: when the store is this far behind, ask the exporter
    # to come back (503 + Retry-After, which OTLP exporters honour) before reading.
    if not state.otlp_slots.acquire(blocking=False):
        raise Busy("the server is writing other OTLP batches; retry after the Retry-After delay")
    try:
        return await _receive(request, state, team_id, user_id)
    finally:
        state.otlp_slots.release()


async def _receive(
    request: Request, state: Any, team_id: str | None, user_id: str | None
) -> Response:
    from agentlog.otel.decode import PROTOBUF, decode
    from agentlog.otel.ingest import ingest

    try:
        body = await request.body()
    except ClientDisconnect:
        return Response(status_code=400)
    ctype = request.headers.get("content-type")

    def work() -> Response:
        spans = decode(body, ctype, request.headers.get("content-encoding"))
        store = state.store.scoped(team_id, user_id)

        def written(events: Sequence[Event], result: WriteResult) -> None:
            failed = {e.index for e in result.errors}
            announce_written(
                state, team_id, list(events), result.inserted, len(result.errors), failed
            )

        result = ingest(store, spans, written)
        if (ctype or "").startswith(PROTOBUF):
            return Response(result.response_protobuf(), media_type=PROTOBUF)
        return Response(orjson.dumps(result.response_json()), media_type="application/json")

    return await run_in_threadpool(work)
