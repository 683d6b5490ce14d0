"""A served worker builds FastAPI's per-route state before its first request, and runs no handler doing so."""

from __future__ import annotations

from pathlib import Path

import fastapi.routing
import pytest
from starlette.testclient import TestClient

from agentlog.server.app import create_app, warm_routes
from agentlog.server.settings import ServerSettings


def test_after_warm_up_a_request_builds_no_route_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = getattr(fastapi.routing, "_EffectiveRouteContext", None)
    if builder is None or not hasattr(builder, "from_api_route"):
        pytest.skip("this FastAPI builds its route state eagerly")
    app = create_app(ServerSettings(db=str(tmp_path / "server.db"), data_dir=tmp_path))
    warm_routes(app)
    built: list[str] = []
    original = builder.from_api_route

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(kwargs.get("original_route", args[0] if args else None).path)
        return original(*args, **kwargs)

    monkeypatch.setattr(builder, "from_api_route", counting)
    with TestClient(app) as client:
        assert client.get("/v1/sessions").status_code == 401  # routed, then refused
        assert client.post("/v1/events:batch", content=b"{}").status_code == 401
    assert built == []


def test_warm_up_runs_no_handler(tmp_path: Path) -> None:
    app = create_app(ServerSettings(db=str(tmp_path / "server.db"), data_dir=tmp_path))
    calls: list[str] = []

    @app.get("/{anything:path}", include_in_schema=False)
    def catch_all(anything: str) -> str:
        calls.append(anything)
        return anything

    warm_routes(app)
    assert calls == []
