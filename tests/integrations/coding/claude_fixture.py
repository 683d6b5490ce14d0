"""A Claude Code projects directory written to the transcript format (Claude Code 2.0/2.1 lines).

One project, one session: a prompt; an assistant turn whose text and two
tool_use blocks (Bash, an MCP tool) are three lines sharing `message.id`, with
prompt-cache usage; results, one of them huge and one holding secrets; a
background Task whose sub-agent lives in `<session>/subagents/agent-<id>.jsonl`;
a turn interrupted by the user; a summary line and a file-history snapshot.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

SESSION = "7f3c1a52-9d0e-4b8a-8c61-2e5f4a9b0c11"
AGENT = "a1b2c3d"
CWD = "/home/dev/shop-api"
BRANCH = "feature/cart"
MODEL = "claude-sonnet-4-5-20250929"
T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
SECRET_KEY = "sk-ant-api03-" + "Z" * 40
SECRET_ENV = "hunter2-prod-db-pass"
SECRET_PEM = "MIIEowIBAAKCAQEA7secretkeymaterial"
HUGE = 2 * 1024 * 1024  # bytes of tool output, twice the event content limit


def _ts(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _uuid(n: int, prefix: str = "0000") -> str:
    return f"{prefix}{n:04d}-1111-4222-8333-444455556666"


def line(kind: str, n: int, seconds: float, message: Any, **extra: Any) -> dict[str, Any]:
    rec = {
        "parentUuid": _uuid(n - 1) if n > 1 else None,
        "isSidechain": False,
        "userType": "external",
        "cwd": CWD,
        "sessionId": SESSION,
        "version": "2.0.14",
        "gitBranch": BRANCH,
        "type": kind,
        "message": message,
        "uuid": _uuid(n),
        "timestamp": _ts(seconds),
    }
    rec.update(extra)
    return rec


def usage(inp: int, out: int, read: int = 0, write: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
        "output_tokens": out,
        "service_tier": "standard",
    }


def assistant(msg_id: str, block: dict[str, Any], use: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": MODEL,
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "content": [block],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": use,
    }


def main_lines() -> list[dict[str, Any]]:
    u1 = usage(12, 310, read=18_000, write=2_000)
    env = f"DATABASE_PASSWORD={SECRET_ENV}\nSTRIPE_KEY={SECRET_KEY}\nDEBUG=1\n"
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{SECRET_PEM}\n-----END RSA PRIVATE KEY-----\n"
    return [
        {"type": "summary", "summary": "Fix the cart total rounding", "leafUuid": _uuid(14)},
        line("user", 1, 0, {"role": "user", "content": "The cart total is off by a cent."}),
        line(
            "assistant",
            2,
            3,
            assistant("msg_01A", {"type": "text", "text": "Let me look at the tests."}, u1),
            requestId="req_01A",
        ),
        line(
            "assistant",
            3,
            3.1,
            assistant(
                "msg_01A",
                {
                    "type": "tool_use",
                    "id": "toolu_01BASH",
                    "name": "Bash",
                    "input": {"command": "cat .env && pytest -q"},
                },
                u1,
            ),
            requestId="req_01A",
        ),
        line(
            "assistant",
            4,
            3.2,
            assistant(
                "msg_01A",
                {
                    "type": "tool_use",
                    "id": "toolu_01MCP",
                    "name": "mcp__github__search_issues",
                    "input": {"q": "cart rounding"},
                },
                u1,
            ),
            requestId="req_01A",
        ),
        line(
            "user",
            5,
            5,
            {
                "role": "user",
                "content": [
                    {"tool_use_id": "toolu_01BASH", "type": "tool_result", "content": env + pem},
                    {
                        "tool_use_id": "toolu_01MCP",
                        "type": "tool_result",
                        "content": [{"type": "text", "text": "#42 cart rounding"}],
                    },
                ],
            },
        ),
        {"type": "file-history-snapshot", "messageId": _uuid(5), "snapshot": {}},
        line(
            "assistant",
            6,
            7,
            assistant(
                "msg_02B",
                {
                    "type": "tool_use",
                    "id": "toolu_02TASK",
                    "name": "Task",
                    "input": {
                        "description": "Audit rounding",
                        "prompt": "Find every place that rounds money.",
                        "subagent_type": "Explore",
                        "run_in_background": True,
                    },
                },
                usage(4, 90, read=20_000),
            ),
        ),
        line(
            "user",
            7,
            30,
            {
                "role": "user",
                "content": [
                    {
                        "tool_use_id": "toolu_02TASK",
                        "type": "tool_result",
                        "content": [{"type": "text", "text": "Two places round money."}],
                    }
                ],
            },
            toolUseResult={"status": "completed", "agentId": AGENT, "totalTokens": 5000},
        ),
        line(
            "assistant",
            8,
            32,
            assistant(
                "msg_03C",
                {"type": "tool_use", "id": "toolu_03READ", "name": "Read", "input": {"path": "x"}},
                usage(3, 40, read=21_000),
            ),
        ),
        line(
            "user",
            9,
            33,
            {
                "role": "user",
                "content": [
                    {"tool_use_id": "toolu_03READ", "type": "tool_result", "content": "x" * HUGE}
                ],
            },
        ),
        line(
            "assistant",
            10,
            35,
            assistant(
                "msg_04D",
                {
                    "type": "tool_use",
                    "id": "toolu_04EDIT",
                    "name": "Edit",
                    "input": {"path": "cart.py"},
                },
                usage(3, 60, read=22_000),
            ),
        ),
        line(
            "user",
            11,
            36,
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_04EDIT",
                        "is_error": True,
                        "content": "The user doesn't want to proceed with this tool use.",
                    }
                ],
            },
        ),
        line(
            "user",
            12,
            36.5,
            {
                "role": "user",
                "content": [{"type": "text", "text": "[Request interrupted by user]"}],
            },
        ),
    ]


def subagent_lines() -> list[dict[str, Any]]:
    common = {"isSidechain": True, "agentId": AGENT}
    return [
        line(
            "user",
            101,
            8,
            {"role": "user", "content": "Find every place that rounds money."},
            **common,
        ),
        line(
            "assistant",
            102,
            9,
            assistant(
                "msg_S1",
                {"type": "tool_use", "id": "toolu_S1GREP", "name": "Grep", "input": {"q": "round"}},
                usage(5, 50, read=3_000, write=1_000),
            ),
            **common,
        ),
        line(
            "user",
            103,
            10,
            {
                "role": "user",
                "content": [
                    {"tool_use_id": "toolu_S1GREP", "type": "tool_result", "content": "cart.py:12"}
                ],
            },
            **common,
        ),
        line(
            "assistant",
            104,
            12,
            assistant(
                "msg_S2",
                {"type": "text", "text": "Two places round money."},
                usage(5, 20, read=4_000),
            ),
            **common,
        ),
    ]


def dump(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in lines)


def write_project(root: Path) -> Path:
    """`root/-home-dev-shop-api/` with the session and its sub-agent; returns the session file."""
    project = root / "-home-dev-shop-api"
    sub = project / SESSION / "subagents"
    sub.mkdir(parents=True)
    (sub / f"agent-{AGENT}.jsonl").write_bytes(dump(subagent_lines()))
    main = project / f"{SESSION}.jsonl"
    main.write_bytes(dump(main_lines()))
    return main
