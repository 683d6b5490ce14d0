"""An in-process AgentLog server for tests: the app over a fresh SQLite file, a team, an admin and a key.

Used by the server tests and by the storage contract suite's "remote"
backend (a `RemoteStore` over the app through Starlette's TestClient, so
every Store method goes through real HTTP requests, routing and auth).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi import FastAPI
from starlette.testclient import TestClient

from agentlog.server import service
from agentlog.server.app import create_app
from agentlog.server.settings import ServerSettings
from agentlog.storage.accounts import AccountStore, Role, Team
from agentlog.storage.remote import RemoteStore

BASE_URL = "http://testserver"


def _httpx(client: TestClient) -> httpx.Client:
    """Starlette's TestClient speaks httpx.Client's interface (request, headers, close)
    without being declared one; RemoteStore needs nothing more."""
    return cast(httpx.Client, client)


@dataclass
class TestServer:
    app: FastAPI
    client: TestClient
    accounts: AccountStore
    team: Team
    admin_key: service.NewKey

    def remote_store(self, api_key: str | None = None, **options: Any) -> RemoteStore:
        options.setdefault("backoff", 0.01)
        return RemoteStore(
            BASE_URL,
            api_key=api_key or self.admin_key.secret,
            client=_httpx(self.client),
            **options,
        )

    def close(self) -> None:
        self.client.__exit__(None, None, None)  # runs the app's shutdown: closes its store


def _fresh_server(tmp: Path, **settings: Any) -> TestServer:
    tmp.mkdir(parents=True, exist_ok=True)
    settings.setdefault("data_dir", tmp)
    app = create_app(ServerSettings(db=str(tmp / "server.db"), **settings))
    accounts: AccountStore = app.state.agentlog.accounts
    team = service.team_for(accounts, "main", create=True)
    admin = accounts.create_user("admin@example.com", None, Role.OWNER, team.id)
    key = service.create_key(accounts, admin, team, "tests")
    client = TestClient(app, base_url=BASE_URL)
    client.__enter__()
    return TestServer(app, client, accounts, team, key)


class _ServerBackedStore(RemoteStore):
    server: TestServer

    def close(self) -> None:
        super().close()
        self.server.close()


_TEMPLATE: dict[str, tuple[Path, service.NewKey]] = {}


def start_test_server(tmp: Path, **settings: Any) -> TestServer:
    """A running in-process app with team "main", admin admin@example.com and an API key.

    Each server gets its own copy of a database made once per process, so a test
    pays for a file copy instead of every migration.
    """
    import shutil
    import tempfile

    if "db" not in _TEMPLATE:
        first = _fresh_server(Path(tempfile.mkdtemp(prefix="agentlog-template-")))
        first.close()  # the last connection closing folds the WAL into the file
        _TEMPLATE["db"] = (Path(first.app.state.agentlog.settings.db), first.admin_key)
    template, key = _TEMPLATE["db"]
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, tmp / "server.db")
    settings.setdefault("data_dir", tmp)
    app = create_app(ServerSettings(db=str(tmp / "server.db"), **settings))
    accounts: AccountStore = app.state.agentlog.accounts
    client = TestClient(app, base_url=BASE_URL)
    client.__enter__()
    return TestServer(app, client, accounts, accounts.team_by_name("main"), key)


def remote_store(tmp: Path) -> RemoteStore:
    """A RemoteStore over a fresh in-process server, seeing every team (admin, `team="*"`).

    Closing it stops the server. Rate limits are off so the contract suite runs at full speed.
    """
    server = start_test_server(tmp / "remote-server", rate_limit_per_minute=0)
    store = _ServerBackedStore(
        BASE_URL,
        api_key=server.admin_key.secret,
        client=_httpx(server.client),
        team="*",
        backoff=0.01,
    )
    store.server = server
    return store


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The app under a real uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        import threading

        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
