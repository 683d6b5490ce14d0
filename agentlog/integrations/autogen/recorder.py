"""Feeds an AgentChat message stream into one AgentLog session, passing every message through.

`record(stream)` wraps `team.run_stream(...)` / `agent.run_stream(...)`; the
final `TaskResult` ends the session with its stop reason. `Recorder` does the
same one message at a time (`feed`) for code that handles the stream itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agentlog.integrations.autogen.mapping import message_events
from agentlog.model import new_id

if TYPE_CHECKING:
    from agentlog.sdk.client import AgentLog
    from agentlog.sdk.handle import SessionHandle


class Recorder:
    """One run's session: `feed(message)` for each message, `finish(result)` at the end."""

    def __init__(self, log: AgentLog | None = None, *, title: str = "AutoGen run", **session: Any):
        if log is None:
            from agentlog.sdk.client import default_log

            log = default_log()
        session.setdefault("tags", ["autogen"])
        self.handle: SessionHandle = log.session(
            title, integration="autogen", integration_version=_version(), **session
        )
        self._ids: dict[str, str] = {}  # key of a call or model answer -> its event id
        self._calls: dict[str, datetime] = {}

    @property
    def session_id(self) -> str:
        return self.handle.id

    def feed(self, message: Any) -> None:
        """Record one message or event (a TaskResult ends the session)."""
        try:
            if hasattr(message, "stop_reason") and hasattr(message, "messages"):
                self.finish(message)
                return
            at = getattr(message, "created_at", None)
            at = at if isinstance(at, datetime) else datetime.now(UTC)
            for spec in message_events(message):
                eid = new_id()
                if spec.key:
                    self._ids[spec.key] = eid
                    if spec.key.startswith("call:"):
                        self._calls[spec.key] = at
                parent = self._ids.get(spec.parent) if spec.parent else None
                started = self._calls.pop(spec.parent, None) if spec.parent else None
                duration = (at - started).total_seconds() * 1000 if started else None
                meta = dict(spec.metadata)
                if spec.type.value == "HANDOFF":
                    self.handle.handoff(
                        spec.name or "?",
                        spec.content,
                        from_agent=spec.agent_id,
                        metadata={
                            k: v for k, v in meta.items() if k not in ("from_agent", "to_agent")
                        },
                        parent_id=parent,
                        timestamp=at,
                        event_id=eid,
                    )
                    continue
                self.handle.event(
                    spec.type,
                    spec.content,
                    name=spec.name,
                    agent_id=spec.agent_id,
                    metadata=meta or None,
                    parent_id=parent,
                    status=spec.status,
                    duration_ms=duration,
                    input_tokens=spec.input_tokens,
                    output_tokens=spec.output_tokens,
                    timestamp=at,
                    event_id=eid,
                )
        except Exception as exc:  # the run must never notice the recorder
            self.handle._sink.internal_error(exc)

    def finish(self, result: Any = None, *, failed: bool = False) -> None:
        """End the session (with the TaskResult's stop reason in its metadata)."""
        reason = getattr(result, "stop_reason", None)
        if reason:
            self.handle.update_metadata({"autogen": {"stop_reason": str(reason)}})
        self.handle.end("failed" if failed else "completed")


async def record(
    stream: AsyncIterator[Any],
    log: AgentLog | None = None,
    *,
    title: str = "AutoGen run",
    **session: Any,
) -> AsyncIterator[Any]:
    """Yield every message of `stream` unchanged, recording each into one session."""
    recorder = Recorder(log, title=title, **session)
    try:
        async for message in stream:
            recorder.feed(message)
            yield message
    except BaseException:
        recorder.finish(failed=True)
        raise
    recorder.finish()


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"autogen-agentchat {version('autogen-agentchat')}"
    except PackageNotFoundError:
        return None
