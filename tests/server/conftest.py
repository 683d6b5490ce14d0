"""Server fixtures: a fresh in-process app per test, with two teams and a user of every role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.server.testing import TestServer, start_test_server
from agentlog.storage.accounts import Role
from tests.support.server import Who, World, add_user


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[TestServer]:
    server = start_test_server(tmp_path / "srv")
    yield server
    server.close()


@pytest.fixture
def world(srv: TestServer) -> World:
    admin = Who(srv.accounts.user_by_email("admin@example.com"), srv.admin_key.secret)
    member = add_user(srv, "member@example.com", Role.MEMBER, "main")
    viewer = add_user(srv, "viewer@example.com", Role.VIEWER, "main")
    other = add_user(srv, "other@example.com", Role.MEMBER, "other")
    return World(srv, admin, member, viewer, other, other.user.team_id)
