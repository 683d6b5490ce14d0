"""Issue 21: validation of 1,000-event bodies as the server does it, in the source tree given.

`parse_batch` + `validate_events` (JSON bytes to what the route hands its store),
thread CPU, best of 9, beside `orjson.loads` of the same bytes in the same process:
the share of the parse is what load on a shared machine cannot move. Run it from
several trees in turn to compare them (each tree's own `agentlog` is imported):

    git archive 256c64f | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before .venv/bin/python bench/bench_validation.py /tmp/before
    .venv/bin/python bench/bench_validation.py .
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

tree = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
sys.path.insert(0, str(tree))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from agentlog.model import Session  # noqa: E402
from agentlog.server.ingest import parse_batch, validate_events  # noqa: E402
from bench.bench_ingest import bodies_for, build_events  # noqa: E402


def main() -> None:
    session = Session(title="validation bench")
    events = build_events(5000, False, session.id)
    bodies = bodies_for(session, events)[1:]  # the session rides with the first
    n = sum(len(orjson.loads(b)["events"]) for b in bodies)
    best_v = best_p = float("inf")
    for _ in range(9):
        t = time.thread_time()
        for body in bodies:
            _, raw = parse_batch(body)
            good, _, errors = validate_events(raw)
            assert not errors and len(good) == 1000
        best_v = min(best_v, time.thread_time() - t)
        t = time.thread_time()
        for body in bodies:
            orjson.loads(body)
        best_p = min(best_p, time.thread_time() - t)
    print(
        f"{tree}: validation {n / best_v:,.0f} events/s, orjson.loads {n / best_p:,.0f} events/s,"
        f" share of the parse {best_p / best_v:.3f}"
    )


if __name__ == "__main__":
    main()
