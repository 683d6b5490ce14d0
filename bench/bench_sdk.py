"""SDK benchmarks: the cost on the agent's thread, and sustained ingest until durable and searchable.

Each figure is printed beside its ceiling measured in the same run:

- per event call, p50/p99 on the agent's thread while the writer is busy,
  beside a bare `deque.append` of the same tuple timed the same way, and beside
  the peer users would pick instead: OpenTelemetry's own SDK recording one span
  with the same content per event (BatchSpanProcessor, in-memory exporter);
- 100,000 events through the SDK until `flush()` says they are durable and a
  search finds them, beside `bench.ceiling.raw_ingest_rate` (plain sqlite3,
  same indexes, FTS5 filled in 10,000-row transactions); and the durable-only
  rate beside the raw rate without FTS. Each ceiling is measured before and
  after the SDK run and the faster of the two is the one compared.

    .venv/bin/python bench/bench_sdk.py            # ~1-2 minutes on 2 cores
    .venv/bin/python bench/bench_sdk.py --events 20000 --calls 20000   # quick
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog import AgentLog
from agentlog.model import EventType, new_id
from agentlog.sdk import writer
from agentlog.storage import EventQuery, open_store
from bench.ceiling import RARE_WORD, make_events, raw_ingest_rate


def _percentile(sorted_values: list[int], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] / 1000.0


def hot_path(calls: int, tmp: Path) -> dict[str, float]:
    """Microseconds per `s.log(...)` and `s.llm_call(...)` with the writer draining behind."""
    content = "the deploy failed because the migration timed out " * 8  # 400 characters
    log = AgentLog(db=tmp / "hot.db", batch_size=500, flush_interval=0.5)
    s = log.session("hot path", agent_id="bench")
    clock = time.perf_counter_ns
    for _ in range(2000):  # warm up, and give the writer work
        s.log(content)
    log_ns = [0] * calls
    for i in range(calls):
        t0 = clock()
        s.log(content)
        log_ns[i] = clock() - t0
    busy_backlog = len(writer.QUEUE)
    llm_ns = [0] * calls
    for i in range(calls):
        t0 = clock()
        s.llm_call(
            "gpt-4o",
            prompt=content,
            response="ok",
            input_tokens=812,
            output_tokens=96,
            cost_usd=0.0031,
            duration_ms=840,
        )
        llm_ns[i] = clock() - t0
    # Ceiling: the same tuple appended to a bare deque, timed the same way.
    q: deque[tuple] = deque()
    append = q.append
    sink = object()
    sid = s.id
    ceiling_ns = [0] * calls
    for i in range(calls):
        t0 = clock()
        append(
            (
                sink,
                0,
                sid,
                new_id(),
                time.time_ns() // 1000,
                EventType.LOG,
                "bench",
                None,
                content,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
        )
        ceiling_ns[i] = clock() - t0
    bare_ns = [0] * calls
    for i in range(calls):
        t0 = clock()
        append(
            (
                sink,
                0,
                sid,
                "id",
                0,
                EventType.LOG,
                "bench",
                None,
                content,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
        )
        bare_ns[i] = clock() - t0
    # The peer is timed after ours, with its own exporter thread working behind it.
    otel_ns = otel_span_ns(calls, content)
    s.end()
    ok = log.close(timeout=600)
    store = open_store(str(tmp / "hot.db"))
    stored = store.count_events(EventQuery(session_id=sid))
    store.close()
    out = {
        "backlog_when_measured": busy_backlog,
        "durable": ok,
        "stored": stored,
        "expected": 2000 + 2 * calls,
    }
    for name, values in (
        ("log", log_ns),
        ("llm_call", llm_ns),
        ("append_with_id", ceiling_ns),
        ("bare_append", bare_ns),
        *((("otel_span", otel_ns),) if otel_ns else ()),
    ):
        values.sort()
        out[f"{name}_p50_us"] = _percentile(values, 0.50)
        out[f"{name}_p99_us"] = _percentile(values, 0.99)
        out[f"{name}_p999_us"] = _percentile(values, 0.999)
        out[f"{name}_mean_us"] = sum(values) / len(values) / 1000.0
    return out


def otel_span_ns(calls: int, content: str) -> list[int]:
    """Nanoseconds per span recorded by OpenTelemetry's SDK (empty when it is not installed)."""
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return []
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    clock = time.perf_counter_ns
    for _ in range(2000):
        tracer.start_span("log", attributes={"content": content, "agent": "bench"}).end()
    spans_ns = [0] * calls
    for i in range(calls):
        t0 = clock()
        tracer.start_span("log", attributes={"content": content, "agent": "bench"}).end()
        spans_ns[i] = clock() - t0
    provider.shutdown()
    return spans_ns


