"""Encryption at rest: `Store.write` and a page read with event content and metadata sealed, beside the same store in clear.

    .venv/bin/python bench/bench_encryption.py [--events 20000] [--rounds 3]

Each round writes the same events (`bench.ceiling.make_events`, 200–2,000 characters of
content) into a fresh SQLite store in clear and into one sealed with a Fernet key
(`agentlog.storage.encrypted`), 1,000 per `write`, then reads every event back in pages
of 500; the best round of each is reported, with the sealed figure as a ratio of the
clear one (the ceiling), and the database sizes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog.model import Session, new_id
from agentlog.storage.base import EventQuery, iter_events
from agentlog.storage.encrypted import encrypted, new_key
from agentlog.storage.sqlite.store import SQLiteStore
from bench.ceiling import make_events


def one_round(n: int, tmp: Path, key: str | None) -> tuple[float, float, int]:
    """(write events/s, read events/s, bytes on disk) for one fresh store."""
    sid = new_id()
    events = make_events(n, sid, seed=1)
    path = tmp / f"{'sealed' if key else 'clear'}-{new_id()}.db"
    store = SQLiteStore(path)
    sealed = encrypted(store, key) if key else store
    sealed.write([Session(id=sid, title="bench")], [])
    t0 = time.perf_counter()
    for start in range(0, n, 1000):
        sealed.write([], events[start : start + 1000])
    wrote = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    count = sum(1 for _ in iter_events(sealed, EventQuery(session_id=sid), page_size=500))
    read = count / (time.perf_counter() - t0)
    assert count == n
    sealed.close()
    size = sum(p.stat().st_size for p in tmp.glob(path.name + "*"))
    return wrote, read, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    key = new_key()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        clear = [one_round(args.events, tmp, None) for _ in range(1)]
        sealed = []
        for _ in range(args.rounds):  # alternated, so the load falls on both alike
            sealed.append(one_round(args.events, tmp, key))
            clear.append(one_round(args.events, tmp, None))
    cw, cr, cs = max(c[0] for c in clear), max(c[1] for c in clear), clear[-1][2]
    sw, sr, ss = max(s[0] for s in sealed), max(s[1] for s in sealed), sealed[-1][2]
    print(f"{args.events:,} events, best of {args.rounds} rounds each")
    print(f"write  clear {cw:10,.0f} ev/s   sealed {sw:10,.0f} ev/s   {sw / cw:.0%}")
    print(f"read   clear {cr:10,.0f} ev/s   sealed {sr:10,.0f} ev/s   {sr / cr:.0%}")
    print(f"disk   clear {cs / 1e6:8.1f} MB     sealed {ss / 1e6:8.1f} MB     {ss / cs:.2f}x")


if __name__ == "__main__":
    main()
