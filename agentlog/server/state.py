"""What one running app holds: the store, the accounts, auth, limits, streams, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from agentlog.server.auth import Authenticator
from agentlog.server.broker import Broker
from agentlog.server.metrics import Metrics
from agentlog.server.ratelimit import Limiter
from agentlog.server.settings import ServerSettings
from agentlog.server.tokens import KeyRing
from agentlog.server.usage import UsageCounter
from agentlog.storage.accounts import AccountStore
from agentlog.storage.base import Store


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
    owns_store: bool = True