def ingest(n: int, tmp: Path, redact: bool = False) -> dict[str, float]:
    """Events/s through the SDK until durable (flush) and until searchable, beside raw sqlite3.

    With `redact`, the SDK masks the `@secrets` and `@email` presets and the `@secrets`
    metadata keys on its writer thread (`AgentLog(redact=…)`).
    """
    sid = new_id()
    events = make_events(n, sid, seed=1)
    expected_rare = sum(1 for e in events if RARE_WORD in (e.content or ""))
    # The ceilings are measured before and after the SDK run and the faster one
    # is used, so a noisy neighbour during one measurement cannot flatter the ratio.
    raw_fts = [raw_ingest_rate(events, fts=True)]
    raw_plain = [raw_ingest_rate(events, fts=False)]

    path = tmp / ("ingest-redacted.db" if redact else "ingest.db")
    masking: dict[str, Any] = (
        {"redact": ["@secrets", "@email"], "redact_keys": ["@secrets"]} if redact else {}
    )
    log = AgentLog(db=path, batch_size=1000, flush_interval=0.5, **masking)
    s = log.session("ingest", session_id=sid, agent_id="bench")
    s.log("open")  # the store is opened and the schema made before the clock starts
    log.flush(60)
    event = s.event
    t0 = time.perf_counter()
    for e in events:
        event(
            e.type,
            e.content,
            name=e.name,
            agent_id=e.agent_id,
            metadata=e.metadata or None,
            duration_ms=e.duration_ms,
            status=str(e.status),
            input_tokens=e.input_tokens,
            output_tokens=e.output_tokens,
            cost_usd=e.cost_usd,
            timestamp=e.timestamp,
        )
    enqueued = time.perf_counter() - t0
    durable_ok = log.flush(timeout=900)
    durable = time.perf_counter() - t0
    store = open_store(str(path))
    found = store.count_events(EventQuery(text=RARE_WORD))
    searchable = time.perf_counter() - t0
    stored = store.count_events(EventQuery(session_id=sid))
    store.close()
    log.close()
    raw_fts.append(raw_ingest_rate(events, fts=True))
    raw_plain.append(raw_ingest_rate(events, fts=False))
    return {
        "events": n,
        "stored": stored - 1,
        "durable_ok": durable_ok,
        "rare_found": found,
        "rare_expected": expected_rare,
        "enqueue_rate": n / enqueued,
        "sdk_durable_rate": n / durable,
        "sdk_searchable_rate": n / searchable,
        "raw_fts_rate": max(raw_fts),
        "raw_plain_rate": max(raw_plain),
        "raw_fts_runs": raw_fts,
        "raw_plain_runs": raw_plain,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--skip-hot", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument(
        "--redact",
        action="store_true",
        help="also run the ingest with AgentLog(redact=['@secrets', '@email']) beside it",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_hot:
            h = hot_path(args.calls, Path(tmp))
            print(
                f"hot path ({args.calls:,} calls each, writer backlog {h['backlog_when_measured']:,})"
            )
            names = ["log", "llm_call", "append_with_id", "bare_append"]
            names += ["otel_span"] if "otel_span_p50_us" in h else []
            for name in names:
                print(
                    f"  {name:<16} p50 {h[name + '_p50_us']:7.2f} µs   p99 {h[name + '_p99_us']:7.2f} µs"
                    f"   p99.9 {h[name + '_p999_us']:8.2f} µs   mean {h[name + '_mean_us']:6.2f} µs"
                )
            print(
                f"  s.log / append_with_id: p50 {h['log_p50_us'] / h['append_with_id_p50_us']:.2f}x,"
                f" p99 {h['log_p99_us'] / h['append_with_id_p99_us']:.2f}x"
            )
            if "otel_span_p50_us" in h:
                print(
                    f"  s.log / OpenTelemetry SDK span (BatchSpanProcessor): "
                    f"p50 {h['log_p50_us'] / h['otel_span_p50_us']:.2f}x,"
                    f" p99 {h['log_p99_us'] / h['otel_span_p99_us']:.2f}x"
                )
            print(f"  all durable: {h['durable']} ({h['stored']:,} of {h['expected']:,} stored)")
        if not args.skip_ingest:
            r = ingest(args.events, Path(tmp))
            if args.redact:
                masked = ingest(args.events, Path(tmp), redact=True)
                print(
                    f"  redacting (@secrets, @email, key @secrets): durable "
                    f"{masked['sdk_durable_rate']:,.0f} events/s beside "
                    f"{r['sdk_durable_rate']:,.0f} without "
                    f"({masked['sdk_durable_rate'] / r['sdk_durable_rate']:.0%}); "
                    f"enqueue {masked['enqueue_rate']:,.0f} vs {r['enqueue_rate']:,.0f} events/s"
                )
            print(
                f"ingest of {r['events']:,} events (stored {r['stored']:,}, durable={r['durable_ok']},"
                f" rare word found {r['rare_found']} of {r['rare_expected']})"
            )
            print(f"  enqueue on the agent thread   {r['enqueue_rate']:10,.0f} events/s")
            print(
                f"  SDK durable + searchable      {r['sdk_searchable_rate']:10,.0f} events/s"
                f"   raw sqlite3 + FTS5 {r['raw_fts_rate']:10,.0f}/s"
                f"   ratio {r['sdk_searchable_rate'] / r['raw_fts_rate']:.0%}"
            )
            print(
                f"  SDK durable only              {r['sdk_durable_rate']:10,.0f} events/s"
                f"   raw sqlite3 no FTS {r['raw_plain_rate']:10,.0f}/s"
                f"   ratio {r['sdk_durable_rate'] / r['raw_plain_rate']:.0%}"
            )
            fts_runs = ", ".join(f"{x:,.0f}" for x in r["raw_fts_runs"])
            plain_runs = ", ".join(f"{x:,.0f}" for x in r["raw_plain_runs"])
            print(f"  ceilings before/after: FTS5 {fts_runs}/s; no FTS {plain_runs}/s")


if __name__ == "__main__":
    main()
