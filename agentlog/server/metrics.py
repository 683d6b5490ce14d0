"""Prometheus metrics for `/metrics`: one registry per app, so tests and workers never collide.

With one process (tests, `agentlog serve` with one worker) each app keeps its
counters in its own in-process registry. With several workers `agentlog serve`
gives them a private PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess
mode): every worker writes its values to files there and whichever worker
answers a scrape reads them all (MultiProcessCollector), so /metrics always
shows the whole server. Counters and histograms add up across workers, and
a dead worker's counts stay counted; each gauge says what its sum means.
"""

from __future__ import annotations

import glob
import os
import re
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The directory the workers share, when prometheus_client runs in multiprocess mode.

    prometheus_client decides once, when it is imported, from the environment:
    `agentlog serve --workers N` sets the variable before it starts the workers."""
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower())


class Metrics:
    def __init__(self) -> None:
        self.multiprocess_dir = multiprocess_dir()
        # `registry` is what /metrics renders. In multiprocess mode the metrics below
        # are not registered on it (their values live in the shared files); the
        # MultiProcessCollector reads those files for every live and dead worker.
        self.registry = CollectorRegistry()
        own = None if self.multiprocess_dir else self.registry
        self.requests = Counter(
            "agentlog_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "agentlog_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=own,
        )
        self.events_ingested = Counter(
            "agentlog_events_ingested_total", "Events accepted by write requests.", registry=own
        )
        self.events_rejected = Counter(
            "agentlog_events_rejected_total", "Events rejected by write requests.", registry=own
        )
        self.auth_failures = Counter(
            "agentlog_auth_failures_total",
            "Requests refused for missing or bad credentials.",
            registry=own,
        )
        self.rate_limited = Counter(
            "agentlog_rate_limited_total", "Requests refused by a rate limit.", registry=own
        )
        # Each worker counts its own connections: the server's total is their sum.
        self.stream_clients = Gauge(
            "agentlog_stream_clients",
            "Open /v1/events/stream connections.",
            registry=own,
            multiprocess_mode="livesum",
        )
        self.db_errors = Counter(
            "agentlog_db_errors_total",
            "Requests that failed because the database could not be reached, read or written.",
            registry=own,
        )
        self.pools = PoolCollector(shared=self.multiprocess_dir is not None)
        if self.multiprocess_dir:
            MultiProcessCollector(self.registry, path=self.multiprocess_dir)
        else:
            self.registry.register(self.pools)
        # A collector that reads state all workers share (the store's contents, Redis)
        # goes on `self.registry` in both modes: the one worker answering a scrape
        # reports it once. Only per-process values go through the shared files.

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (the middleware calls this after each)."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        self.pools.publish_now_and_then()

    def render(self) -> bytes:
        if self.multiprocess_dir:
            self.pools.publish()
            _forget_dead_workers(self.multiprocess_dir)
        return generate_latest(self.registry)

    def close(self) -> None:
        """A worker that stops takes its live gauges out of the sums (its counts stay)."""
        if self.multiprocess_dir:
            mark_process_dead(os.getpid(), self.multiprocess_dir)


_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db$")


def _forget_dead_workers(path: str) -> None:
    """Drop the live gauges of workers that died without stopping (killed, crashed):
    uvicorn starts a replacement, and the dead one's open streams must not stay counted."""
    for pid in {
        int(m[1])
        for f in glob.glob(os.path.join(path, "gauge_live*.db"))
        if (m := _LIVE_GAUGE_FILE.search(f))
    }:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, path)
        except PermissionError:
            pass  # alive, someone else's (cannot happen in our 0700 directory)


class PoolCollector(Collector):
    """Connection-pool gauges from each PostgreSQL store's psycopg pool.

    In one process they are read at scrape time. With several workers each worker
    has its own pools, so each publishes its figures to the shared files (at a scrape
    it answers, and at most once a second while it serves requests) and a scrape shows
    the server's sums: connections lent out, open, allowed at most (what the database
    may see from this server) and requests waiting; timeouts count up."""

    PUBLISH_EVERY = 1.0

    def __init__(self, shared: bool = False) -> None:
        self._owners: dict[str, Any] = {}
        self._published = 0.0
        self._timeouts_seen: dict[str, int] = {}
        self._shared: dict[str, Any] | None = None
        if shared:

            def gauge(name: str, doc: str) -> Gauge:
                return Gauge(name, doc, ["pool"], registry=None, multiprocess_mode="livesum")

            self._shared = {
                "in_use": gauge("agentlog_db_pool_in_use", "Pooled connections lent out."),
                "size": gauge("agentlog_db_pool_size", "Connections open in the pool."),
                "max": gauge("agentlog_db_pool_max", "Most connections the pool may open."),
                "waiting": gauge("agentlog_db_pool_waiting", "Requests waiting for a connection."),
                "timeouts": Counter(
                    "agentlog_db_pool_timeouts",
                    "Requests that got no connection in time (answered 503).",
                    ["pool"],
                    registry=None,
                ),
            }

    def watch(self, name: str, owner: Any) -> None:
        """Report `owner`'s pool as `pool="name"` (a SQLite store has none and is skipped)."""
        # The PostgreSQL stores keep their psycopg_pool.ConnectionPool as `_pool`;
        # reading it here keeps the storage layer free of Prometheus.
        if hasattr(getattr(owner, "_pool", None), "get_stats"):
            self._owners[name] = owner

    def _stats(self) -> Iterator[tuple[str, dict[str, int]]]:
        for name, owner in self._owners.items():
            pool = owner._pool
            if not pool.closed:
                yield name, pool.get_stats()

    def publish_now_and_then(self) -> None:
        due = time.monotonic() - self._published >= self.PUBLISH_EVERY
        if self._shared is not None and self._owners and due:
            self.publish()

    def publish(self) -> None:
        """Write this worker's pool figures to the shared files (multiprocess mode only)."""
        if self._shared is None:
            return
        self._published = time.monotonic()
        shared = self._shared
        for name, stats in self._stats():
            shared["in_use"].labels(name).set(
                stats.get("pool_size", 0) - stats.get("pool_available", 0)
            )
            shared["size"].labels(name).set(stats.get("pool_size", 0))
            shared["max"].labels(name).set(stats.get("pool_max", 0))
            shared["waiting"].labels(name).set(stats.get("requests_waiting", 0))
            errors = stats.get("requests_errors", 0)
            new = errors - self._timeouts_seen.get(name, 0)
            if new > 0:
                shared["timeouts"].labels(name).inc(new)
            self._timeouts_seen[name] = errors

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
        for name, stats in self._stats():
            in_use.add_metric([name], stats.get("pool_size", 0) - stats.get("pool_available", 0))
            size.add_metric([name], stats.get("pool_size", 0))
            most.add_metric([name], stats.get("pool_max", 0))
            waiting.add_metric([name], stats.get("requests_waiting", 0))
            timeouts.add_metric([name], stats.get("requests_errors", 0))
        yield from (in_use, size, most, waiting, timeouts)
