"""The app factory: `create_app(settings)` builds the FastAPI app over one Store and its accounts."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from agentlog.server import errors
from agentlog.server.accesslog import AccessLog, install_stdout_handler
from agentlog.server.auth import DEV_EMAIL, DEV_TEAM, Authenticator, Principal
from agentlog.server.broker import Broker
from agentlog.server.common import TIME_PATTERN
from agentlog.server.metrics import Metrics
from agentlog.server.middleware import BodyLimit, Observe
from agentlog.server.operations import check_operation_ids, operation_id
from agentlog.server.ratelimit import make_limiter
from agentlog.server.redisguard import RedisGuard
from agentlog.server.schemas import BatchIn
from agentlog.server.service import open_backends
from agentlog.server.settings import ServerSettings
from agentlog.server.state import ServerState
from agentlog.server.tokens import KeyRing
from agentlog.server.usage import UsageCounter
from agentlog.storage.accounts import AccountStore, Actor, Role
from agentlog.storage.base import Store
from agentlog.version import package_version
from agentlog.wire import (
    AUTHORIZATION,
    NEXT_CURSOR_HEADER,
    REQUEST_ID_HEADER,
    TEAM_HEADER,
    USER_HEADER,
)

log = logging.getLogger("agentlog.server")

DESCRIPTION = """\
The AgentLog team server: every agent session of a team in one place.

Authenticate with `Authorization: Bearer <key>`: an API key (`agentlog admin keys create`)
or an access token from `POST /v1/auth/login`. Every request sees only its team's data;
another team's session answers 404 exactly like a missing one.

