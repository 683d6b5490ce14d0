"""Portability benchmark: export, import and migrate, each beside its ceiling measured in the same run.

    .venv/bin/python bench/bench_portability.py --events 1000000
    .venv/bin/python bench/bench_portability.py --events 200000 --server-events 50000
    .venv/bin/python bench/bench_portability.py --parts postgres --postgres-url postgresql://postgres@127.0.0.1:5432/test

- export: NDJSON (also CSV and JSON) of the whole store vs a bare `sqlite3`
  SELECT of the same rows written with orjson; each run in its own process
  so its peak RSS is its own.
- mmap: the NDJSON export and `bench_store.py pages search` with the store's
  `mmap_size` at 1 GiB, 256 MiB, 64 MiB and 0 (`--mmap` sets it for any part).
- import: the NDJSON file into an empty store until durable and searchable
  (a full-text query answers) vs `bench.ceiling.raw_ingest_rate` with the
  same indexes and FTS5 filled in 10,000-row transactions.
- migrate: `Migration` to a local `agentlog serve --dev` vs that server's own
  batch ingest (POST /v1/events:batch, 1,000 events per request, bodies
  prepared beforehand), each into a fresh server database; and `Migration`
  straight into PostgreSQL vs `PostgresStore.write` of the same batches.

The source store is built once under bench/out/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from bench.ceiling import BASE_TIME, RARE_WORD, make_events, raw_ingest_rate  # noqa: E402

OUT = ROOT / "bench" / "out"
COLUMNS = (
    "id",
    "session_id",
    "ts",
    "type",
    "agent_id",
    "name",
    "status",
    "parent_id",
    "duration_ms",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "metadata",
    "content",
)


def session_id(k: int) -> str:
    return f"01940000-0000-7000-8000-{k:012d}"


def build(path: Path, events: int, per_session: int) -> None:
    """A store with `events` events in sessions of `per_session` (reused when already built)."""
    from agentlog.model import Session
    from agentlog.storage.base import EventQuery
    from agentlog.storage.sqlite.store import SQLiteStore

    if path.exists():
        store = SQLiteStore(path)
        try:
            if store.count_events(EventQuery()) == events:
                return
        finally:
            store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    store = SQLiteStore(path)
    started = time.perf_counter()
    try:
        for k in range(events // per_session):
            start = BASE_TIME + timedelta(minutes=k)
            session = Session(
                id=session_id(k),
                title=f"bench session {k}",
                created_at=start,
                updated_at=start,
                tags=["bench"],
            )
            batch = make_events(per_session, session.id, seed=k, start=start)
            for lo in range(0, per_session, 1000):
                store.write([session] if lo == 0 else [], batch[lo : lo + 1000])
            if k % 50 == 0:
                print(
                    f"  built {k * per_session:,} events ({time.perf_counter() - started:.0f}s)",
                    file=sys.stderr,
                    flush=True,
                )
        store.count_events(EventQuery(text=RARE_WORD))  # bring the full-text index up to date
    finally:
        store.close()


class AnonPeak:
    """Samples this process's anonymous RSS (heap: what the code itself holds) every 20 ms.

    The peak RSS (VmHWM) also counts file pages that SQLite's memory map of the
    database (`mmap_size`, 1 GiB in the store) brings in while reading: shared,
    clean and reclaimable, and the same for any reader of the file.
    """

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                self.peak_kb = max(self.peak_kb, int(line.split()[1]))

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self._sample()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return self.peak_kb / 1024


def set_mmap(mmap: int | None) -> None:
    """The store's memory map for this process (None: the store's default)."""
    if mmap is not None:
        import agentlog.storage.sqlite.conn as conn

        conn.MMAP_BYTES = mmap


def child(argv: list[str], mmap: int | None = None) -> dict:
    """Run one measurement in this (fresh) process; print seconds, count and peak RSS."""
    what, src, dest = argv[0], Path(argv[1]), Path(argv[2])
    set_mmap(mmap)
    anon = AnonPeak()
    started = time.perf_counter()
    if what == "ceiling-export":
        import sqlite3

        conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        n = 0
        with open(dest, "wb", buffering=1 << 20) as fh:
            for row in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events"):
                fh.write(orjson.dumps(dict(zip(COLUMNS, row, strict=True))) + b"\n")
                n += 1
        conn.close()
    elif what == "store-read":
        # What reading every event through the Store protocol costs, before any formatting.
        from agentlog.storage.sqlite.store import SQLiteStore
        from agentlog.transfer.export import Selection, iter_selected

        store = SQLiteStore(src)
        n = sum(
            len(page) for _, pages in iter_selected(store, Selection(all=True)) for page in pages
        )
        store.close()
    elif what == "store-records":
        # The same through `list_event_records`, the export's read path.
        from agentlog.storage.sqlite.store import SQLiteStore
        from agentlog.transfer.export import Selection, iter_selected_records

        store = SQLiteStore(src)
        n = sum(
            len(page)
            for _, pages in iter_selected_records(store, Selection(all=True))
            for page in pages
        )
        store.close()
    elif what.startswith("export-"):
        from agentlog.storage.sqlite.store import SQLiteStore
        from agentlog.transfer.export import Selection, export

        store = SQLiteStore(src)
        n = export(store, Selection(all=True), what.removeprefix("export-"), dest).events
        store.close()
    elif what == "import":
        from agentlog.storage.base import EventQuery
        from agentlog.storage.sqlite.store import SQLiteStore
        from agentlog.transfer.importer import import_file

        for suffix in ("", "-wal", "-shm"):
            Path(str(dest) + suffix).unlink(missing_ok=True)
        store = SQLiteStore(dest)
        report = import_file(store, src)
        store.count_events(EventQuery(text=RARE_WORD))  # searchable: the index is current
        n = report.events.imported
        assert report.ok, report.to_dict()
        store.close()
    else:
        raise SystemExit(f"unknown measurement {what}")
    seconds = time.perf_counter() - started
    return {
        "what": what,
        "events": n,
        "seconds": seconds,
        "rate": n / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "peak_anon_mb": anon.stop(),
    }


def peak_rss_mb() -> float:
    """This process's own peak RSS. ru_maxrss would carry the forking parent's over exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MMAP: int | None = None  # --mmap, passed on to every measurement


