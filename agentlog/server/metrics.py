"""Prometheus metrics for `/metrics`: one registry per app, so tests and workers never collide."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "agentlog_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "agentlog_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.events_ingested = Counter(
            "agentlog_events_ingested_total",
            "Events accepted by write requests.",
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "agentlog_events_rejected_total",
            "Events rejected by write requests.",
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "agentlog_auth_failures_total",
            "Requests refused for missing or bad credentials.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "agentlog_rate_limited_total",
            "Requests refused by a rate limit.",
            registry=self.registry,
        )
        self.stream_clients = Gauge(
            "agentlog_stream_clients", "Open /v1/events/stream connections.", registry=self.registry
        )

        self.db_errors = Counter(
            "agentlog_db_errors_total",
            "Requests that failed because the database could not be reached, read or written.",
            registry=self.registry,
        )
        self.pools = PoolCollector()
        self.registry.register(self.pools)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class PoolCollector(Collector):
    """Connection-pool gauges read at scrape time from each PostgreSQL store's psycopg pool."""

    def __init__(self) -> None:
        self._owners: dict[str, Any] = {}

    def watch(self, name: str, owner: Any) -> None:
        """Report `owner`'s pool as `pool="name"` (a SQLite store has none and is skipped)."""
        # The PostgreSQL stores keep their psycopg_pool.ConnectionPool as `_pool`;
        # reading it here keeps the storage layer free of Prometheus.
        if hasattr(getattr(owner, "_pool", None), "get_stats"):
            self._owners[name] = owner

    def describe(self) -> list[Metric]:
        return []  # collected on demand; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        in_use = GaugeMetricFamily(
            "agentlog_db_pool_in_use", "Pooled connections lent out.", labels=["pool"]
        )
        size = GaugeMetricFamily(
            "agentlog_db_pool_size", "Connections open in the pool.", labels=["pool"]
        )
        most = GaugeMetricFamily(
            "agentlog_db_pool_max", "Most connections the pool may open.", labels=["pool"]
        )
        waiting = GaugeMetricFamily(
            "agentlog_db_pool_waiting", "Requests waiting for a connection.", labels=["pool"]
        )
        timeouts = CounterMetricFamily(
            "agentlog_db_pool_timeouts",
            "Requests that got no connection in time (answered 503).",
            labels=["pool"],
        )
        for name, owner in self._owners.items():
            pool = owner._pool
            if pool.closed:
                continue
            stats = pool.get_stats()
            in_use.add_metric([name], stats.get("pool_size", 0) - stats.get("pool_available", 0))
            size.add_metric([name], stats.get("pool_size", 0))
            most.add_metric([name], stats.get("pool_max", 0))
            waiting.add_metric([name], stats.get("requests_waiting", 0))
            timeouts.add_metric([name], stats.get("requests_errors", 0))
        yield from (in_use, size, most, waiting, timeouts)