Errors are `{"error": {"code", "message", "details"}}`; the codes are those of
`agentlog.errors` (invalid_input, usage_error, not_found, conflict, invalid_cursor,
payload_too_large, unauthorized, forbidden, rate_limited, store_error, ...).
Pages are cursor-based: pass `next_cursor` back as `cursor`.
"""


def _dev_principal(accounts: AccountStore) -> Principal:
    from agentlog.errors import NotFound

    try:
        team = accounts.team_by_name(DEV_TEAM)
    except NotFound:
        team = accounts.create_team(DEV_TEAM, Actor())
    try:
        user = accounts.user_by_email(DEV_EMAIL)
    except NotFound:
        user = accounts.create_user(DEV_EMAIL, None, Role.OWNER, team.id, Actor())
    return Principal(user.id, team.id, user.role, user.email, None, "dev")


def create_app(
    settings: ServerSettings,
    *,
    store: Store | None = None,
    accounts: AccountStore | None = None,
) -> FastAPI:
    """A new app; it owns (and closes at shutdown) any store it opened itself."""
    owns = store is None
    if store is None or accounts is None:
        opened_store, opened_accounts = open_backends(settings.db)
        if store is None:
            store = opened_store
        else:
            opened_store.close()
        accounts = accounts or opened_accounts
    keyring = KeyRing(settings.data_dir, settings.jwt_secret)
    metrics = Metrics()
    metrics.pools.watch("events", store)
    metrics.pools.watch("accounts", accounts)
    usage = UsageCounter(accounts, settings.usage_flush_seconds)
    redis = RedisGuard(settings.redis_url, timeout=settings.redis_timeout_seconds)
    state = ServerState(
        settings=settings,
        store=store,
        accounts=accounts,
        keyring=keyring,
        auth=Authenticator(accounts, keyring, settings),
        limiter=make_limiter(redis),
        broker=Broker(redis),
        redis=redis,
        metrics=metrics,
        usage=usage,
        owns_store=owns,
    )
    if settings.oidc.enabled:
        from agentlog.server.web.oidc import check_installed

        check_installed()
    if settings.dev:
        state.auth.dev_principal = _dev_principal(accounts)
        log.warning("DEV MODE: requests from loopback without credentials act as %s", DEV_EMAIL)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Only a served app runs the periodic retention (tests call apply_retention).
        from pathlib import Path

        from agentlog.server.retention import RetentionTask

        task = RetentionTask(
            state.store,
            state.accounts,
            settings.retention_interval_seconds,
            Path(settings.retention_archive_dir) if settings.retention_archive_dir else None,
        )
        task.start()
        yield
        task.stop()
        await state.broker.close()
        shutdown(app)

    app = FastAPI(
        title="AgentLog",
        version=package_version(),
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # served below from the package's own Swagger UI (no CDN)
        redoc_url=None,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.agentlog = state
    errors.install(app)

    from agentlog.server.routes import analytics, auth, events, keys, meta, sessions, stream, users
    from agentlog.server.routes import otel as otel_routes

    routers = [
        meta.router,
        auth.router,
        sessions.router,
        stream.router,
        events.router,
        analytics.router,
        keys.router,
        users.router,
        otel_routes.router,  # issue 18: OTLP ingest
    ]
    for router in routers[:5]:
        app.include_router(router)
    events.register_event_by_id(app.router)  # after the event routes: /events/{id} is the catch-all
    for router in routers[5:]:
        app.include_router(router)
    check_operation_ids([*routers, app.router])
    from agentlog.server.web import compare as web_compare
    from agentlog.server.web import keys as web_keys
    from agentlog.server.web import live as web_live
    from agentlog.server.web import oidc as web_oidc
    from agentlog.server.web import routes as web_routes
    from agentlog.server.web import team as web_team
    from agentlog.server.web.render import STATIC

    app.include_router(web_routes.router)  # the web view (not in the API document)
    app.include_router(web_keys.router)
    app.include_router(web_compare.router)
    app.include_router(web_live.router)
    app.include_router(web_oidc.router)
    app.include_router(web_team.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="AgentLog API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                AUTHORIZATION,
                "Content-Type",
                "Last-Event-ID",
                REQUEST_ID_HEADER,
                TEAM_HEADER,  # an admin key acting for a team, from a browser UI
                USER_HEADER,
            ],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After", NEXT_CURSOR_HEADER],
            max_age=600,
        )
    app.add_middleware(Observe, metrics=metrics, usage=usage)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)  # before anything reads
    app.add_middleware(AccessLog)  # outermost: even a refused body gets its line and request id
    if settings.access_log:
        install_stdout_handler()
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document plus the batch bodies that the write routes parse themselves."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    batch = TypeAdapter(BatchIn).json_schema(ref_template="#/components/schemas/Batch_{model}")
    for name, definition in batch.pop("$defs", {}).items():
        components[f"Batch_{name}"] = definition
    # Items are validated one by one (a bad one is reported in `errors` with a 207, the
    # rest stored), so the request schema promises objects; Batch_Session / Batch_Event
    # document what each must hold. The count and size limits answer 413.
    item_note = (
        "validated on its own: a rejected {0} is listed in `errors` (207) and the others "
        "are stored; see Batch_{0}"
    )
    for field, model in (("sessions", "Session"), ("events", "Event")):
        batch["properties"][field] = {
            "type": "array",
            # Any JSON value: a non-object item is one more rejected item, not a bad request.
            "items": {"description": item_note.format(model)},
            "description": batch["properties"][field].get("description", "")
            or f"{field} (events: at most 1,000 and 10 MiB per request, else 413)",
        }
    components["BatchIn"] = batch
    events_only = {
        "anyOf": [
            {"type": "array", "items": batch["properties"]["events"]["items"]},
            {
                "type": "object",
                "properties": {"events": batch["properties"]["events"]},
                "additionalProperties": False,
            },
        ]
    }
    components["SessionEventsIn"] = events_only
    _pin_times(schema)
    _declare_ids(components)
    for operations in schema["paths"].values():
        for operation in operations.values():
            for param in operation.get("parameters", []):
                if param["in"] == "path" and param["name"].endswith("_id"):
                    param["schema"]["format"] = "uuid"  # junk answers 404 like a missing id
    # Search shares the event filters, where `q` is optional; here it is required.
    for param in schema["paths"]["/v1/events/search"]["get"]["parameters"]:
        if param["name"] == "q":
            param["required"] = True
            param["schema"] = {"type": "string", "minLength": 1, "maxLength": 1000}
    app.openapi_schema = schema
    return schema


ID_FIELDS = {"id", "session_id", "parent_id", "parent_session_id"}


def _declare_ids(components: dict[str, Any]) -> None:
    """Session and event ids are UUIDs (checked on input); say so in their schemas."""
    for name, definition in components.items():
        if not any(word in name for word in ("Session", "Event")):
            continue
        for field, prop in definition.get("properties", {}).items():
            if field not in ID_FIELDS:
                continue
            for option in prop.get("anyOf", [prop]):
                if option.get("type") == "string":
                    option.setdefault("format", "uuid")


def _pin_times(node: Any) -> None:
    """Every date-time in the document also carries the pattern of the years the store keeps."""
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            node.setdefault("pattern", TIME_PATTERN)
        for value in node.values():
            _pin_times(value)
    elif isinstance(node, list):
        for value in node:
            _pin_times(value)


def shutdown(app: FastAPI) -> None:
    """Flush usage counts and close what the app opened (tests call this; so does the lifespan)."""
    state: ServerState = app.state.agentlog
    with contextlib.suppress(Exception):
        state.usage.flush()
    state.metrics.close()
    if state.owns_store:
        state.store.close()
        state.accounts.close()


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` workers: settings from AGENTLOG_* (set by `agentlog serve`).
    Each worker builds its routes' state before it takes a request (`warm_routes`)."""
    app = create_app(ServerSettings.load())
    warm_routes(app)
    return app


def warm_routes(app: FastAPI) -> None:
    """Let FastAPI build each route's request state now: it does so lazily, on the first
    request that walks past the route, which made a served worker's first API request
    take 0.5-0.8 s, its second 0.3 s (matching a path runs no handler). In-process test
    apps skip it: most of them never walk most routes."""
    for route in app.router.routes:
        scope: dict[str, Any] = {
            "type": "http",
            "path": "/.agentlog-warm-up",
            "method": "GET",
            "root_path": "",
            "headers": [],
            "query_string": b"",
        }
        route.matches(scope)
