"""The reliability suite reuses the server tests' world: a server, its teams and their people."""

from tests.server.conftest import srv, world

__all__ = ["srv", "world"]
