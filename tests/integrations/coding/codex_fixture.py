"""A Codex CLI sessions directory in the rollout format (codex-rs `RolloutLine`, CLI 0.4x-0.6x).

One session: the injected environment context, a prompt, a response with
reasoning and two tool calls (the shell, an MCP tool), their outputs, an
answer closed by its `token_count` (repeated once, as Codex does), a huge
output, an aborted turn; and a sub-agent thread in a second rollout.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

SESSION = "0199a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"
CHILD = "0199a1b2-ffff-7e5f-8a6b-7c8d9e0f1a2b"
MODEL = "gpt-5-codex"
CWD = "/home/dev/billing"
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HUGE = 2 * 1024 * 1024


def _ts(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def line(seconds: float, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": _ts(seconds), "type": kind, "payload": payload}


def message(seconds: float, role: str, text: str) -> dict[str, Any]:
    kind = "output_text" if role == "assistant" else "input_text"
    return line(
        seconds,
        "response_item",
        {"type": "message", "role": role, "content": [{"type": kind, "text": text}]},
    )


def tokens(seconds: float, inp: int, cached: int, out: int, reasoning: int, total: int):
    usage = {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }
    return line(
        seconds,
        "event_msg",
        {
            "type": "token_count",
            "info": {
                "total_token_usage": dict(usage, total_tokens=total),
                "last_token_usage": usage,
                "model_context_window": 272000,
            },
            "rate_limits": None,
        },
    )


def main_lines() -> list[dict[str, Any]]:
    shell_out = orjson.dumps(
        {"output": "3 passed\n", "metadata": {"exit_code": 0, "duration_seconds": 1.2}}
    ).decode()
    return [
        line(
            0,
            "session_meta",
            {
                "id": SESSION,
                "timestamp": _ts(0),
                "cwd": CWD,
                "originator": "codex_cli_rs",
                "cli_version": "0.46.0",
                "instructions": None,
                "git": {"commit_hash": "abc123", "branch": "main", "repository_url": "x"},
            },
        ),
        line(0.1, "turn_context", {"cwd": CWD, "model": MODEL, "approval_policy": "on-request"}),
        message(0.2, "user", "<environment_context>\n  <cwd>/home/dev/billing</cwd>\n"),
        message(1, "user", "Why does the invoice test fail?"),
        line(1, "event_msg", {"type": "token_count", "info": None, "rate_limits": {}}),
        line(
            2,
            "response_item",
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA"},
        ),
        line(
            2.1,
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "arguments": '{"command":["bash","-lc","pytest -q"]}',
                "call_id": "call_SHELL",
            },
        ),
        line(
            2.2,
            "response_item",
            {
                "type": "function_call",
                "name": "linear__get_issue",
                "arguments": '{"id":"BIL-7"}',
                "call_id": "call_MCP",
            },
        ),
        tokens(2.3, 12_000, 10_000, 400, 256, 12_400),
        line(
            4,
            "response_item",
            {"type": "function_call_output", "call_id": "call_SHELL", "output": shell_out},
        ),
        line(
            4.5,
            "response_item",
            {
                "type": "function_call_output",
                "call_id": "call_MCP",
                "output": {"content": "BIL-7: rounding", "success": True},
            },
        ),
        message(6, "assistant", "The invoice rounds half-down."),
        tokens(6.1, 13_000, 12_000, 80, 0, 25_480),
        tokens(6.2, 13_000, 12_000, 80, 0, 25_480),  # Codex repeats the count
        message(10, "user", "Show me the log."),
        line(
            11,
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "arguments": '{"command":["cat","big.log"]}',
                "call_id": "call_BIG",
            },
        ),
        tokens(11.1, 13_500, 13_000, 30, 0, 39_010),
        line(
            12,
            "response_item",
            {"type": "function_call_output", "call_id": "call_BIG", "output": "y" * HUGE},
        ),
        line(13, "event_msg", {"type": "turn_aborted", "reason": "interrupted"}),
    ]


def child_lines() -> list[dict[str, Any]]:
    return [
        line(
            3,
            "session_meta",
            {
                "id": CHILD,
                "timestamp": _ts(3),
                "cwd": CWD,
                "originator": "codex_cli_rs",
                "cli_version": "0.46.0",
                "source": {"subagent": {"thread_spawn": {"parent_thread_id": SESSION}}},
            },
        ),
        line(3.1, "turn_context", {"cwd": CWD, "model": MODEL}),
        message(3.2, "user", "Review the rounding helper."),
        message(3.5, "assistant", "It truncates."),
        tokens(3.6, 2_000, 0, 20, 0, 2_020),
    ]


def dump(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in lines)


def write_sessions(root: Path) -> Path:
    day = root / "2026" / "11" / "25"
    day.mkdir(parents=True)
    (day / f"rollout-2026-11-25T10-00-03-{CHILD}.jsonl").write_bytes(dump(child_lines()))
    main = day / f"rollout-2026-11-25T10-00-00-{SESSION}.jsonl"
    main.write_bytes(dump(main_lines()))
    return main
