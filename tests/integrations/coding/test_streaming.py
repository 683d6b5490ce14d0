"""A transcript is streamed: the importer's memory does not grow with the file."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import orjson

from agentlog.integrations.coding.importer import import_coding
from agentlog.storage import open_store
from tests.integrations.coding import claude_fixture as fx

OUTPUT = "x" * 6000  # bytes of tool output per turn


def transcript(path: Path, turns: int) -> None:
    """`turns` prompt / response / tool call / result rounds in one session file."""
    with path.open("wb") as out:
        for turn in range(turns):
            n = 4 * turn + 1
            call = f"toolu_{turn:06d}"
            usage = fx.usage(5, 50, read=10_000)
            lines = [
                fx.line("user", n, turn, {"role": "user", "content": f"step {turn}"}),
                fx.line(
                    "assistant",
                    n + 1,
                    turn + 0.1,
                    fx.assistant(
                        f"msg_{turn}",
                        {"type": "tool_use", "id": call, "name": "Bash", "input": {"n": turn}},
                        usage,
                    ),
                ),
                fx.line(
                    "user",
                    n + 2,
                    turn + 0.2,
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": call, "content": OUTPUT}
                        ],
                    },
                ),
            ]
            for rec in lines:
                rec["uuid"] = f"{turn:08x}-{lines.index(rec):04x}-4000-8000-000000000000"
            out.write(b"".join(orjson.dumps(r) + b"\n" for r in lines))


def peak_while_importing(tmp_path: Path, turns: int) -> tuple[int, int]:
    path = tmp_path / f"{turns}" / f"{fx.SESSION}.jsonl"
    path.parent.mkdir()
    transcript(path, turns)
    with open_store(str(tmp_path / f"{turns}.db")) as store:
        tracemalloc.start()
        try:
            report = import_coding(store, "claude-code", path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert report.ok and report.events.imported == 4 * turns
    return path.stat().st_size, peak


def test_memory_stays_flat_as_the_transcript_grows(tmp_path) -> None:
    small_size, small = peak_while_importing(tmp_path, 400)
    big_size, big = peak_while_importing(tmp_path, 1600)
    assert big_size > 3.5 * small_size  # ~2.6 MB against ~10 MB of transcript
    assert big < small * 1.5, (small, big)  # a whole-file reader would need 4x


def test_a_100_mb_transcript_imports_in_the_memory_of_a_20_mb_one(tmp_path, monkeypatch) -> None:
    """The issue's own size: one 100 MB transcript (a 1 MB tool output per turn, so the test
    stays quick), its Python heap peak beside a 20 MB one's."""
    monkeypatch.setattr(f"{__name__}.OUTPUT", "y" * 1_000_000)
    small_size, small = peak_while_importing(tmp_path, 20)
    big_size, big = peak_while_importing(tmp_path, 100)
    assert big_size > 100_000_000 and small_size > 20_000_000
    # A reader holding the file (or every event of it) would need 80 MB more; a streaming one,
    # the same: it writes every ~8 MB read, at a turn boundary.
    assert big < small + 5_000_000, (small, big)
