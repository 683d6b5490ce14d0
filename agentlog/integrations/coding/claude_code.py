"""Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl`) as sessions and events.

Checked against the transcript format of Claude Code 1.0.x-2.1.x (no official
schema exists; field names from the CLI's own files as community parsers
document them): one JSON object a line with `type` (user | assistant | system |
summary | ...), `uuid`, `parentUuid`, `sessionId`, `timestamp`, `cwd`,
`gitBranch`, `version`, `isSidechain`, `agentId` (sub-agent files) and
`message` (the Anthropic Messages API object: `content` blocks `text`,
`thinking`, `tool_use`, `tool_result`; `model`; `usage` with
`cache_read_input_tokens` and `cache_creation_input_tokens`). An assistant
turn is written as one line per content block, all sharing `message.id`.

The mapping: a user prompt is USER_INPUT; each API response (one `message.id`)
is one LLM_CALL with its model, tokens and cost; each `tool_use` block a
TOOL_CALL under it (MCP tools `mcp__server__tool` carry `mcp_server`); each
`tool_result` a TOOL_RESULT pointing at its call. Sub-agents — `agentId` files
under `<session>/subagents/` or, in older versions, `isSidechain` lines inline —
are child sessions of the main one, linked to the Task call that started them.
Ids derive from the transcript's own ids, so a second import adds nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentlog.fastcheck import event_of
from agentlog.integrations.coding.common import (
    EventBuffer,
    as_text,
    as_uuid,
    count,
    fit,
    stable_id,
    tool_metadata,
    tool_result,
    when,
)
from agentlog.integrations.pricing import usage_cost
from agentlog.model import EventStatus, EventType, Session, SessionStatus, format_ts

SOURCE = "claude-code"
AGENT = "claude-code"
SUBAGENT_TOOLS = ("Task", "Agent")  # the tool that starts a sub-agent (renamed Agent in 2.x)
INTERRUPTED = "[Request interrupted by user"


def prompt_key(text: str) -> str:
    """A short key for a sub-agent's prompt, to find the Task call that sent it."""
    return hashlib.sha1(text.strip().encode("utf-8", "replace")).hexdigest()[:16]


@dataclass
class Links:
    """Task calls of a main session, so its sub-agents find the turn that started them."""

    by_agent: dict[str, str] = field(default_factory=dict)  # agentId -> TOOL_CALL event id
    by_prompt: dict[str, str] = field(default_factory=dict)  # prompt_key -> TOOL_CALL event id
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)  # event id -> Task input

    def to_dict(self) -> dict[str, Any]:
        return {"by_agent": self.by_agent, "by_prompt": self.by_prompt, "kinds": self.kinds}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Links:
        data = data or {}
        return cls(
            dict(data.get("by_agent", {})),
            dict(data.get("by_prompt", {})),
            dict(data.get("kinds", {})),
        )


