"""Full-text search beside simonw's `llm` log store (sqlite-utils + FTS5) on the same content.

`llm` is a peer, never a dependency: it runs from its own virtual environment, made once from
`bench/requirements-peers.txt`, and this script drives it as a subprocess:

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install -r bench/requirements-peers.txt
    .venv/bin/python bench/bench_llm_fts.py --llm-python /tmp/peers/bin/python [--events 50000]

(or set AGENTLOG_PEER_LLM_PYTHON; `python -m bench` runs this script only then). Both stores get
the same texts: `bench.ceiling.make_events` content (English-like, with a common, a medium and a
rare marker word) plus one event in 200 carrying a sentence in Chinese, Japanese or Arabic.
AgentLog stores them as events (`Store.write`, full-text index caught up); `llm` stores them
through its own migrations as logged prompts and responses (`turn_search` and its FTS5 table,
as `llm logs` writes them) and answers the way `llm logs -q` does (FTS5 MATCH, bm25 order).

For each query: the first page of 10 (median of 20 runs, in-process on both sides: the SQL
of each, no CLI start-up) and correctness — how many of the page's hits really contain the
query (case-insensitive substring), and whether a page came back at all when matches exist.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agentlog.model import Event, EventType, Session
from agentlog.storage import EventQuery, open_store
from bench.ceiling import COMMON_WORD, MEDIUM_WORD, RARE_WORD, make_events

PAGE = 10
RUNS = 20
SENTENCES = (
    "部署失败是因为数据库迁移超时",  # zh: the deploy failed because the migration timed out
    "デプロイはマイグレーションのタイムアウトで失敗しました",  # ja
    "فشل النشر بسبب انتهاء مهلة الترحيل",  # ar
)
QUERIES = (
    COMMON_WORD,
    MEDIUM_WORD,
    RARE_WORD,
    "迁移超时",  # zh, inside a run of Han characters with no spaces
    "タイムアウト",  # ja katakana inside a sentence
    "الترحيل",  # ar word
    "deploy-failed",  # punctuation a user types
    'c++ "quoted',  # FTS5 syntax characters
)

PEER_SCRIPT = r"""
import json, statistics, sys, time, sqlite3
import sqlite_utils
from llm.migrations import migrate
from llm.logs import TURN_SEARCH_RANK
db_path, texts_path, queries_path, page, runs = sys.argv[1:6]
page, runs = int(page), int(runs)
db = sqlite_utils.Database(db_path)
migrate(db)
texts = json.load(open(texts_path))
t0 = time.perf_counter()
with db.conn:
    db.conn.executemany(
        "insert into turn_search (id, turn_id, prompt, response) values (?, ?, ?, ?)",
        [(i + 1, f"t{i}", "", text) for i, text in enumerate(texts)],
    )
insert_s = time.perf_counter() - t0
sql = (
    "select turn_search.response from turn_search"
    " join turn_search_fts on turn_search_fts.rowid = turn_search.id"
    f" where turn_search_fts match :query order by {TURN_SEARCH_RANK} limit {page}"
)
out = {"insert_s": insert_s, "queries": {}}
for q in json.load(open(queries_path)):
    try:
        rows = [r[0] for r in db.conn.execute(sql, {"query": q})]
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            db.conn.execute(sql, {"query": q}).fetchall()
            times.append(time.perf_counter() - t)
        out["queries"][q] = {"ms": statistics.median(times) * 1000, "hits": rows}
    except sqlite3.Error as exc:
        out["queries"][q] = {"error": str(exc).splitlines()[0]}
