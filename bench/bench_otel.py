"""OTLP/HTTP ingest into the local store vs. its ceiling (parse + map + Store.write, no HTTP).

Run: .venv/bin/python bench/bench_otel.py [--spans 20000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from agentlog.otel.decode import decode_protobuf
from agentlog.otel.ingest import ingest
from agentlog.otel.mapping import map_spans
from agentlog.otel.receiver import OTLPReceiver
from agentlog.storage import EventQuery, open_store

# The exporter process: POSTs each stored body in turn, one connection per request, each
# answered after commit (what urllib and the OTel SDK's exporter do).
SENDER = """
import sys, time, urllib.request
url, path, started = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
bodies, at = [], 0
while at < len(data):
    size = int.from_bytes(data[at:at + 4], "big")
    bodies.append(data[at + 4:at + 4 + size])
    at += 4 + size
open(started, "w").write(repr(time.time()))
for body in bodies:
    request = urllib.request.Request(url + "/v1/traces", data=body, method="POST")
    request.add_header("Content-Type", "application/x-protobuf")
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert answer.status == 200
"""

BATCH = 500  # spans per request (the SDK BatchSpanProcessor's default export size is 512)


def make_bodies(total: int, tag: str) -> list[bytes]:
    bodies = []
    for b in range(0, total, BATCH):
        req = ExportTraceServiceRequest()
        spans = req.resource_spans.add().scope_spans.add().spans
        for i in range(b, min(total, b + BATCH)):
            s = spans.add()
            s.trace_id = (tag + f"{i // 10:024x}").encode()[:16].ljust(16, b"0")
            s.span_id = i.to_bytes(8, "big")
            if i % 10:
                s.parent_span_id = (i - i % 10).to_bytes(8, "big")
            s.name = "chat gpt-4o"
            s.start_time_unix_nano = 1_700_000_000_000_000_000 + i * 1000
            s.end_time_unix_nano = s.start_time_unix_nano + 5_000_000
            for k, v in (
                ("gen_ai.operation.name", "chat"),
                ("gen_ai.request.model", "gpt-4o"),
                ("gen_ai.input.messages", "what is the weather in Paris " * 4),
            ):
                s.attributes.append(KeyValue(key=k, value=AnyValue(string_value=v)))
            s.attributes.append(
                KeyValue(key="gen_ai.usage.input_tokens", value=AnyValue(int_value=42))
            )
        bodies.append(req.SerializeToString())
    return bodies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=20_000)
    n = parser.parse_args().spans
    tmp = tempfile.mkdtemp(prefix="otel-bench-")
    # Ceiling: the same bodies decoded, mapped and written straight into a store.
    store = open_store(os.path.join(tmp, "ceiling.db"))
    bodies = make_bodies(n, "a")
    t0 = time.perf_counter()
    for body in bodies:
        ingest(store, decode_protobuf(body))
    ceiling = n / (time.perf_counter() - t0)
    store.close()
    # The receiver over HTTP, each request answered after commit, then searchable. The
    # exporter is another process, as a real one is (in this process its Python would
    # compete with the receiver's for the GIL).
    store = open_store(os.path.join(tmp, "http.db"))
    server = OTLPReceiver(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    bodies_path = os.path.join(tmp, "bodies.bin")
    with open(bodies_path, "wb") as out:
        for body in make_bodies(n, "b"):
            out.write(len(body).to_bytes(4, "big") + body)
    started = os.path.join(tmp, "started")
    sender = subprocess.Popen([sys.executable, "-c", SENDER, server.url, bodies_path, started])
    if sender.wait(timeout=900) != 0:
        raise SystemExit("the sender failed")
    with open(started) as f:
        t0 = float(f.read())  # time.time() just before its first request
    stored = store.count_events(EventQuery())
    rate = n / (time.time() - t0)
    server.shutdown()
    server.server_close()
    store.close()
    print(f"spans: {n:,} in requests of {BATCH}; stored events: {stored:,}")
    print(f"ceiling (decode + map + Store.write): {ceiling:,.0f} spans/s")
    print(f"OTLP/HTTP receiver until committed:   {rate:,.0f} spans/s ({rate / ceiling:.0%})")
    # Where the ceiling's time goes: decoding and mapping alone, CPU time, best of 3.
    decoded = [[decode_protobuf(b) for b in make_bodies(n, "c")] for _ in range(3)]
    best = float("inf")
    for spans in decoded:
        t = time.process_time()
        for batch in spans:
            map_spans(batch)
        best = min(best, time.process_time() - t)
    print(f"of which mapping alone (CPU):         {n / best:,.0f} spans/s")


if __name__ == "__main__":
    main()
