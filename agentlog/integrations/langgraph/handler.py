"""`AgentLogCallback`: a LangChain callback handler that records a LangGraph run as sessions.

One graph run is one session; each nested graph (a subgraph, a supervisor's or
swarm's worker agent) is a child session named after the node hosting it, one
per agent per run. Nodes are STATE_UPDATEs stamped at their start, so the LLM
and tool calls they make point at them with `parent_id`; a TOOL_RESULT or a
tool's ERROR points at its TOOL_CALL. A `Command(goto=...)` that a node returns
or raises to its parent graph (`ParentCommand`: supervisor and swarm hand-offs)
is a HANDOFF, never an ERROR; `interrupt()` is a STATE_UPDATE named
"interrupt" and the run's `Command(resume=...)` continues the same session.

Callbacks only enqueue (the SDK's writer does the I/O) and never raise into
the graph: a failure is counted and warned about once by the SDK.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables.config import var_child_runnable_config

from agentlog.integrations import pricing
from agentlog.integrations.langgraph import mapping as m
from agentlog.model import EventType, new_id
from agentlog.sdk import links
from agentlog.sdk.handle import current_session

if TYPE_CHECKING:
    from agentlog.sdk.client import AgentLog
    from agentlog.sdk.handle import SessionHandle

_NODE, _CHAIN, _LLM, _TOOL = range(4)
_time_ns = time.time_ns
_perf = time.perf_counter
_STATE_UPDATE, _LLM_CALL, _TOOL_CALL, _TOOL_RESULT, _HANDOFF = (
    EventType.STATE_UPDATE,
    EventType.LLM_CALL,
    EventType.TOOL_CALL,
    EventType.TOOL_RESULT,
    EventType.HANDOFF,
)
_USER_INPUT, _AGENT_OUTPUT = EventType.USER_INPUT, EventType.AGENT_OUTPUT


def _bubble_types() -> tuple[type[BaseException], type[BaseException], type[BaseException]] | None:
    try:
        from langgraph.errors import GraphBubbleUp, GraphInterrupt, ParentCommand
    except ImportError:  # plain LangChain: no graph control flow to recognise
        return None
    return ParentCommand, GraphInterrupt, GraphBubbleUp


def _integration_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    for package in ("langgraph", "langchain-core"):
        try:
            return f"{package} {version(package)}"
        except PackageNotFoundError:
            continue
    return None


@dataclass(slots=True, eq=False)
class _Scope:
    """One session: the root run's, or a nested graph's (child session)."""

    handle: SessionHandle
    agent: str | None  # the agent every event here is recorded under (None: by node)
    owned: bool  # opened here, so ended here
    path: tuple[str, ...] = ()  # the nodes hosting this graph, outermost first
    failed: bool = False


@dataclass(slots=True, eq=False)
class _Root:
    """A root run's sessions: its own scope and its nested graphs', by host path."""

    scope: _Scope
    thread_id: str | None
    children: dict[tuple[str, ...], _Scope] = field(default_factory=dict)
    by_ns: dict[str, _Scope] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    interrupted: bool = False
    # Hand-offs wait for their target node to finish, so they can name the
    # child session the target's subgraph ran in: (graph path, target) -> events.
    pending: dict[tuple[tuple[str, ...], str], list[dict[str, Any]]] = field(default_factory=dict)
    memo: m.Memo = field(default_factory=dict)  # messages already converted in this run


@dataclass(slots=True, eq=False)
class _Run:
    """A LangChain run in flight: where its events go and what its children point at."""

    kind: int
    root: _Root
    scope: _Scope
    event_id: str | None  # this run's own event (node, LLM call, tool call)
    parent_event: str | None  # the nearest enclosing event in the same session
    agent: str | None
    name: str
    ns: str | None
    start: int  # microseconds since the epoch: events are stamped at their start
    t0: float
    extra: Any = None
    is_root: bool = False


class AgentLogCallback(BaseCallbackHandler):
    """Records LangGraph / LangChain runs: `graph.invoke(x, config={"callbacks": [AgentLogCallback()]})`.

    `log` is the `AgentLog` to write to (default: the process's default one);
    `session` records every run into that open session instead of one per run
    (so does a session entered with `with` around the call); `title`, `tags`
    and `metadata` go on each run's session; `prices` overrides the price table
    (`agentlog.integrations.pricing.PRICES`) used for `cost_usd`.
    """

    run_inline = True  # it only enqueues: no need for the executor hop in async graphs
    raise_error = False

    def __init__(
        self,
        log: AgentLog | None = None,
        *,
        session: SessionHandle | None = None,
        title: str | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        super().__init__()
        self._log = log
        self._session = session
        self._title = title
        self._tags = list(tags or ())
        self._metadata = dict(metadata or {})
        self._prices = prices
        # Runs in flight by `run_id.int`: hashing a UUID calls its Python `__hash__`,
        # an int hashes in C (twice per run: its start and its end).
        self._runs: dict[int, _Run] = {}
        self._nodes: dict[str, _Run] = {}  # node runs in flight by checkpoint namespace
        self.last_session_id: str | None = None  # the session of the latest run started
        self._bubble = _bubble_types()
        self._version = _integration_version()

    def __repr__(self) -> str:
        return f"<AgentLogCallback {self._log!r}>"

    # ------------------------------------------------------------ sessions
    def _agentlog(self) -> AgentLog:
        if self._log is None or self._log.closed:
            from agentlog.sdk.client import default_log

            self._log = default_log()
        return self._log

    def _open_root(self, name: str, metadata: Mapping[str, Any] | None, inputs: Any) -> _Root:
        thread_id = _thread_id(metadata)
        resuming, value = m.resume_value(inputs)
        log = self._agentlog()
        if resuming and thread_id is not None:
            paused = _PAUSED.pop((id(log), thread_id), None)
            if paused is not None:
                paused.interrupted = False
                self.last_session_id = paused.scope.handle.id
                paused.scope.handle.user_input(
                    _text(value), name="resume", metadata={"resume": True}
                )
                return paused
        borrowed = self._session or current_session()
        if borrowed is not None:
            scope = _Scope(borrowed, None, owned=False)
        else:
            meta: dict[str, Any] = dict(self._metadata)
            lg: dict[str, Any] = {"graph": name}
            if thread_id is not None:
                lg["thread_id"] = thread_id
            meta["langgraph"] = lg
            handle = log.session(
                self._title or name,
                tags=["langgraph", *self._tags],
                metadata=meta,
                agent_id=name,
                integration="langgraph",
                integration_version=self._version,
            )
            scope = _Scope(handle, None, owned=True)
        root = _Root(scope, thread_id)
        self.last_session_id = scope.handle.id
        if resuming:
            scope.handle.user_input(_text(value), name="resume", metadata={"resume": True})
        elif inputs is not None:
            _now_event(scope.handle, _USER_INPUT, _text(m.input_content(inputs)), name, None, None)
        return root

    def _scope_for(self, root: _Root, ns: str | None) -> _Scope:
        if not ns or "|" not in ns:
            return root.scope
        known = root.by_ns.get(ns)
        if known is not None:
            return known
        path = m.graph_path(ns)
        with root.lock:
            scope = root.children.get(path)
            if scope is None:
                parent = root.children.get(path[:-1], root.scope) if len(path) > 1 else root.scope
                agent = path[-1]
                handle = parent.handle.child(
                    agent,
                    title=agent,
                    tags=["langgraph", *self._tags],
                    metadata={"langgraph": {"agent": agent, "path": list(path)}},
                    integration="langgraph",
                    integration_version=self._version,
                )
                scope = _Scope(handle, agent, owned=True, path=path)
                root.children[path] = scope
            if len(root.by_ns) < 10_000:
                root.by_ns[ns] = scope
        return scope

    def _finish_root(self, root: _Root, failed: bool) -> None:
        if root.pending:
            self._flush_handoffs(root, None)
        root.memo = {}
        if root.interrupted and root.thread_id is not None:
            _PAUSED[(id(root.scope.handle._log), root.thread_id)] = root
            while len(_PAUSED) > 1000:
                _PAUSED.pop(next(iter(_PAUSED)))
            return
        for scope in root.children.values():
            scope.handle.end("failed" if scope.failed else "completed")
        if root.scope.owned:
            root.scope.handle.end("failed" if failed else "completed")

    # ------------------------------------------------------------ runs
    def _start(
        self,
        kind: int,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        metadata: Mapping[str, Any] | None,
        inputs: Any = None,
        extra: Any = None,
    ) -> _Run:
        if metadata:
            ns = metadata.get("langgraph_checkpoint_ns")
            agent = metadata.get("langgraph_node")
        else:
            ns = agent = None
        parent = None
        if parent_run_id is not None:
            parent = self._runs.get(parent_run_id.int)
            if parent is None and ns:
                # Chains inside a node are not tracked (see on_chain_start): the node
                # that owns this namespace, or the one hosting its graph, stands in.
                nodes = self._nodes
                parent = nodes.get(ns) or (nodes.get(ns.rsplit("|", 1)[0]) if "|" in ns else None)
        now = _time_ns() // 1000
        if parent is None:
            root = self._open_root(name, metadata, inputs)
            scope = root.scope
            parent_event = None
        else:
            root = parent.root
            scope = root.scope if not ns or "|" not in ns else self._scope_for(root, ns)
            parent_event = (
                (parent.event_id or parent.parent_event) if parent.scope is scope else None
            )
        if scope.agent is not None:
            agent = scope.agent
        run = _Run(
            kind,
            root,
            scope,
            # A chain has no event of its own: a root chain (the graph run) is its session.
            None if kind == _CHAIN else new_id(),
            parent_event,
            agent,
            name,
            ns,
            now,
            _perf(),
            extra,
            parent is None,
        )
        self._runs[run_id.int] = run
        return run

    # ------------------------------------------------------------ chains and nodes
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            name = kwargs.get("name") or (serialized or {}).get("name") or "chain"
            if parent_run_id is None:
                self._start(_CHAIN, run_id, None, name, metadata, inputs)
            elif metadata and m.is_node(tags, metadata, name):
                run = self._start(
                    _NODE,
                    run_id,
                    parent_run_id,
                    name,
                    metadata,
                    inputs,
                    metadata.get("langgraph_step"),
                )
                if run.ns:
                    self._nodes[run.ns] = run
            elif not (metadata and "langgraph_checkpoint_ns" in metadata):
                # A chain outside any graph node (plain LangChain): tracked for threading.
                # Inside a node, the many helper chains (prompts, sequences, routers)
                # are skipped: their children find the node by namespace.
                self._start(_CHAIN, run_id, parent_run_id, name, metadata, inputs)
        except Exception as exc:
            self._internal(exc)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._chain_done(run_id, outputs, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._chain_done(run_id, None, error)

    def _chain_done(self, run_id: UUID, outputs: Any, error: BaseException | None) -> None:
        try:
            run = self._runs.pop(run_id.int, None)
            if run is None:  # a helper chain inside a node: not tracked
                return
            if run.kind == _NODE:
                if run.ns:
                    self._nodes.pop(run.ns, None)
                self._node_end(run, outputs, error)
            elif run.is_root:
                self._root_end(run, outputs, error)
        except Exception as exc:
            self._internal(exc)

    def _node_end(self, run: _Run, outputs: Any, error: BaseException | None) -> None:
        duration = (_perf() - run.t0) * 1000.0
        handle = run.scope.handle
        meta: dict[str, Any] = {"langgraph_step": run.extra}
        if run.ns:
            meta["checkpoint_ns"] = run.ns
        status = "ok"
        content: Any = None
        handoffs: list[Any] = []
        kind = None if error is None else self._classify(error)
        if error is None:
            handoffs = m.commands_in(outputs)
            content = _text(m.state_update(outputs, handoffs), run.root.memo)
            back = m.handoff_back(outputs) if not handoffs else None
            if back is not None:
                handoffs = [SimpleNamespace(goto=back, graph=None, update=outputs)]
        elif kind == "command":
            cmd = error.args[0] if error.args else None
            content = _text(m.state_update(cmd), run.root.memo)
            meta["command"] = "parent"
            # The command applies in the graph whose task this node is when its
            # `graph` names this node's namespace; deeper levels only relay it.
            if cmd is not None and getattr(cmd, "graph", None) == run.ns:
                handoffs = [cmd]
        elif kind == "interrupt":
            meta["interrupted"] = True
            self._interrupt(run, error)
        else:
            status = "error"
            run.scope.failed = True
        handle._emit(
            run.event_id or new_id(),
            run.start,
            _STATE_UPDATE,
            content,
            run.name,
            run.agent,
            meta,
            run.parent_event,
            duration,
            status,
        )
        if run.root.pending:
            self._flush_handoffs(run.root, (run.scope.path, run.name))
        for cmd in handoffs:
            self._handoff(run, cmd)
        if status == "error" and error is not None:
            self._error(run, error, run.event_id)

    def _handoff(self, run: _Run, cmd: Any) -> None:
        targets = m.goto_targets(cmd)
        if not targets:
            return
        # Recorded in the session of the graph that runs the target node: the
        # node's own (a `ParentCommand` reaches here at the level where it applies).
        root = run.root
        stamp = _time_ns() // 1000
        said = m.handoff_text(cmd)  # the full update is on the node's STATE_UPDATE
        for target in targets:
            handoff = {
                "scope": run.scope,
                "to_agent": target,
                "content": said or f"{run.name} -> {target}",
                "from_agent": run.name,
                "metadata": {"langgraph_step": run.extra, "command": m.command_route(cmd)},
                "parent_id": run.event_id,
                "timestamp": stamp,
            }
            with root.lock:
                root.pending.setdefault((run.scope.path, target), []).append(handoff)

    def _flush_handoffs(self, root: _Root, key: tuple[tuple[str, ...], str] | None) -> None:
        with root.lock:
            if key is None:
                waiting = [h for hs in root.pending.values() for h in hs]
                root.pending.clear()
            else:
                waiting = root.pending.pop(key, [])
        for h in waiting:
            scope = h["scope"]
            target = h["to_agent"]
            # The metadata `SessionHandle.handoff` writes, built here so the event
            # keeps its stamp in the SDK clock's form (see `SessionHandle._emit`).
            meta: dict[str, Any] = {"from_agent": h["from_agent"], "to_agent": target}
            meta.update(h["metadata"])
            child = root.children.get((*scope.path, target))
            if child is not None:
                meta["child_session_id"] = child.handle.id
            scope.handle._emit(
                new_id(),
                h["timestamp"],
                _HANDOFF,
                h["content"],
                target,
                h["from_agent"],
                meta,
                h["parent_id"],
                None,
                None,
            )

    def _interrupt(self, run: _Run, error: BaseException) -> None:
        if getattr(error, "__agentlog_logged__", False):
            return
        _mark(error)
        run.root.interrupted = True
        run.scope.handle.event(
            EventType.STATE_UPDATE,
            _text(m.interrupts(error)),
            name="interrupt",
            agent_id=run.agent,
            metadata={"interrupt": True},
            parent_id=run.event_id,
        )

    def _root_end(self, run: _Run, outputs: Any, error: BaseException | None) -> None:
        root = run.root
        kind = self._classify(error)
        if error is None or kind in ("command", "interrupt", "bubble"):
            if kind == "interrupt" and error is not None:
                self._interrupt(run, error)
            if not root.interrupted and outputs is not None:
                text = _text(m.output_content(outputs), root.memo)
                _now_event(root.scope.handle, _AGENT_OUTPUT, text, run.name, None, None)
            self._finish_root(root, failed=False)
            return
        if not getattr(error, "__agentlog_logged__", False):
            self._error(run, error, None)
        self._finish_root(root, failed=True)

    def _classify(self, error: BaseException | None) -> str | None:
        if error is None:
            return None
        kinds = self._bubble
        if kinds is not None:
            parent_command, interrupt, bubble = kinds
            if isinstance(error, parent_command):
                return "command"
            if isinstance(error, interrupt):
                return "interrupt"
            if isinstance(error, bubble):
                return "bubble"
        return "error"

    def _error(self, run: _Run, error: BaseException, parent_id: str | None) -> None:
        if getattr(error, "__agentlog_logged__", False):
            return
        run.scope.handle.error(
            error, name=run.name, agent_id=run.agent, parent_id=parent_id or run.parent_event
        )

    # ------------------------------------------------------------ model calls
    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._llm_start(serialized, run_id, parent_run_id, metadata, kwargs, messages)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._llm_start(serialized, run_id, parent_run_id, metadata, kwargs, prompts)

    def _llm_start(
        self,
        serialized: dict[str, Any],
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: dict[str, Any] | None,
        kwargs: dict[str, Any],
        prompt: Any,
    ) -> None:
        try:
            model = m.model_name(
                serialized, metadata, kwargs.get("invocation_params"), kwargs.get("name")
            )
            self._start(_LLM, run_id, parent_run_id, model, metadata, extra=prompt)
        except Exception as exc:
            self._internal(exc)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._runs.pop(run_id.int, None)
            if run is None:
                return
            duration = (_perf() - run.t0) * 1000.0
            generations = getattr(response, "generations", None) or [[]]
            first = generations[0][0] if generations and generations[0] else None
            msg = m.attr(first, "message")
            llm_output = getattr(response, "llm_output", None)
            tokens_in, tokens_out, details = m.usage(msg, llm_output)
            if msg is not None:
                answer: Any = msg
            else:
                answer = m.attr(first, "text")
            meta: dict[str, Any] = {}
            if details:
                meta["usage"] = details
            finish = (m.attr(msg, "response_metadata") or {}).get("finish_reason")
            if finish:
                meta["finish_reason"] = finish
            self._llm_event(run, duration, answer, tokens_in, tokens_out, meta, "ok")
            if self._is_lone(run):
                self._finish_root(run.root, failed=False)
        except Exception as exc:
            self._internal(exc)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._runs.pop(run_id.int, None)
            if run is None:
                return
            duration = (_perf() - run.t0) * 1000.0
            self._llm_event(run, duration, None, None, None, {}, "error")
            self._error(run, error, run.event_id)
            _mark(error)
            if self._is_lone(run):
                self._finish_root(run.root, failed=True)
        except Exception as exc:
            self._internal(exc)

    def _llm_event(
        self,
        run: _Run,
        duration: float,
        answer: Any,
        tokens_in: int | None,
        tokens_out: int | None,
        meta: dict[str, Any],
        status: str,
    ) -> None:
        prompt = run.extra
        if isinstance(prompt, list) and len(prompt) == 1:
            prompt = prompt[0]
        body: dict[str, Any] = {"prompt": prompt}
        if answer is not None:
            body["response"] = answer
        run.scope.handle._emit(
            run.event_id or new_id(),
            run.start,
            _LLM_CALL,
            m.dumps(body, run.root.memo),
            run.name,
            run.agent,
            meta or None,
            run.parent_event,
            duration,
            status,
            tokens_in,
            tokens_out,
            _cost(run.name, tokens_in, tokens_out, meta.get("usage"), self._prices),
        )

    def _is_lone(self, run: _Run) -> bool:
        """A model or tool called on its own (no graph around it): its run is the session."""
        return run.is_root

    # ------------------------------------------------------------ tools
    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            name = (serialized or {}).get("name") or kwargs.get("name") or "tool"
            args = _text(inputs) if inputs is not None else input_str
            self._start(
                _TOOL,
                run_id,
                parent_run_id,
                name,
                metadata,
                extra=(args, kwargs.get("tool_call_id")),
            )
        except Exception as exc:
            self._internal(exc)

    def _tool_call(self, run: _Run, duration: float, status: str) -> None:
        args, call_id = run.extra
        run.scope.handle._emit(
            run.event_id or new_id(),
            run.start,
            _TOOL_CALL,
            args,
            run.name,
            run.agent,
            {"tool_call_id": call_id} if call_id else None,
            run.parent_event,
            duration,
            status,
        )

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._runs.pop(run_id.int, None)
            if run is None:
                return
            duration = (_perf() - run.t0) * 1000.0
            raw, failed = m.tool_output(output)
            content = _text(raw, run.root.memo)
            self._tool_call(run, duration, "error" if failed else "ok")
            handle = run.scope.handle
            if failed:  # the tool turned its exception into a message for the model
                handle.error(
                    content or "",
                    name=run.name,
                    agent_id=run.agent,
                    parent_id=run.event_id,
                    metadata={"handled": True},
                )
            else:
                _now_event(handle, _TOOL_RESULT, content, run.name, run.agent, run.event_id)
            if self._is_lone(run):
                self._finish_root(run.root, failed=failed)
        except Exception as exc:
            self._internal(exc)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            run = self._runs.pop(run_id.int, None)
            if run is None:
                return
            duration = (_perf() - run.t0) * 1000.0
            kind = self._classify(error)
            if kind in ("command", "bubble", "interrupt"):
                self._tool_call(run, duration, "ok")
                if kind == "interrupt":
                    self._interrupt(run, error)
                return
            self._tool_call(run, duration, "error")
            self._error(run, error, run.event_id)
            _mark(error)
            if self._is_lone(run):
                self._finish_root(run.root, failed=True)
        except Exception as exc:
            self._internal(exc)

    # ------------------------------------------------------------ internals
    def _internal(self, exc: Exception) -> None:
        try:
            self._agentlog()._sink.internal_error(exc)
        except Exception:
            pass


# Runs paused by `interrupt()`, by (AgentLog, thread_id): a `Command(resume=...)`
# on the same thread continues their session, whichever handler instance sees it.
_PAUSED: dict[tuple[int, str], _Root] = {}


def _cost(
    model: str,
    tokens_in: int | None,
    tokens_out: int | None,
    details: dict[str, Any] | None,
    prices: Mapping[str, tuple[float, float]] | None,
) -> float | None:
    """The call's cost; cached prompt tokens at the model's cache rates.

    LangChain's `input_tokens` include the cached ones, listed again under
    `input_token_details` (`cache_read`, `cache_creation`).
    """
    cached = (details or {}).get("input_token_details") or {}
    return pricing.inclusive_cost(
        model,
        tokens_in,
        tokens_out,
        cache_read_tokens=cached.get("cache_read"),
        cache_write_tokens=cached.get("cache_creation"),
        table=prices,
    )


def _text(value: Any, memo: m.Memo | None = None) -> str | None:
    """Event content: text as it is, anything else as JSON."""
    if value is None or value.__class__ is str:
        return value
    return m.dumps(value, memo)


def _now_event(
    handle: SessionHandle,
    type: EventType,
    content: str | None,
    name: str | None,
    agent: str | None,
    parent_id: str | None,
) -> None:
    """An event stamped now (what `SessionHandle.event` does, on the handle's fast path)."""
    handle._emit(
        new_id(), _time_ns() // 1000, type, content, name, agent, None, parent_id, None, None
    )


def _thread_id(metadata: Mapping[str, Any] | None) -> str | None:
    if not metadata:
        return None
    value = metadata.get("thread_id")
    return str(value) if value is not None else None


def _mark(error: BaseException) -> None:
    try:
        error.__agentlog_logged__ = True  # type: ignore[attr-defined]  # exceptions take attributes
    except Exception:
        pass


def _tool_link() -> Any:
    """Inside a tool an AgentLogCallback is recording: (its session, its TOOL_CALL id).

    LangChain runs each tool with the child config in a context variable; its
    callback manager's parent is the tool's run, which the handler knows.
    """
    config = var_child_runnable_config.get()
    if not config:
        return None
    manager = config.get("callbacks")
    parent = getattr(manager, "parent_run_id", None)
    if parent is None:
        return None
    for handler in getattr(manager, "handlers", ()):
        if isinstance(handler, AgentLogCallback):
            run = handler._runs.get(parent.int)
            if run is not None and run.event_id is not None:
                return run.scope.handle, run.event_id
    return None


links.register(_tool_link)