print(json.dumps(out))
"""


def texts_for(n: int) -> list[str]:
    """The contents both stores get: realistic event text, one in 200 in CJK or Arabic."""
    rng = random.Random(11)
    base = [e.content or "" for e in make_events(n, Session().id, seed=3)]
    return [f"{t} {rng.choice(SENTENCES)}" if i % 200 == 0 else t for i, t in enumerate(base)]


def agentlog_side(texts: list[str], tmp: Path) -> dict[str, object]:
    """Write the texts as events, then time each query's first page through the Store."""
    store = open_store(str(tmp / "agentlog.db"))
    session = Session(title="fts bench")
    t0 = time.perf_counter()
    for i in range(0, len(texts), 1000):
        store.write(
            [session] if i == 0 else [],
            [
                Event(session_id=session.id, type=EventType.LOG, content=t)
                for t in texts[i : i + 1000]
            ],
        )
    store.flush_index()
    insert_s = time.perf_counter() - t0
    out: dict[str, object] = {"insert_s": insert_s, "queries": {}}
    queries: dict[str, object] = {}
    for q in QUERIES:
        query = EventQuery(text=q, limit=PAGE)
        hits = [e.content or "" for e in store.list_events(query).items]
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            store.list_events(query)
            times.append(time.perf_counter() - t)
        queries[q] = {"ms": statistics.median(times) * 1000, "hits": hits}
    out["queries"] = queries
    store.close()
    return out


def llm_side(python: str, texts: list[str], tmp: Path) -> dict[str, object]:
    """The same texts and queries in `llm`'s own schema, in its own interpreter."""
    (tmp / "texts.json").write_text(json.dumps(texts))
    (tmp / "queries.json").write_text(json.dumps(QUERIES))
    (tmp / "peer.py").write_text(PEER_SCRIPT)
    done = subprocess.run(
        [
            python,
            str(tmp / "peer.py"),
            str(tmp / "llm.db"),
            str(tmp / "texts.json"),
            str(tmp / "queries.json"),
            str(PAGE),
            str(RUNS),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return json.loads(done.stdout)


def judged(result: dict[str, object], query: str, expected: int) -> str:
    """'ms, correct/returned' for one side and query, or its error."""
    answer = result["queries"][query]  # type: ignore[index]
    if "error" in answer:
        return f"error: {answer['error'][:40]}"
    hits = answer["hits"]
    needle = query.strip('"').casefold()
    correct = sum(1 for h in hits if needle in h.casefold())
    wanted = min(PAGE, expected)
    return f"{answer['ms']:6.2f} ms  {correct}/{wanted} right"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--llm-python", default=os.environ.get("AGENTLOG_PEER_LLM_PYTHON", ""))
    args = ap.parse_args()
    if not args.llm_python or not Path(args.llm_python).exists():
        sys.exit(
            "no llm to compare with: make a venv from bench/requirements-peers.txt and pass its "
            "bin/python as --llm-python (or AGENTLOG_PEER_LLM_PYTHON)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="agentlog-bench-llm-"))
    texts = texts_for(args.events)
    ours = agentlog_side(texts, tmp)
    theirs = llm_side(args.llm_python, texts, tmp)
    print(
        f"{args.events:,} texts; first page of {PAGE}, median of {RUNS}; 'right' = hits that "
        "contain the query, of the page that matches exist for"
    )
    print(f"write + index: AgentLog {ours['insert_s']:.1f} s, llm {theirs['insert_s']:.1f} s")
    print(f"{'query':<16} {'AgentLog':<28} {'llm (sqlite-utils FTS5)':<28} {'matches':>8}")
    for q in QUERIES:
        needle = q.strip('"').casefold()
        expected = sum(1 for t in texts if needle in t.casefold())
        print(
            f"{q:<16} {judged(ours, q, expected):<28} {judged(theirs, q, expected):<28} "
            f"{expected:>8}"
        )

    def right(result: dict[str, object], q: str) -> bool:
        answer = result["queries"][q]  # type: ignore[index]
        if "error" in answer:
            return False
        needle = q.strip('"').casefold()
        expected = sum(1 for t in texts if needle in t.casefold())
        return sum(1 for h in answer["hits"] if needle in h.casefold()) == min(PAGE, expected)

    both = [q for q in QUERIES if right(ours, q) and right(theirs, q)]
    print(
        f"answered right: AgentLog {sum(right(ours, q) for q in QUERIES)} of {len(QUERIES)} "
        f"queries, llm {sum(right(theirs, q) for q in QUERIES)} of {len(QUERIES)}"
    )
    if both:
        ratio = statistics.median(
            ours["queries"][q]["ms"] / theirs["queries"][q]["ms"]  # type: ignore[index]
            for q in both
        )
        print(
            f"first page: AgentLog at {ratio:.2f}× llm's time "
            "(median over the queries both answer right)"
        )


if __name__ == "__main__":
    main()