def measure(what: str, src: Path, dest: Path, mmap: int | None = None) -> dict:
    mmap = MMAP if mmap is None else mmap
    extra = [] if mmap is None else ["--mmap", str(mmap)]
    proc = subprocess.run(
        [sys.executable, __file__, "--child", what, str(src), str(dest), *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["bytes"] = dest.stat().st_size if dest.exists() else None
    result["mmap"] = mmap
    print(
        f"  {what:16} {result['events']:>9,} events {result['seconds']:7.1f}s "
        f"{result['rate']:>9,.0f}/s  peak RSS {result['peak_rss_mb']:.0f} MB "
        f"(anonymous {result['peak_anon_mb']:.0f} MB)",
        file=sys.stderr,
        flush=True,
    )
    return result


def ceiling_import(src: Path, work: Path) -> tuple[float, float]:
    """raw_ingest_rate over the same events, and SQLiteStore.write of them already validated.

    The second figure is the store's own rate in 1,000-event batches (the
    batch limit): an import cannot be faster than the store it writes to.
    """
    from agentlog.storage.base import EventQuery, iter_events
    from agentlog.storage.sqlite.store import SQLiteStore

    store = SQLiteStore(src)
    try:
        events = list(iter_events(store, EventQuery(order="asc")))
    finally:
        store.close()
    rate = raw_ingest_rate(events, fts=True, txn_rows=10_000)
    print(
        f"  ceiling-import   {len(events):>9,} events            {rate:>9,.0f}/s",
        file=sys.stderr,
        flush=True,
    )
    path = work / "store-write.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    target = SQLiteStore(path)
    started = time.perf_counter()
    for lo in range(0, len(events), 1000):
        target.write([], events[lo : lo + 1000])
    target.count_events(EventQuery(text=RARE_WORD))
    store_rate = len(events) / (time.perf_counter() - started)
    target.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    print(
        f"  store-write      {len(events):>9,} events            {store_rate:>9,.0f}/s",
        file=sys.stderr,
        flush=True,
    )
    return rate, store_rate


MMAP_SIZES = (1 << 30, 256 << 20, 64 << 20, 0)


def mmap_comparison(src: Path) -> dict:
    """The NDJSON export and the store's page/search benchmarks at each mmap_size, same run."""
    out: dict = {}
    for mmap in MMAP_SIZES:
        ceiling = measure("ceiling-export", src, OUT / "ceiling.ndjson")
        export = measure("export-ndjson", src, OUT / "export.ndjson", mmap)
        code = (
            "import runpy, sys; sys.path.insert(0, sys.argv[1]); "
            "import agentlog.storage.sqlite.conn as c; c.MMAP_BYTES = int(sys.argv[2]); "
            "sys.argv = [sys.argv[3], 'pages', 'search']; runpy.run_path(sys.argv[0], run_name='__main__')"
        )
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                str(ROOT),
                str(mmap),
                str(ROOT / "bench" / "bench_store.py"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"bench_store at mmap {mmap} failed:\n{proc.stderr}")
        store_lines = [
            line
            for line in (proc.stdout + proc.stderr).splitlines()
            if line.startswith("- page of 100") or line.startswith("- search")
        ]
        for line in store_lines:
            print(f"    {line}", file=sys.stderr, flush=True)
        out[str(mmap)] = {
            "ceiling": ceiling,
            "export": export,
            "ratio": export["rate"] / ceiling["rate"],
            "store": store_lines,
        }
    return out


# ---------------------------------------------------------------- server
class Server:
    def __init__(self, db: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        env = {**os.environ, "AGENTLOG_HOME": str(db.parent / "server-home")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentlog",
                "serve",
                "--dev",
                "--port",
                str(self.port),
                "--db",
                str(db),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import httpx

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("agentlog serve did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def server_rates(src: Path, work: Path) -> dict:
    """Migrate to a fresh `agentlog serve` vs POSTing the same batches to a fresh one."""
    import httpx

    from agentlog.storage.base import SessionQuery, iter_sessions
    from agentlog.storage.remote import RemoteStore
    from agentlog.storage.sqlite.store import SQLiteStore
    from agentlog.transfer.migrate import Migration, session_batches
    from agentlog.transfer.rebuild import plain_session
    from agentlog.transfer.records import event_record, session_record

    source = SQLiteStore(src)
    bodies: list[bytes] = []
    total = 0
    for summary in iter_sessions(source, SessionQuery(sort="created_at", order="asc")):
        first = True
        for batch in session_batches(source, summary.id, None):
            rows = [session_record(plain_session(summary))] if first else []
            bodies.append(
                orjson.dumps({"sessions": rows, "events": [event_record(e) for e in batch]})
            )
            total += len(batch)
            first = False

    def post_all() -> float:
        server = Server(work / "server-ceiling.db")
        try:
            with httpx.Client(base_url=server.url, timeout=120) as client:
                started = time.perf_counter()
                for body in bodies:
                    client.post(
                        "/v1/events:batch",
                        content=body,
                        headers={"content-type": "application/json"},
                    ).raise_for_status()
                rate = total / (time.perf_counter() - started)
        finally:
            server.stop()
        print(
            f"  server-ceiling   {total:>9,} events            {rate:>9,.0f}/s",
            file=sys.stderr,
            flush=True,
        )
        return rate

    first_ceiling = post_all()

    server = Server(work / "server-migrate.db")
    try:
        target = RemoteStore(server.url)
        home = work / "migrate-home"
        os.environ["AGENTLOG_HOME"] = str(home)  # the checkpoint lives in the data dir
        migration = Migration(source, target)
        started = time.perf_counter()
        report = migration.run(verify=False)
        seconds = time.perf_counter() - started
        migration.close()
        verify_started = time.perf_counter()
        migration = Migration(source, target)
        checked = migration.verify(repair=False)
        verify_seconds = time.perf_counter() - verify_started
        migration.close()
        target.close()
    finally:
        server.stop()
        source.close()
    rate = report.events_inserted / seconds
    # The ceiling again after the migration, so load changes during the run show.
    ceiling = max(first_ceiling, post_all())
    print(
        f"  migrate-server   {report.events_inserted:>9,} events {seconds:7.1f}s {rate:>9,.0f}/s "
        f"(verify {checked.verified} sessions in {verify_seconds:.1f}s, {len(checked.mismatches)} differ)",
        file=sys.stderr,
        flush=True,
    )
    return {
        "events": total,
        "ceiling": ceiling,
        "migrate": rate,
        "ratio": rate / ceiling,
        "verify_seconds": verify_seconds,
        "verified": checked.verified,
        "mismatches": len(checked.mismatches),
    }


def postgres_rates(src: Path, url: str, work: Path) -> dict:
    """Migrate into a fresh PostgreSQL schema vs PostgresStore.write of the same batches."""
    os.environ["AGENTLOG_TEST_POSTGRES_URL"] = url
    from agentlog.storage.base import SessionQuery, iter_sessions
    from agentlog.storage.postgres.testing import temporary_store
    from agentlog.storage.sqlite.store import SQLiteStore
    from agentlog.transfer.migrate import Migration, session_batches
    from agentlog.transfer.rebuild import plain_session

    source = SQLiteStore(src)
    batches = []
    for summary in iter_sessions(source, SessionQuery(sort="created_at", order="asc")):
        for i, batch in enumerate(session_batches(source, summary.id, None)):
            batches.append(([plain_session(summary)] if i == 0 else [], batch))
    total = sum(len(b) for _, b in batches)
    target = temporary_store()
    try:
        started = time.perf_counter()
        for rows, batch in batches:
            target.write(rows, batch)
        ceiling = total / (time.perf_counter() - started)
    finally:
        target.close()
    print(
        f"  pg-store-write   {total:>9,} events            {ceiling:>9,.0f}/s",
        file=sys.stderr,
        flush=True,
    )
    target = temporary_store()
    try:
        os.environ["AGENTLOG_HOME"] = str(work / "migrate-pg-home")
        migration = Migration(source, target)
        started = time.perf_counter()
        report = migration.run(verify=False)
        seconds = time.perf_counter() - started
        migration.close()
    finally:
        target.close()
        source.close()
    rate = report.events_inserted / seconds
    print(
        f"  migrate-pg       {report.events_inserted:>9,} events {seconds:7.1f}s {rate:>9,.0f}/s",
        file=sys.stderr,
        flush=True,
    )
    return {"events": total, "ceiling": ceiling, "migrate": rate, "ratio": rate / ceiling}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-session", type=int, default=1000)
    parser.add_argument(
        "--server-events",
        type=int,
        default=100_000,
        help="events for the migrate-to-server part (0 skips it)",
    )
    parser.add_argument(
        "--parts",
        default="export,import,server",
        help="comma list of the parts to run: export, mmap, import, server, postgres",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("AGENTLOG_TEST_POSTGRES_URL"),
        help="PostgreSQL for the 'postgres' part (a throwaway schema is used)",
    )
    parser.add_argument(
        "--mmap",
        type=int,
        default=None,
        help="the store's mmap_size in bytes for every measurement (default: the store's)",
    )
    parser.add_argument("--child", nargs=3, metavar=("WHAT", "SRC", "DEST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.mmap)))
        return
    global MMAP
    MMAP = args.mmap
    OUT.mkdir(parents=True, exist_ok=True)
    src = OUT / f"portability-{args.events}.db"
    print(f"source store {src} ({args.events:,} events)", file=sys.stderr, flush=True)
    build(src, args.events, args.per_session)

    parts = set(args.parts.split(","))
    results: dict = {"events": args.events}
    if "export" in parts:
        print("export", file=sys.stderr, flush=True)
        ceiling = measure(
            "ceiling-export", src, OUT / "ceiling.ndjson"
        )  # first: it warms the cache
        store_read = measure("store-read", src, OUT / "none")
        store_records = measure("store-records", src, OUT / "none")
        ndjson = measure("export-ndjson", src, OUT / "export.ndjson")
        results["export"] = {
            "ceiling": ceiling,
            "store_read": store_read,
            "store_records": store_records,
            "ndjson": ndjson,
            "csv": measure("export-csv", src, OUT / "export.csv"),
            "json": measure("export-json", src, OUT / "export.json"),
            "ndjson_ratio": ndjson["rate"] / ceiling["rate"],
            "ndjson_vs_store_read": ndjson["rate"] / store_read["rate"],
        }
    if "mmap" in parts:
        print("mmap_size comparison", file=sys.stderr, flush=True)
        results["mmap"] = mmap_comparison(src)
    if "import" in parts:
        print("import", file=sys.stderr, flush=True)
        if "export" not in parts:
            measure("export-ndjson", src, OUT / "export.ndjson")
        imported = measure("import", OUT / "export.ndjson", OUT / "imported.db")
        raw, store_write = ceiling_import(src, OUT)
        results["import"] = {
            "import": imported,
            "ceiling": raw,
            "store_write": store_write,
            "ratio": imported["rate"] / raw,
            "vs_store_write": imported["rate"] / store_write,
        }
    if "server" in parts and args.server_events:
        print("migrate to agentlog serve", file=sys.stderr, flush=True)
        small = OUT / f"portability-{args.server_events}.db"
        build(small, args.server_events, args.per_session)
        results["server"] = server_rates(small, OUT)
    if "postgres" in parts and args.server_events and args.postgres_url:
        print("migrate to PostgreSQL", file=sys.stderr, flush=True)
        small = OUT / f"portability-{args.server_events}.db"
        build(small, args.server_events, args.per_session)
        results["postgres"] = postgres_rates(small, args.postgres_url, OUT)
    for name in ("ceiling.ndjson", "export.ndjson", "export.csv", "export.json"):
        (OUT / name).unlink(missing_ok=True)
    out = OUT / f"portability-results-{args.events}-{'-'.join(sorted(parts))}.json"
    out.write_text(json.dumps(results, indent=2))
    summary = {}
    if "export" in results:
        summary["export_ndjson_ratio"] = round(results["export"]["ndjson_ratio"], 3)
        summary["export_ndjson_vs_store_read"] = round(results["export"]["ndjson_vs_store_read"], 3)
        summary["export_store_records_ratio"] = round(
            results["export"]["store_records"]["rate"] / results["export"]["ceiling"]["rate"], 3
        )
        for fmt in ("csv", "json"):
            summary[f"export_{fmt}_ratio"] = round(
                results["export"][fmt]["rate"] / results["export"]["ceiling"]["rate"], 3
            )
        summary["export_ndjson_peak_rss_mb"] = round(results["export"]["ndjson"]["peak_rss_mb"])
        summary["export_ndjson_peak_anon_mb"] = round(results["export"]["ndjson"]["peak_anon_mb"])
    if "mmap" in results:
        for mmap, r in results["mmap"].items():
            summary[f"mmap_{mmap}_export_ratio"] = round(r["ratio"], 3)
            summary[f"mmap_{mmap}_export_peak_rss_mb"] = round(r["export"]["peak_rss_mb"])
    if "import" in results:
        summary["import_ratio"] = round(results["import"]["ratio"], 3)
        summary["import_vs_store_write"] = round(results["import"]["vs_store_write"], 3)
    for part in ("server", "postgres"):
        if part in results:
            summary[f"{part}_ratio"] = round(results[part]["ratio"], 3)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
