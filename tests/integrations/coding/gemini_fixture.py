"""A Gemini CLI chats directory as `ChatRecordingService` writes it (gemini-cli-core 0.x)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

SESSION = "5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
PROJECT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
MODEL = "gemini-2.5-pro"


def chat(finished: bool = True) -> dict[str, Any]:
    """A prompt, a reply with two tool calls (one MCP) and, if `finished`, their results."""
    calls: list[dict[str, Any]] = [
        {
            "id": "read_file-1764000000000-a1",
            "name": "read_file",
            "args": {"absolute_path": "/home/dev/app/main.py"},
            "status": "success" if finished else "executing",
            "timestamp": "2026-11-26T09:00:03.000Z",
            "displayName": "ReadFile",
        },
        {
            "id": "mcp__jira__get_ticket-1764000000001-b2",
            "name": "mcp__jira__get_ticket",
            "args": {"key": "APP-9"},
            "status": "error" if finished else "scheduled",
            "timestamp": "2026-11-26T09:00:03.500Z",
        },
    ]
    if finished:
        calls[0]["result"] = [
            {
                "functionResponse": {
                    "id": calls[0]["id"],
                    "name": "read_file",
                    "response": {"output": "print('hi')\n"},
                }
            }
        ]
        calls[1]["result"] = [
            {
                "functionResponse": {
                    "id": calls[1]["id"],
                    "name": "mcp__jira__get_ticket",
                    "response": {"error": "ticket not found"},
                }
            }
        ]
    messages: list[dict[str, Any]] = [
        {
            "id": "0b6a4c1e-1111-4a2b-9c3d-4e5f6a7b8c9d",
            "timestamp": "2026-11-26T09:00:00.000Z",
            "type": "user",
            "content": "What does main.py print?",
        },
        {
            "id": "0b6a4c1e-2222-4a2b-9c3d-4e5f6a7b8c9d",
            "timestamp": "2026-11-26T09:00:02.000Z",
            "type": "gemini",
            "content": "Let me read it.",
            "thoughts": [{"subject": "Plan", "description": "read the file", "timestamp": "x"}],
            "tokens": {
                "input": 40_000,
                "output": 120,
                "cached": 30_000,
                "thoughts": 300,
                "tool": 0,
                "total": 40_420,
            },
            "model": MODEL,
            "toolCalls": calls,
        },
    ]
    if finished:
        messages.append(
            {
                "id": "0b6a4c1e-3333-4a2b-9c3d-4e5f6a7b8c9d",
                "timestamp": "2026-11-26T09:00:05.000Z",
                "type": "info",
                "content": "Request cancelled.",
            }
        )
    return {
        "sessionId": SESSION,
        "projectHash": PROJECT,
        "startTime": "2026-11-26T09:00:00.000Z",
        "lastUpdated": "2026-11-26T09:00:05.000Z",
        "messages": messages,
    }


def write_chat(root: Path, finished: bool = True) -> Path:
    chats = root / PROJECT / "chats"
    chats.mkdir(parents=True, exist_ok=True)
    path = chats / f"session-2026-11-26T09-00-{SESSION[:8]}.json"
    path.write_bytes(orjson.dumps(chat(finished), option=orjson.OPT_INDENT_2))
    return path
