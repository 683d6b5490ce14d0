"""`agentlog hook claude-code`: Claude Code's hooks record tool calls as they happen.

Claude Code runs the hook with one JSON object on stdin (`session_id`,
`transcript_path`, `hook_event_name`, `tool_name`, `tool_input`,
`tool_use_id`, `tool_response`, and `agent_id` inside a sub-agent; checked
against the hooks reference of Claude Code 2.x). PreToolUse and PostToolUse
write the TOOL_CALL / TOOL_RESULT at once, under the ids the transcript
importer gives the same `tool_use_id`, so importing the transcript later
finds them already there and adds nothing twice. SubagentStop, Stop and
SessionEnd import what the transcripts gained since the last import (the
incremental import), which brings the prompts, responses, tokens and costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from agentlog.integrations.coding.claude_code import SOURCE
from agentlog.integrations.coding.common import (
    as_text,
    as_uuid,
    fit,
    stable_id,
    tool_metadata,
)
from agentlog.integrations.coding.importer import REDACT, CodingImporter
from agentlog.model import Event, EventStatus, EventType, Session
from agentlog.storage.base import Store, session_exists
from agentlog.transfer.redact import Redactor

TOOL_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure")
IMPORT_EVENTS = ("SubagentStop", "Stop", "SessionEnd", "PreCompact")


def session_for(payload: dict[str, Any]) -> str:
    """The AgentLog session the importer gives this hook's conversation (sub-agents their own)."""
    claude_sid = str(payload.get("session_id") or "")
    if not claude_sid:
        raise ValueError("the hook input has no session_id")
    agent = payload.get("agent_id")
    if agent:
        return stable_id(SOURCE, claude_sid, "agent", str(agent))
    return as_uuid(claude_sid, SOURCE, "session")


def tool_event(payload: dict[str, Any]) -> Event | None:
    """The TOOL_CALL (PreToolUse) or TOOL_RESULT (PostToolUse*) this hook input records."""
    name = payload.get("hook_event_name")
    call_id = str(payload.get("tool_use_id") or "")
    if name not in TOOL_EVENTS or not call_id:
        return None  # without tool_use_id (older versions) the transcript import records it
    sid = session_for(payload)
    tool = str(payload.get("tool_name") or "tool")
    call_event = stable_id(SOURCE, sid, "tool", call_id)
    meta = tool_metadata(tool, call_id)
    meta["recorded_by"] = "hook"
    if name == "PreToolUse":
        text, cut = fit(as_text(payload.get("tool_input")))
        event_type, event_id, parent, status = EventType.TOOL_CALL, call_event, None, "ok"
    else:
        response = payload.get("tool_response", payload.get("error"))
        text, cut = fit(as_text(response))
        failed = name == "PostToolUseFailure" or (
            isinstance(response, dict) and response.get("is_error") is True
        )
        event_type, parent = EventType.TOOL_RESULT, call_event
        event_id = stable_id(SOURCE, sid, "result", call_id)
        status = "error" if failed else "ok"
    if cut:
        meta["cut_bytes"] = cut
    return Event(
        id=event_id,
        session_id=sid,
        type=event_type,
        agent_id=str(payload.get("agent_type") or "claude-code")[:200],
        name=tool[:200] if event_type == EventType.TOOL_CALL else None,
        content=text,
        metadata=meta,
        parent_id=parent,
        status=EventStatus(status),
    )


def record_hook(store: Store, payload: Any, *, redact: bool = True) -> int:
    """Record one hook invocation; returns how many events it stored."""
    if not isinstance(payload, dict):
        raise ValueError("the hook input is not a JSON object")
    stored = 0
    event = tool_event(payload)
    if event is not None:
        if redact:
            event = cast(Event, Redactor(*REDACT)(event))
        session = Session(id=event.session_id, tags=[SOURCE])
        stored += store.write(
            [] if session_exists(store, session.id) else [session], [event]
        ).inserted
    if payload.get("hook_event_name") in IMPORT_EVENTS:
        for path in _transcripts(payload):
            report = CodingImporter(store, SOURCE, path, redact=redact).run_once()
            stored += report.events.imported
    return stored


def _transcripts(payload: dict[str, Any]) -> list[Path]:
    """The main transcript first, then the sub-agent's (named, or every one of the session)."""
    out = []
    main = Path(str(payload.get("transcript_path") or "")).expanduser()
    if payload.get("transcript_path") and main.is_file():
        out.append(main)
    agent = payload.get("agent_transcript_path")
    if agent and Path(str(agent)).expanduser().is_file():
        out.append(Path(str(agent)).expanduser())
    elif out and payload.get("hook_event_name") == "SubagentStop":
        subagents = main.with_suffix("") / "subagents"
        if subagents.is_dir():
            out.extend(sorted(subagents.glob("agent-*.jsonl")))
    return out


__all__ = ["record_hook", "session_for", "tool_event"]
