"""OTLP fixtures: a store in the test's directory and `otel receive`'s server over it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentlog.otel.receiver import OTLPReceiver
from agentlog.storage import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "otel.db"))
    yield s
    s.close()


@pytest.fixture
def receiver(store: Store) -> Iterator[OTLPReceiver]:
    """The local OTLP/HTTP receiver on an ephemeral loopback port, writing to `store`."""
    server = OTLPReceiver(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
