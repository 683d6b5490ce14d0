"""What one running app holds: the store, the accounts, auth, limits, streams, metrics."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from agentlog.server.auth import Authenticator
from agentlog.server.broker import Broker
from agentlog.server.metrics import Metrics
from agentlog.server.ratelimit import Limiter
from agentlog.server.redisguard import RedisGuard
from agentlog.server.settings import ServerSettings
from agentlog.server.tokens import KeyRing
from agentlog.server.usage import UsageCounter
from agentlog.storage.accounts import AccountStore
from agentlog.storage.base import Store

MAX_WAITING_OTLP_WRITES = 16


@dataclass
class ServerState:
    settings: ServerSettings
    store: Store
    accounts: AccountStore
    keyring: KeyRing
    auth: Authenticator
    limiter: Limiter
    broker: Broker
    metrics: Metrics
    usage: UsageCounter
    redis: RedisGuard = field(default_factory=lambda: RedisGuard(""))
    owns_store: bool = True
    oidc: Any = None  # web/oidc.py's Provider, made on the first OIDC sign-in
    # OTLP writes waiting for the store; past this many, 503 + Retry-After (never accept and drop).
    otlp_slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(MAX_WAITING_OTLP_WRITES)
    )
