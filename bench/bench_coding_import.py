"""Coding-agent import: `import --from claude-code` of a transcripts directory vs NDJSON import.

    .venv/bin/python bench/bench_coding_import.py --mb 100

Builds a Claude Code projects directory of about `--mb` MB under bench/out/
(sessions of prompts, assistant turns written one line per content block,
tool calls with multi-kilobyte outputs, sub-agent files), then, each in its
own process so its peak RSS is its own, with `AGENTLOG_HOME` in a temp dir:

1. `import_coding(store, "claude-code", DIR)` into a fresh store (secrets
   masked, the default), and again with `redact=False`;
2. the ceiling: the same events exported by `agentlog export --format ndjson`
   and imported with `import_file` into a fresh store (AgentLog's own import of
   exactly those rows).

Prints events/s for each, the ratio to the ceiling (the issue asks >= 70%)
and each process's peak RSS (the transcripts are streamed: it stays flat as
the directory grows).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

OUT = ROOT / "bench" / "out"
WORDS = [
    *("def", "return", "import", "self", "value", "error", "cart", "total", "round"),
    *("test", "fixture", "assert", "request", "response", "token", "cache", "model"),
    *("file", "path", "line", "print", "json", "config", "session", "event", "store"),
    *("write", "read", "index", "query", "order", "user", "agent", "tool"),
]


def _text(rng: random.Random, size: int) -> str:
    words = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    return " ".join(words)


def _line(
    sid: str, session_no: int, turn: int, clock: list, kind: str, message: dict, **extra: object
) -> dict:
    clock[0] += 1
    clock[1] += 0.7
    at = clock[1]
    rec = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/proj",
        "sessionId": sid,
        "version": "2.0.14",
        "gitBranch": "main",
        "type": kind,
        "message": message,
        "uuid": f"{session_no:08x}-{clock[0]:04x}-4000-8000-{turn:012x}",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))
        + f".{int(at * 1000) % 1000:03d}Z",
    }
    rec.update(extra)
    return rec


def build(root: Path, megabytes: int, seed: int = 7) -> tuple[int, int]:
    """A projects directory of about `megabytes` MB; returns (files, bytes)."""
    rng = random.Random(seed)
    pool = [_text(rng, rng.randint(1500, 6000)) for _ in range(200)]
    target = megabytes * 1024 * 1024
    written = files = 0
    session_no = 0
    while written < target:
        session_no += 1
        sid = f"{session_no:08x}-0000-4000-8000-000000000000"
        project = root / f"-home-dev-proj{session_no % 7}"
        project.mkdir(parents=True, exist_ok=True)
        path = project / f"{sid}.jsonl"
        clock = [0, 1_764_000_000.0 + session_no * 10_000]  # line number, time
        with path.open("wb") as out:
            for turn in range(200):
                lines = []
                usage = {
                    "input_tokens": 8,
                    "cache_read_input_tokens": 20_000 + turn * 100,
                    "cache_creation_input_tokens": 500,
                    "output_tokens": 150,
                }
                msg_id = f"msg_{session_no}_{turn}"
                lines.append(
                    _line(
                        sid,
                        session_no,
                        turn,
                        clock,
                        "user",
                        {"role": "user", "content": pool[turn % 200][:300]},
                    )
                )
                for k, block in enumerate(
                    (
                        {"type": "text", "text": pool[(turn + 1) % 200][:600]},
                        {
                            "type": "tool_use",
                            "id": f"toolu_{session_no}_{turn}_a",
                            "name": "Bash",
                            "input": {"command": "pytest -q"},
                        },
                        {
                            "type": "tool_use",
                            "id": f"toolu_{session_no}_{turn}_b",
                            "name": "mcp__github__search_issues",
                            "input": {"q": "cart"},
                        },
                    )
                ):
                    lines.append(
                        _line(
                            sid,
                            session_no,
                            turn,
                            clock,
                            "assistant",
                            {
                                "model": "claude-sonnet-4-5-20250929",
                                "id": msg_id,
                                "role": "assistant",
                                "content": [block],
                                "usage": usage,
                            },
                            requestId=f"req_{k}",
                        )
                    )
                lines.append(
                    _line(
                        sid,
                        session_no,
                        turn,
                        clock,
                        "user",
                        {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": f"toolu_{session_no}_{turn}_a",
                                    "content": pool[(turn * 7) % 200],
                                },
                                {
                                    "type": "tool_result",
                                    "tool_use_id": f"toolu_{session_no}_{turn}_b",
                                    "content": pool[(turn * 13) % 200],
                                },
                            ],
                        },
                    )
                )
                data = b"".join(orjson.dumps(r) + b"\n" for r in lines)
                out.write(data)
                written += len(data)
        files += 1
    return files, written


def child(mode: str, db: str, source: str) -> None:
    """Run one import in this process; print seconds, events and peak RSS as JSON."""
    from agentlog.integrations.coding.importer import import_coding
    from agentlog.storage import open_store
    from agentlog.transfer.importer import import_file

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    started = time.perf_counter()
    with open_store(db) as store:
        if mode == "ndjson":
            report = import_file(store, source)
        else:
            report = import_coding(store, "claude-code", source, redact=mode == "claude")
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "events": report.events.imported,
                "rejected": report.rejected,
                "cpu": usage.ru_utime + usage.ru_stime - cpu_before,
                "rss_mb": usage.ru_maxrss / 1024,
            }
        )
    )


def run(mode: str, db: Path, source: Path, home: Path) -> dict:
    env = dict(os.environ, AGENTLOG_HOME=str(home))
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(db), str(source)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DB", "SOURCE"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    source = OUT / f"claude-projects-{args.mb}mb"
    if not source.exists():
        files, size = build(source, args.mb)
        print(f"built {source}: {files} transcripts, {size / 1e6:.0f} MB")
    size = sum(p.stat().st_size for p in source.rglob("*.jsonl"))
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        work = Path(tmp)
        redacted = run("claude", work / "a.db", source, work / "home-a")
        plain = run("claude-plain", work / "b.db", source, work / "home-b")
        ndjson = work / "same-events.ndjson"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "agentlog",
                "--db",
                str(work / "b.db"),
                "export",
                "--all",
                "--format",
                "ndjson",
                "-o",
                str(ndjson),
            ],
            check=True,
            env=dict(os.environ, AGENTLOG_HOME=str(work / "home-b")),
        )
        ceiling = run("ndjson", work / "c.db", ndjson, work / "home-c")
    print(
        f"transcripts: {size / 1e6:.0f} MB, {redacted['events']:,} events; load {os.getloadavg()}"
    )
    for name, res in (
        ("import --from claude-code (secrets masked)", redacted),
        ("import --from claude-code --no-redact", plain),
        ("ceiling: import of the same events as NDJSON", ceiling),
    ):
        print(
            f"{name}: wall {res['seconds']:.1f} s ({res['events'] / res['seconds']:,.0f} ev/s, "
            f"{ceiling['seconds'] / res['seconds']:.0%} of the ceiling), "
            f"cpu {res['cpu']:.1f} s ({ceiling['cpu'] / res['cpu']:.0%} of the ceiling), "
            f"peak RSS {res['rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