class ClaudeCodeMapper(EventBuffer):
    """Feeds one transcript's lines, in order; `take()` hands over what they became.

    `state()` is everything needed to go on from where the last line was read
    (the session headers and the sidechain roots), so an incremental import
    resumes at a byte offset and still builds whole sessions.
    """

    def __init__(self, state: dict[str, Any] | None = None, links: Links | None = None) -> None:
        super().__init__()
        state = state or {}
        self.headers: dict[str, dict[str, Any]] = state.get("headers", {})
        self.roots: dict[str, str] = state.get("roots", {})  # inline sidechain line -> root uuid
        self.pending_title: str = state.get("pending_title", "")
        self.links = links if links is not None else Links()
        self.call_times: dict[str, datetime] = {}
        self.skipped = 0

    def state(self) -> dict[str, Any]:
        return {"headers": self.headers, "roots": self.roots, "pending_title": self.pending_title}

    # ------------------------------------------------------------ sessions
    def _session(self, rec: dict[str, Any], ts: datetime) -> tuple[str, dict[str, Any]]:
        claude_sid = str(rec.get("sessionId") or "")
        if not claude_sid:
            raise ValueError("the line has no sessionId")
        main = as_uuid(claude_sid, SOURCE, "session")
        agent = rec.get("agentId")
        parent: str | None = None
        key: str | None = None
        if agent:
            sid, parent, key = stable_id(SOURCE, claude_sid, "agent", str(agent)), main, str(agent)
        elif rec.get("isSidechain"):
            line = str(rec.get("uuid") or "")
            up = rec.get("parentUuid")
            root = self.roots.get(str(up), line) if up else line
            self.roots[line] = root
            sid, parent = stable_id(SOURCE, claude_sid, "sidechain", root), main
        else:
            sid = main
        head = self.headers.get(sid)
        if head is None:
            head = self.headers[sid] = {
                "claude_session_id": claude_sid,
                "parent": parent,
                "agent": key,
                "title": "",
                "created": format_ts(ts),
                "updated": format_ts(ts),
            }
            if parent is None and self.pending_title:
                head["title"] = self.pending_title
        for src, dst in (("cwd", "cwd"), ("gitBranch", "git_branch"), ("version", "version")):
            if rec.get(src):
                head[dst] = str(rec[src])
        stamp = format_ts(ts)
        head["created"] = min(head["created"], stamp)
        head["updated"] = max(head["updated"], stamp)
        self.touched.add(sid)
        return sid, head

    def _link(self, head: dict[str, Any], prompt: str) -> None:
        """Find the Task call that started this sub-agent (by its id, else by its prompt)."""
        if head.get("parent") is None or head.get("link"):
            return
        found = self.links.by_agent.get(str(head.get("agent"))) if head.get("agent") else None
        found = found or self.links.by_prompt.get(prompt_key(prompt))
        if found:
            head["link"] = found
            head["task"] = self.links.kinds.get(found, {})

    def sessions(self, ids: set[str] | None = None) -> list[Session]:
        out = []
        for sid in sorted(ids if ids is not None else self.headers):
            head = self.headers[sid]
            task = head.get("task") or {}
            meta: dict[str, Any] = {
                "source": SOURCE,
                "claude_session_id": head["claude_session_id"],
            }
            for key in ("cwd", "git_branch", "version", "model"):
                if head.get(key):
                    meta[key] = head[key]
            if head.get("parent"):
                meta["subagent"] = True
                for key in ("agent", "link"):
                    if head.get(key):
                        meta["agent_id" if key == "agent" else "parent_event_id"] = head[key]
                for key in ("subagent_type", "description"):
                    if task.get(key):
                        meta[key] = str(task[key])[:500]
                if task.get("run_in_background"):
                    meta["background"] = True
            tags = [SOURCE]
            if head.get("cwd"):
                tags.append("project:" + head["cwd"].rstrip("/\\").rsplit("/", 1)[-1][:80])
            if head.get("git_branch"):
                tags.append("branch:" + head["git_branch"][:90])
            if head.get("parent"):
                tags.append("sub-agent")
            title = head.get("title") or (
                f"sub-agent: {task.get('description')}" if task.get("description") else ""
            )
            out.append(
                Session(
                    id=sid,
                    title=title[:200],
                    status=SessionStatus.COMPLETED,
                    parent_session_id=head.get("parent"),
                    tags=tags,
                    metadata=meta,
                    created_at=head["created"],
                    updated_at=head["updated"],
                    ended_at=head["updated"],
                )
            )
        return out

    # ------------------------------------------------------------ lines
    def feed(self, rec: Any) -> None:
        """Map one transcript line; ValueError says why a line cannot be used."""
        if not isinstance(rec, dict):
            raise ValueError(f"a transcript line is a JSON object, got {type(rec).__name__}")
        kind = rec.get("type")
        if kind == "summary":
            if isinstance(rec.get("summary"), str):
                self.pending_title = rec["summary"][:200]
                for head in self.headers.values():
                    if head.get("parent") is None:
                        head["title"] = self.pending_title
            return
        if kind not in ("user", "assistant", "system"):
            self.skipped += 1  # file-history-snapshot, queue-operation, ...: not agent activity
            return
        ts = when(rec.get("timestamp"))
        if ts is None:
            raise ValueError("the line has no valid timestamp")
        sid, head = self._session(rec, ts)
        agent = AGENT if head.get("parent") is None else "sub-agent"
        if head.get("task", {}).get("subagent_type"):
            agent = str(head["task"]["subagent_type"])[:200]
        if kind == "system":
            self._system(rec, sid, ts, agent)
        elif kind == "user":
            self._user(rec, sid, head, ts, agent)
        else:
            self._assistant(rec, sid, head, ts, agent)

    def _system(self, rec: dict[str, Any], sid: str, ts: datetime, agent: str) -> None:
        text, cut = fit(as_text(rec.get("content")))
        error = str(rec.get("level", "")).lower() == "error"
        meta = {"cut_bytes": cut} if cut else {}
        self._add(
            event_of(
                id=as_uuid(rec.get("uuid"), SOURCE, sid, "system", format_ts(ts)),
                session_id=sid,
                timestamp=ts,
                type=EventType.LOG,
                agent_id=agent,
                name=str(rec.get("subtype") or "system")[:200],
                content=text,
                metadata=meta,
                status=EventStatus.ERROR if error else EventStatus.OK,
            )
        )

    def _user(
        self, rec: dict[str, Any], sid: str, head: dict[str, Any], ts: datetime, agent: str
    ) -> None:
        message = rec.get("message") or {}
        content = message.get("content") if isinstance(message, dict) else message
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
        texts = []
        line_id = as_uuid(rec.get("uuid"), SOURCE, sid, "user", format_ts(ts))
        result_info = rec.get("toolUseResult")
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result":
                self._tool_result(block, sid, ts, agent, result_info)
            elif block.get("type") == "text" and block.get("text"):
                texts.append(str(block["text"]))
            elif block.get("type") == "image":
                texts.append("[image]")
        if not texts:
            return
        text = "\n".join(texts)
        self._link(head, text)
        untitled = not head.get("title") and head.get("parent") is None
        if untitled and not rec.get("isMeta") and not text.startswith(("<", INTERRUPTED)):
            head["title"] = " ".join(text.split())[:120]
        body, cut = fit(text)
        meta: dict[str, Any] = {"cut_bytes": cut} if cut else {}
        if text.startswith(INTERRUPTED):
            meta["interrupted"] = True
            kind, name = EventType.LOG, "interrupted"
        elif rec.get("isMeta"):
            kind, name = EventType.LOG, "meta"
        else:
            kind, name = EventType.USER_INPUT, "user"
        self._add(
            event_of(
                id=line_id,
                session_id=sid,
                timestamp=ts,
                type=kind,
                agent_id=None if kind == EventType.USER_INPUT else agent,
                name=name,
                content=body,
                metadata=meta,
            )
        )

    def _tool_result(
        self, block: dict[str, Any], sid: str, ts: datetime, agent: str, info: Any
    ) -> None:
        call_id = str(block.get("tool_use_id") or "")
        if not call_id:
            raise ValueError("a tool_result block has no tool_use_id")
        call_event = stable_id(SOURCE, sid, "tool", call_id)
        text, cut = fit(as_text(block.get("content")))
        meta: dict[str, Any] = {"tool_call_id": call_id}
        if cut:
            meta["cut_bytes"] = cut
        if isinstance(info, dict) and info.get("agentId"):
            agent_key = str(info["agentId"])
            meta["subagent_session_id"] = stable_id(
                SOURCE, self.headers[sid]["claude_session_id"], "agent", agent_key
            )
            self.links.by_agent.setdefault(agent_key, call_event)
        self._add(
            tool_result(
                SOURCE,
                sid,
                call_id,
                at=ts,
                agent=agent,
                content=text,
                metadata=meta,
                parent_id=call_event,
                started=self.call_times.pop(call_id, None),
                status=EventStatus.ERROR if block.get("is_error") else EventStatus.OK,
            )
        )

    def _assistant(
        self, rec: dict[str, Any], sid: str, head: dict[str, Any], ts: datetime, agent: str
    ) -> None:
        message = rec.get("message")
        if not isinstance(message, dict):
            raise ValueError("an assistant line has no message object")
        model = str(message.get("model") or "")
        msg_key = str(message.get("id") or rec.get("uuid") or format_ts(ts))
        llm_id = stable_id(SOURCE, sid, "llm", msg_key)
        if model and model != "<synthetic>":
            head["model"] = model
        texts: list[str] = []
        thinking = False
        for block in message.get("content") or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and block.get("text"):
                texts.append(str(block["text"]))
            elif block.get("type") in ("thinking", "redacted_thinking"):
                thinking = True
            elif block.get("type") == "tool_use":
                self._tool_call(block, sid, ts, agent, llm_id)
        previous = self.events.get(llm_id)
        if previous is not None and previous.content:
            texts.insert(0, previous.content)
        usage_raw = message.get("usage")
        usage: dict[str, Any] = usage_raw if isinstance(usage_raw, dict) else {}
        meta: dict[str, Any] = dict(previous.metadata) if previous is not None else {}
        meta.update(self._usage_meta(usage))
        if rec.get("requestId"):
            meta["request_id"] = str(rec["requestId"])
        if message.get("stop_reason"):
            meta["stop_reason"] = str(message["stop_reason"])
        if thinking:
            meta["thinking"] = True
        body, cut = fit("\n".join(texts))
        if cut:
            meta["cut_bytes"] = cut
        uncached = count(usage.get("input_tokens"))
        read = count(usage.get("cache_read_input_tokens"))
        write = count(usage.get("cache_creation_input_tokens"))
        long_write = count((usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens"))
        output = count(usage.get("output_tokens"))
        error = bool(rec.get("isApiErrorMessage")) or model == "<synthetic>"
        cost = (
            usage_cost(
                model,
                input_tokens=uncached,
                output_tokens=output,
                cache_read_tokens=read,
                cache_write_tokens=write - min(long_write, write),
                cache_write_1h_tokens=min(long_write, write),
            )
            if usage and not error
            else None
        )
        self._add(
            event_of(
                id=llm_id,
                session_id=sid,
                timestamp=previous.timestamp if previous is not None else ts,
                type=EventType.LLM_CALL,
                agent_id=agent,
                name=model or None,
                content=body or None,
                metadata=meta,
                input_tokens=(uncached + read + write) if usage else None,
                output_tokens=output if usage else None,
                cost_usd=cost,
                cache_read_tokens=read if usage else None,
                cache_creation_tokens=write if usage else None,
                status=EventStatus.ERROR if error else EventStatus.OK,
            )
        )

    @staticmethod
    def _usage_meta(usage: dict[str, Any]) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if usage.get("service_tier"):
            meta["service_tier"] = str(usage["service_tier"])
        return meta

    def _tool_call(
        self, block: dict[str, Any], sid: str, ts: datetime, agent: str, llm_id: str
    ) -> None:
        call_id = str(block.get("id") or "")
        name = str(block.get("name") or "tool")
        if not call_id:
            raise ValueError(f"a tool_use block ({name}) has no id")
        event_id = stable_id(SOURCE, sid, "tool", call_id)
        tool_input = block.get("input")
        text, cut = fit(as_text(tool_input))
        meta = tool_metadata(name, call_id)
        if cut:
            meta["cut_bytes"] = cut
        if name in SUBAGENT_TOOLS and isinstance(tool_input, dict):
            if isinstance(tool_input.get("prompt"), str):
                self.links.by_prompt.setdefault(prompt_key(tool_input["prompt"]), event_id)
            self.links.kinds[event_id] = {
                k: tool_input[k]
                for k in ("subagent_type", "description", "run_in_background")
                if k in tool_input and isinstance(tool_input[k], str | bool)
            }
            if tool_input.get("run_in_background"):
                meta["background"] = True
        self.call_times[call_id] = ts
        self._add(
            event_of(
                id=event_id,
                session_id=sid,
                timestamp=ts,
                type=EventType.TOOL_CALL,
                agent_id=agent,
                name=name[:200],
                content=text,
                metadata=meta,
                parent_id=llm_id,
            )
        )


__all__ = ["SOURCE", "ClaudeCodeMapper", "Links", "prompt_key"]
