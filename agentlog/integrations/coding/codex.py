"""OpenAI Codex CLI rollouts (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`) as sessions and events.

Checked against codex-rs/protocol (`RolloutLine`, `RolloutItem`, `ResponseItem`,
`TokenUsage`) of Codex CLI 0.4x-0.6x: one `{timestamp, type, payload}` a line,
`type` one of `session_meta` (id, cwd, cli_version, originator, `git` with
branch and commit, and for a sub-agent thread its parent's id),
`turn_context` (model, cwd), `response_item` (`message`, `reasoning`,
`function_call` / `custom_tool_call` / `local_shell_call` and their
`*_output`, joined by `call_id`), `event_msg` (`token_count` with
`last_token_usage`: `input_tokens` including `cached_input_tokens`,
`output_tokens` including `reasoning_output_tokens`; `turn_aborted`; ...)
and `compacted`.

The mapping: a user message is USER_INPUT (the injected `<environment_context>`
and instructions are LOG "meta"); an assistant message AGENT_OUTPUT; each model
response — everything from its first output item to the `token_count` that
closes it — one LLM_CALL with model, tokens and cost, the tool calls it made
TOOL_CALLs under it and their outputs TOOL_RESULTs. MCP tools (`server__tool`,
or `mcp__server__tool`) carry their server. A sub-agent thread is a child
session of the thread that spawned it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from agentlog.fastcheck import event_of
from agentlog.integrations.coding.common import (
    EventBuffer,
    as_text,
    as_uuid,
    count,
    fit,
    stable_id,
    tool_result,
    when,
)
from agentlog.integrations.pricing import usage_cost
from agentlog.model import EventStatus, EventType, Session, SessionStatus, format_ts

SOURCE = "codex"
AGENT = "codex"
INJECTED = ("<environment_context>", "<user_instructions>", "# AGENTS.md", "<permissions")
CALLS = ("function_call", "custom_tool_call", "local_shell_call")
OUTPUTS = ("function_call_output", "custom_tool_call_output")


def _parent_thread(payload: dict[str, Any]) -> str | None:
    """The spawning thread's id, wherever this Codex version put it (depth-limited)."""
    stack: list[tuple[Any, int]] = [(payload, 0)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict) or depth > 4:
            continue
        for key in ("parent_thread_id", "parent_session_id"):
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
        stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict))
    return None


def tool_parts(name: str) -> tuple[str, str] | None:
    """(server, tool) for an MCP tool as Codex names it, else None (built-ins have no `__`)."""
    bare = name.removeprefix("mcp__")
    server, sep, tool = bare.partition("__")
    return (server, tool) if sep and server and tool else None


