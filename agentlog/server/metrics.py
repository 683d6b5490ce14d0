"""Prometheus metrics for `/metrics`: one registry per app, so tests and workers never collide."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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

    def render(self) -> bytes:
        return generate_latest(self.registry)