class CodexMapper(EventBuffer):
    """Feeds one rollout's lines in order; `take()` hands over what they became."""

    def __init__(self, state: dict[str, Any] | None = None, links: Any = None) -> None:
        super().__init__()
        state = state or {}
        self.head: dict[str, Any] = state.get("head", {})
        self.open: dict[str, Any] | None = state.get("open")  # the response being recorded
        self.last_total: int | None = state.get("last_total")
        self.call_times: dict[str, datetime] = {}
        self.skipped = 0

    def state(self) -> dict[str, Any]:
        return {"head": self.head, "open": self.open, "last_total": self.last_total}

    # ------------------------------------------------------------ sessions
    def sessions(self, ids: set[str] | None = None) -> list[Session]:
        head = self.head
        if not head.get("id") or (ids is not None and head["id"] not in ids):
            return []
        meta: dict[str, Any] = {"source": SOURCE, "codex_session_id": head["codex_id"]}
        for key in ("cwd", "git_branch", "git_commit", "version", "model", "originator"):
            if head.get(key):
                meta[key] = head[key]
        tags = [SOURCE]
        if head.get("cwd"):
            tags.append("project:" + head["cwd"].rstrip("/\\").rsplit("/", 1)[-1][:80])
        if head.get("git_branch"):
            tags.append("branch:" + head["git_branch"][:90])
        if head.get("parent"):
            tags.append("sub-agent")
            meta["subagent"] = True
        return [
            Session(
                id=head["id"],
                title=head.get("title", "")[:200],
                status=SessionStatus.COMPLETED,
                parent_session_id=head.get("parent"),
                tags=tags,
                metadata=meta,
                created_at=head["created"],
                updated_at=head["updated"],
                ended_at=head["updated"],
            )
        ]

    # ------------------------------------------------------------ lines
    def feed(self, rec: Any) -> None:
        if not isinstance(rec, dict):
            raise ValueError(f"a rollout line is a JSON object, got {type(rec).__name__}")
        kind, payload = rec.get("type"), rec.get("payload")
        if not isinstance(payload, dict):
            raise ValueError(f"a {kind or 'rollout'} line has no payload object")
        ts = when(rec.get("timestamp")) or when(payload.get("timestamp"))
        if ts is None:
            raise ValueError("the line has no valid timestamp")
        if kind == "session_meta":
            self._meta(payload, ts)
            return
        if not self.head.get("id"):
            raise ValueError("a line before the session_meta line that names the session")
        stamp = format_ts(ts)
        self.head["created"] = min(self.head["created"], stamp)
        self.head["updated"] = max(self.head["updated"], stamp)
        self.touched.add(self.head["id"])
        if kind == "turn_context":
            if payload.get("model"):
                self.head["model"] = str(payload["model"])
            if payload.get("cwd"):
                self.head["cwd"] = str(payload["cwd"])
        elif kind == "response_item":
            self._item(payload, ts)
        elif kind == "event_msg":
            self._event_msg(payload, ts)
        else:
            self.skipped += 1  # compacted: a summary of history already recorded

    def _meta(self, payload: dict[str, Any], ts: datetime) -> None:
        codex_id = str(payload.get("id") or payload.get("session_id") or "")
        if not codex_id:
            raise ValueError("the session_meta line has no id")
        sid = as_uuid(codex_id, SOURCE, "session")
        if self.head.get("id") not in (None, sid):
            raise ValueError("a second session_meta line for another session in one rollout")
        stamp = format_ts(ts)
        self.head.setdefault("created", stamp)
        self.head.setdefault("updated", stamp)
        self.head.update(id=sid, codex_id=codex_id)
        parent = _parent_thread(payload)
        if parent:
            self.head["parent"] = as_uuid(parent, SOURCE, "session")
        git_raw = payload.get("git")
        git: dict[str, Any] = git_raw if isinstance(git_raw, dict) else {}
        for key, value in (
            ("cwd", payload.get("cwd")),
            ("version", payload.get("cli_version")),
            ("originator", payload.get("originator")),
            ("git_branch", git.get("branch")),
            ("git_commit", git.get("commit_hash")),
        ):
            if value:
                self.head[key] = str(value)[:500]
        self.touched.add(sid)

    def _response(self, ts: datetime, key: str) -> str:
        """The LLM_CALL id of the response this output item belongs to (opened by the first)."""
        if self.open is None:
            self.open = {"id": stable_id(SOURCE, self.head["id"], "llm", key), "ts": format_ts(ts)}
        return str(self.open["id"])

    def _item(self, item: dict[str, Any], ts: datetime) -> None:
        kind = item.get("type")
        sid = self.head["id"]
        stamp = format_ts(ts)
        if kind == "message":
            role = str(item.get("role") or "")
            text = as_text(
                [
                    {"type": "text", "text": c.get("text", "")}
                    if isinstance(c, dict) and "text" in c
                    else {"type": "image"}
                    for c in item.get("content") or []
                ]
            )
            body, cut = fit(text)
            meta: dict[str, Any] = {"cut_bytes": cut} if cut else {}
            key = f"{role}:{stamp}:{orjson.dumps(text[:200]).decode()}"
            if role == "assistant":
                parent = self._response(ts, key)
                event_type, agent, name = EventType.AGENT_OUTPUT, AGENT, "assistant"
            elif role == "user" and not text.lstrip().startswith(INJECTED):
                self.open = None  # a new prompt: the next output opens a new response
                parent, event_type, agent, name = None, EventType.USER_INPUT, None, "user"
                if not self.head.get("title"):
                    self.head["title"] = " ".join(text.split())[:120]
            else:
                parent, event_type, agent, name = None, EventType.LOG, AGENT, "meta"
            self._add(
                event_of(
                    id=stable_id(SOURCE, sid, "message", key),
                    session_id=sid,
                    timestamp=ts,
                    type=event_type,
                    agent_id=agent,
                    name=name,
                    content=body,
                    metadata=meta,
                    parent_id=parent,
                )
            )
        elif kind in CALLS:
            self._call(item, ts)
        elif kind in OUTPUTS:
            self._output(item, ts)
        elif kind == "reasoning":
            self._response(ts, f"reasoning:{stamp}:{item.get('id', '')}")
        else:
            self.skipped += 1  # web_search_call and newer item types: not mapped yet

    def _call(self, item: dict[str, Any], ts: datetime) -> None:
        sid = self.head["id"]
        call_id = str(item.get("call_id") or item.get("id") or "")
        if not call_id:
            raise ValueError(f"a {item.get('type')} has no call_id")
        if item.get("type") == "local_shell_call":
            name = "local_shell"
            action = item.get("action") if isinstance(item.get("action"), dict) else {}
            raw: Any = action
        else:
            name = str(item.get("name") or "tool")
            raw = item.get("arguments", item.get("input"))
            if isinstance(raw, str):
                try:
                    raw = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    pass  # apply_patch and other free-form inputs stay text
        parent = self._response(ts, f"call:{call_id}")
        text, cut = fit(as_text(raw))
        meta: dict[str, Any] = {"tool_call_id": call_id}
        if cut:
            meta["cut_bytes"] = cut
        parts = tool_parts(name)
        if parts:
            meta["mcp_server"], meta["mcp_tool"] = parts
        self.call_times[call_id] = ts
        self._add(
            event_of(
                id=stable_id(SOURCE, sid, "tool", call_id),
                session_id=sid,
                timestamp=ts,
                type=EventType.TOOL_CALL,
                agent_id=AGENT,
                name=name[:200],
                content=text,
                metadata=meta,
                parent_id=parent,
            )
        )

    def _output(self, item: dict[str, Any], ts: datetime) -> None:
        sid = self.head["id"]
        call_id = str(item.get("call_id") or "")
        if not call_id:
            raise ValueError(f"a {item.get('type')} has no call_id")
        output = item.get("output")
        failed = False
        if isinstance(output, dict):  # FunctionCallOutputPayload {content, success}
            failed = output.get("success") is False
            output = output.get("content", output)
        if isinstance(output, str):
            try:  # the shell tool's output is JSON text: {"output": ..., "metadata": {exit_code}}
                parsed = orjson.loads(output)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict) and "output" in parsed:
                code = (parsed.get("metadata") or {}).get("exit_code")
                failed = failed or (isinstance(code, int) and code != 0)
                output = parsed["output"]
        text, cut = fit(as_text(output))
        meta: dict[str, Any] = {"tool_call_id": call_id}
        if cut:
            meta["cut_bytes"] = cut
        self.open = None  # tool outputs go back in the next request: a new response follows
        self._add(
            tool_result(
                SOURCE,
                sid,
                call_id,
                at=ts,
                agent=AGENT,
                content=text,
                metadata=meta,
                parent_id=stable_id(SOURCE, sid, "tool", call_id),
                started=self.call_times.pop(call_id, None),
                status=EventStatus.ERROR if failed else EventStatus.OK,
            )
        )

    def _event_msg(self, msg: dict[str, Any], ts: datetime) -> None:
        kind = msg.get("type")
        sid = self.head["id"]
        if kind == "token_count":
            self._usage(msg, ts)
        elif kind == "turn_aborted":
            self.open = None
            self._add(
                event_of(
                    id=stable_id(SOURCE, sid, "aborted", format_ts(ts)),
                    session_id=sid,
                    timestamp=ts,
                    type=EventType.LOG,
                    agent_id=AGENT,
                    name="interrupted",
                    content=f"turn aborted: {msg.get('reason') or 'interrupted'}",
                    metadata={"interrupted": True},
                )
            )
        elif kind in ("error", "stream_error"):
            self._add(
                event_of(
                    id=stable_id(SOURCE, sid, "error", format_ts(ts)),
                    session_id=sid,
                    timestamp=ts,
                    type=EventType.ERROR,
                    agent_id=AGENT,
                    name=str(kind),
                    content=fit(as_text(msg.get("message")))[0],
                    status=EventStatus.ERROR,
                )
            )
        else:
            self.skipped += 1  # user_message / agent_message repeat the response items

    def _usage(self, msg: dict[str, Any], ts: datetime) -> None:
        info = msg.get("info")
        if not isinstance(info, dict):
            return  # the rate-limit-only count at a turn's start
        last = info.get("last_token_usage") or {}
        total = (info.get("total_token_usage") or {}).get("total_tokens")
        if isinstance(total, int) and total == self.last_total:
            return  # the same count repeated: no new response
        self.last_total = total if isinstance(total, int) else None
        sid = self.head["id"]
        opened = self.open or {
            "id": stable_id(SOURCE, sid, "llm", f"usage:{format_ts(ts)}"),
            "ts": format_ts(ts),
        }
        self.open = None
        model = self.head.get("model")
        prompt = count(last.get("input_tokens"))
        cached = min(count(last.get("cached_input_tokens")), prompt)
        output = count(last.get("output_tokens"))
        reasoning = count(last.get("reasoning_output_tokens"))
        self._add(
            event_of(
                id=str(opened["id"]),
                session_id=sid,
                timestamp=opened["ts"],
                type=EventType.LLM_CALL,
                agent_id=AGENT,
                name=model,
                input_tokens=prompt,
                output_tokens=output,
                cache_read_tokens=cached,
                reasoning_tokens=reasoning,
                cost_usd=usage_cost(
                    model,
                    input_tokens=prompt - cached,
                    output_tokens=output,
                    cache_read_tokens=cached,
                ),
            )
        )


__all__ = ["SOURCE", "CodexMapper", "tool_parts"]
