"""Realistic, deterministic sample data: what `agentlog demo`, the docs and the TUI tests show.

`generate_demo(store, seed=0, now=...)` writes the same sessions and events
(same ids, same times relative to `now`) every time, straight through
`store.write` in large batches, so it is fast and running it twice adds
nothing. A different seed gives another, non-overlapping set.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agentlog.errors import NotFound
from agentlog.mcp.frames import CLIENT_TO_SERVER, SERVER_TO_CLIENT
from agentlog.mcp.mapping import McpMapper
from agentlog.model import (
    MAX_BATCH_EVENTS,
    Event,
    EventStatus,
    EventType,
    Session,
    SessionStatus,
)
from agentlog.storage.base import Store

LONG_SESSION_EVENTS = 10_200
# Ids carry a UUIDv7 time that depends only on the seed and each item's offset
# from `now`, so a re-run with another `now` still produces the same ids.
_ID_ANCHOR = datetime(2026, 3, 1, tzinfo=UTC)
_PRICES = {  # USD per million tokens (input, output)
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-3-5-haiku": (0.80, 4.00),
}

Progress = Callable[[int, int], None]


@dataclass
class DemoResult:
    """What was written: session ids by role, and counts."""

    seed: int
    sessions: dict[str, str] = field(default_factory=dict)
    session_count: int = 0
    event_count: int = 0
    already_present: bool = False

    @property
    def long_session_id(self) -> str:
        return self.sessions["long"]


class _Ids:
    """Deterministic UUIDv7 text from a seeded RNG and a time offset."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now

    def make(self, at: datetime) -> str:
        ms = int((_ID_ANCHOR + (at - self.now)).timestamp() * 1000)
        rand_a = self.rng.getrandbits(12)
        rand_b = self.rng.getrandbits(62)
        value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
        return str(uuid.UUID(int=value))


class _Run:
    """Builds one session's events on a moving clock, the way the SDK would record them."""

    def __init__(self, demo: _Demo, session: Session, start: datetime, agent: str) -> None:
        self.demo = demo
        self.session = session
        self.t = start
        self.agent = agent
        self.events: list[Event] = []

    def wait(self, ms: float) -> None:
        self.t += timedelta(microseconds=max(1, int(ms * 1000)))

    def add(
        self,
        type_: EventType,
        content: Any = None,
        *,
        name: str | None = None,
        agent: str | None = None,
        duration_ms: float | None = None,
        status: EventStatus = EventStatus.OK,
        parent: Event | None = None,
        metadata: dict[str, Any] | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost_usd: float | None = None,
        gap_ms: float | None = None,
    ) -> Event:
        self.wait(gap_ms if gap_ms is not None else self.demo.rng.uniform(20, 400))
        event = Event(
            id=self.demo.ids.make(self.t),
            session_id=self.session.id,
            timestamp=self.t,
            type=type_,
            agent_id=agent or self.agent,
            name=name,
            content=content,
            metadata=metadata or {},
            parent_id=parent.id if parent else None,
            duration_ms=None if duration_ms is None else round(duration_ms, 3),
            status=status,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost_usd,
        )
        self.events.append(event)
        return event

    # -- the SDK's vocabulary
    def user(self, text: str) -> Event:
        return self.add(EventType.USER_INPUT, text, name="user")

    def output(self, text: str, agent: str | None = None) -> Event:
        return self.add(EventType.AGENT_OUTPUT, text, agent=agent)

    def llm(
        self, model: str, prompt: str, response: str, *, agent: str | None = None, ms: float = 0
    ) -> Event:
        rng = self.demo.rng
        tokens_in = max(20, int(len(prompt) / 3.7) + rng.randint(150, 1400))
        tokens_out = max(8, int(len(response) / 3.9) + rng.randint(5, 120))
        price_in, price_out = _PRICES[model]
        cost = round((tokens_in * price_in + tokens_out * price_out) / 1_000_000, 6)
        duration = ms or rng.lognormvariate(6.6, 0.45)  # ~750 ms median
        event = self.add(
            EventType.LLM_CALL,
            response,
            name=model,
            agent=agent,
            duration_ms=duration,
            metadata={"prompt": prompt, "temperature": 0.2, "provider": model.split("-")[0]},
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            cost_usd=cost,
        )
        self.wait(duration)
        return event

    def tool(
        self,
        name: str,
        args: dict[str, Any],
        result: Any,
        *,
        agent: str | None = None,
        ms: float = 0,
        error: str | None = None,
    ) -> tuple[Event, Event]:
        duration = ms or self.demo.rng.lognormvariate(5.0, 0.8)  # ~150 ms median
        status = EventStatus.ERROR if error else EventStatus.OK
        call = self.add(
            EventType.TOOL_CALL,
            args,
            name=name,
            agent=agent,
            duration_ms=duration,
            status=status,
            metadata={"arguments": args},
        )
        self.wait(duration)
        body = {"error": error} if error else result
        res = self.add(
            EventType.TOOL_RESULT,
            body,
            name=name,
            agent=agent,
            parent=call,
            status=status,
            gap_ms=0,
        )
        return call, res

    def handoff(self, to_agent: str, reason: str) -> Event:
        event = self.add(
            EventType.HANDOFF,
            reason,
            name=to_agent,
            metadata={"from_agent": self.agent, "to_agent": to_agent},
        )
        self.agent = to_agent
        return event

    def state(self, node: str, values: dict[str, Any], agent: str | None = None) -> Event:
        return self.add(EventType.STATE_UPDATE, values, name=node, agent=agent)

    def error(self, text: str, *, name: str, parent: Event | None = None, **meta: Any) -> Event:
        return self.add(
            EventType.ERROR, text, name=name, status=EventStatus.ERROR, parent=parent, metadata=meta
        )

    def log(self, text: str, level: str = "info") -> Event:
        return self.add(EventType.LOG, text, name=level, metadata={"level": level}, gap_ms=5)

    def finish(self, status: SessionStatus) -> None:
        self.session.status = status
        self.session.ended_at = None if status is SessionStatus.ACTIVE else self.t
        self.session.updated_at = self.t


class _Demo:
    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.now = now
        self.ids = _Ids(self.rng, now)
        self.runs: list[_Run] = []

    def session(
        self,
        title: str,
        *,
        ago: timedelta,
        agent: str,
        tags: list[str],
        description: str = "",
        parent: Session | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> _Run:
        start = self.now - ago
        session = Session(
            id=self.ids.make(start),
            title=title,
            description=description,
            parent_session_id=parent.id if parent else None,
            tags=tags,
            metadata={"demo_seed": self.seed, "sdk": {"name": "agentlog-demo", "version": "1"}}
            | (metadata or {}),
            created_at=start,
            updated_at=start,
        )
        run = _Run(self, session, start, agent)
        self.runs.append(run)
        return run


# ---------------------------------------------------------------- the scenarios
def _triage(demo: _Demo) -> tuple[_Run, _Run]:
    run = demo.session(
        "Why did the deploy fail?",
        ago=timedelta(hours=2, minutes=14),
        agent="planner",
        tags=["triage", "prod"],
        description="Planner hands the question to a researcher, who finds the cause; "
        "the coder writes the fix.",
    )
    run.user("Why did last night's deploy of billing-api fail? Please find the cause and fix it.")
    run.llm(
        "gpt-4o",
        "You are a planner. Break the user's request into steps.",
        "Plan: 1) researcher reads the CI logs and recent commits 2) coder writes a fix "
        "3) coder runs the tests.",
    )
    run.state("plan", {"steps": ["research", "fix", "test"], "current": "research"})
    run.handoff("researcher", "Read the CI logs of the failed deploy and find the first error.")
    run.tool(
        "search_logs",
        {"query": "deploy billing-api status:failed", "since": "24h"},
        {"hits": 3, "first": "ERROR alembic: column invoices.tax_rate does not exist"},
    )
    run.tool(
        "read_file",
        {"path": "migrations/versions/0042_tax_rate.py"},
        "def upgrade():\n    op.add_column('invoice', sa.Column('tax_rate', sa.Numeric()))",
    )
    run.llm(
        "claude-3-5-sonnet",
        "Compare the failing query with migration 0042.",
        "Migration 0042 adds `tax_rate` to table `invoice`, but the code queries "
        "`invoices.tax_rate`: the migration targets the wrong table name.",
        agent="researcher",
    )
    child = demo.session(
        "researcher: confirm the schema on staging",
        ago=timedelta(hours=2, minutes=9),
        agent="researcher",
        tags=["triage", "sub-agent"],
        parent=run.session,
    )
    child.tool("sql_query", {"sql": "\\d invoices"}, {"columns": ["id", "total", "currency"]})
    child.tool("sql_query", {"sql": "\\d invoice"}, {"error": "relation invoice does not exist"})
    child.llm(
        "gpt-4o-mini",
        "Summarise the two schema lookups.",
        "Staging has `invoices` (plural) and no `invoice` table: the migration is wrong.",
    )
    child.output("Confirmed: migration 0042 names table `invoice`; the real table is `invoices`.")
    child.finish(SessionStatus.COMPLETED)
    run.wait(1500)
    run.handoff("coder", "Fix migration 0042 to alter `invoices` and re-run the tests.")
    run.tool(
        "edit_file",
        {
            "path": "migrations/versions/0042_tax_rate.py",
            "find": "'invoice'",
            "replace": "'invoices'",
        },
        {"changed_lines": 1},
        agent="coder",
    )
    run.tool(
        "run_tests",
        {"command": "pytest tests/migrations -q"},
        {"passed": 48, "failed": 0, "seconds": 11.4},
        agent="coder",
        ms=11_400,
    )
    run.log("pytest: 48 passed in 11.40s")
    run.llm(
        "gpt-4o",
        "Write the summary for the user.",
        "The deploy failed because migration 0042 altered a non-existent table `invoice`. "
        "I fixed it to `invoices`; all 48 migration tests pass.",
        agent="coder",
    )
    run.output(
        "Cause: migration 0042 targets table `invoice` instead of `invoices`. Fixed and tested "
        "(48 passed). Ready to redeploy.",
        agent="coder",
    )
    run.finish(SessionStatus.COMPLETED)
    return run, child


def _eval_run(demo: _Demo, *, failing: bool) -> _Run:
    ago = timedelta(hours=3, minutes=5) if failing else timedelta(days=1, hours=3)
    run = demo.session(
        "Nightly eval: summarize-tickets",
        ago=ago,
        agent="summarizer",
        tags=["eval", "nightly"],
        description="Summarise yesterday's support tickets into a digest.",
        metadata={"build": 1289 if failing else 1288},
    )
    run.user("Summarise yesterday's support tickets for the #support channel.")
    run.state("load", {"queue": "support", "window": "24h"})
    if failing:
        call = run.add(
            EventType.TOOL_CALL,
            {"queue": "support", "since": "24h"},
            name="fetch_tickets",
            duration_ms=30_000,
            status=EventStatus.ERROR,
            metadata={"arguments": {"queue": "support", "since": "24h"}, "timeout_s": 30},
        )
        run.wait(30_000)
        run.add(
            EventType.TOOL_RESULT,
            {"error": "timeout: the ticket API did not answer within 30 s"},
            name="fetch_tickets",
            parent=call,
            status=EventStatus.ERROR,
            gap_ms=0,
        )
        run.error(
            "TimeoutError: fetch_tickets timed out after 30 s (timeout=30). "
            "The ticket API at tickets.internal:443 did not respond.",
            name="TimeoutError",
            parent=call,
            retryable=True,
        )
        run.log("giving up after 1 attempt; marking the run as failed", level="error")
        run.finish(SessionStatus.FAILED)
        return run
    run.tool(
        "fetch_tickets",
        {"queue": "support", "since": "24h"},
        {"count": 37, "ids": [f"T-{4100 + i}" for i in range(5)]},
        ms=2_300,
    )
    run.llm(
        "gpt-4o-mini",
        "Summarise these 37 tickets in five bullet points.",
        "- 12 tickets about login loops after the SSO change\n- 9 about slow invoice exports\n"
        "- 7 billing questions\n- 5 feature requests\n- 4 other",
    )
    run.tool("post_message", {"channel": "#support", "chars": 212}, {"ok": True, "ts": "1717.02"})
    run.output("Posted the digest of 37 tickets to #support.")
    run.finish(SessionStatus.COMPLETED)
    return run


def _mcp(demo: _Demo) -> _Run:
    """A stdio MCP conversation, mapped by the same McpMapper the proxy records with."""
    run = demo.session(
        "MCP: filesystem server session",
        ago=timedelta(hours=5, minutes=40),
        agent="mcp-client",
        tags=["mcp"],
        description="A client talking JSON-RPC to an MCP filesystem server over stdio.",
    )
    mapper = McpMapper(session_id=run.session.id, agent_id="mcp-client")
    ids: dict[str, str] = {}  # the mapper's fresh ids -> the demo's deterministic ones

    def send(message: dict[str, Any], direction: str, gap_ms: float) -> None:
        run.wait(gap_ms)
        for i, event in enumerate(mapper.feed(message, direction, at=run.t.timestamp())):
            if i:  # the message first, then what it maps to, a microsecond apart, in that order
                run.wait(0.001)
                event.timestamp = run.t
            ids[event.id] = run.demo.ids.make(run.t)
            event.id = ids[event.id]
            event.parent_id = ids.get(event.parent_id or "", event.parent_id)
            run.events.append(event)

    def exchange(method: str, params: dict[str, Any], result: Any, *, error: Any = None) -> None:
        msg_id = sum(e.type is EventType.MCP_MESSAGE for e in run.events) + 1
        send(
            {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params},
            CLIENT_TO_SERVER,
            demo.rng.uniform(20, 400),
        )
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id}
        reply |= {"error": error} if error else {"result": result}
        send(reply, SERVER_TO_CLIENT, demo.rng.lognormvariate(3.0, 0.7))

    exchange(
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "demo-client", "version": "1.0"},
        },
        {
            "protocolVersion": "2025-06-18",
            "serverInfo": {"name": "filesystem", "version": "0.6.2"},
            "capabilities": {"tools": {}},
        },
    )
    send({"jsonrpc": "2.0", "method": "notifications/initialized"}, CLIENT_TO_SERVER, 120)
    exchange(
        "tools/list",
        {},
        {
            "tools": [
                {"name": name, "inputSchema": {"type": "object"}}
                for name in ("read_file", "write_file", "list_directory")
            ]
        },
    )
    exchange(
        "tools/call",
        {"name": "list_directory", "arguments": {"path": "/srv/app"}},
        {"content": [{"type": "text", "text": "app.py\nrequirements.txt\ntests/"}]},
    )
    exchange(
        "tools/call",
        {"name": "read_file", "arguments": {"path": "/srv/app/app.py"}},
        {"content": [{"type": "text", "text": "from flask import Flask\napp = Flask(__name__)"}]},
    )
    exchange(
        "tools/call",
        {"name": "write_file", "arguments": {"path": "/etc/passwd"}},
        None,
        error={"code": -32602, "message": "Invalid params: path outside allowed directories"},
    )
    run.session.metadata["mcp"] = dict(mapper.context)
    run.finish(SessionStatus.COMPLETED)
    return run


def _multilingual(demo: _Demo) -> _Run:
    run = demo.session(
        "多言语支持 · 多言語サポート · دعم متعدد اللغات",
        ago=timedelta(hours=7, minutes=20),
        agent="translator",
        tags=["i18n"],
        description="Questions and answers in Chinese, Japanese and Arabic.",
    )
    run.user("请帮我总结这份关于数据库索引的报告。")
    run.llm(
        "gpt-4o",
        "总结数据库索引报告",
        "这份报告说明了为什么全文索引比逐行扫描快得多，并建议为日志表建立索引。",
    )
    run.user("東京の明日の天気予報を調べてください。")
    run.tool("weather_lookup", {"city": "東京"}, {"forecast": "晴れのち曇り、最高気温は二十三度"})
    run.output("東京の明日は晴れのち曇り、最高気温は二十三度の予報です。")
    run.user("ما هي أفضل طريقة لتخزين سجلات الوكلاء؟")
    run.llm(
        "claude-3-5-haiku",
        "أجب بالعربية",
        "أفضل طريقة هي قاعدة بيانات محلية مع فهرس للبحث النصي الكامل.",
    )
    run.output("أفضل طريقة هي قاعدة بيانات محلية مع فهرس للبحث النصي الكامل.")
    run.finish(SessionStatus.COMPLETED)
    return run


def _long(demo: _Demo) -> _Run:
    run = demo.session(
        "Crawler load test (10,000+ events)",
        ago=timedelta(hours=1, minutes=30),
        agent="crawler",
        tags=["load-test"],
        description="A crawler fetching and parsing pages: a long session for paging and follow.",
    )
    rng = demo.rng
    hosts = ["docs.example.com", "blog.example.org", "shop.example.net", "wiki.example.io"]
    page = 0
    while len(run.events) < LONG_SESSION_EVENTS:
        page += 1
        url = f"https://{hosts[page % len(hosts)]}/page/{page}"
        failed = page % 97 == 0
        status = 503 if failed else 200
        call = run.add(
            EventType.TOOL_CALL,
            {"url": url},
            name="fetch_url",
            agent="fetcher",
            duration_ms=rng.lognormvariate(4.5, 0.6),
            status=EventStatus.ERROR if failed else EventStatus.OK,
            gap_ms=rng.uniform(5, 40),
        )
        run.add(
            EventType.TOOL_RESULT,
            {"status": status, "bytes": rng.randint(2_000, 90_000)},
            name="fetch_url",
            agent="fetcher",
            parent=call,
            status=EventStatus.ERROR if failed else EventStatus.OK,
            gap_ms=call.duration_ms,
        )
        if failed:
            run.error(f"HTTP 503 from {url}; will retry later", name="HTTPError", parent=call)
        else:
            run.add(
                EventType.TOOL_CALL,
                {"url": url, "selector": "article"},
                name="parse_html",
                agent="parser",
                duration_ms=rng.lognormvariate(2.3, 0.5),
                gap_ms=2,
            )
        run.log(f"crawled {page} pages, queue {max(0, 5000 - page)}", level="debug")
        if page % 50 == 0:
            run.state("crawler", {"pages": page, "errors": page // 97})
    run.finish(SessionStatus.COMPLETED)
    return run


_BACKGROUND = [
    ("support-bot", "Refund request for order #{n}", ["support"]),
    ("sql-agent", "Weekly revenue report", ["reports"]),
    ("code-reviewer", "Review PR #{n}: add rate limiting", ["review"]),
    ("planner", "Plan the Q3 data migration", ["planning"]),
    ("support-bot", "Password reset loop for user {n}", ["support"]),
    ("sql-agent", "Find duplicate customers", ["reports", "data"]),
]


def _background(demo: _Demo, count: int) -> None:
    rng = demo.rng
    for i in range(count):
        agent, title, tags = _BACKGROUND[i % len(_BACKGROUND)]
        ago = timedelta(days=(i * 13) / count, hours=rng.randint(0, 20), minutes=rng.randint(0, 59))
        if i == 0:
            ago = timedelta(minutes=6)
        run = demo.session(title.format(n=1000 + i * 7), ago=ago, agent=agent, tags=tags)
        run.user(f"Task {i}: {title.format(n=1000 + i * 7).lower()}.")
        model = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "claude-3-5-haiku"][i % 4]
        for step in range(rng.randint(2, 6)):
            run.llm(model, f"step {step}: decide the next action", f"Next: call tool #{step}.")
            tool = ["lookup_order", "sql_query", "read_file", "http_get"][(i + step) % 4]
            run.tool(tool, {"step": step, "task": i}, {"rows": rng.randint(0, 40)})
        if i == 0:
            run.finish(SessionStatus.ACTIVE)  # still running: something to `tail`
        elif i % 5 == 3:
            run.error("ValueError: could not parse the tool's answer", name="ValueError")
            run.finish(SessionStatus.FAILED)
        else:
            run.output(f"Done with task {i}.")
            run.finish(SessionStatus.COMPLETED)


# ---------------------------------------------------------------- entry point
def generate_demo(
    store: Store,
    *,
    seed: int = 0,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Write the demo sessions for `seed` into `store` (idempotent: same ids every time)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    demo = _Demo(seed, now)
    result = DemoResult(seed=seed)
    triage, child = _triage(demo)
    passing = _eval_run(demo, failing=False)
    failing = _eval_run(demo, failing=True)
    mcp = _mcp(demo)
    i18n = _multilingual(demo)
    long = _long(demo)
    _background(demo, 18)
    result.sessions = {
        "triage": triage.session.id,
        "child": child.session.id,
        "eval_pass": passing.session.id,
        "eval_fail": failing.session.id,
        "mcp": mcp.session.id,
        "i18n": i18n.session.id,
        "long": long.session.id,
    }
    result.session_count = len(demo.runs)
    result.event_count = sum(len(r.events) for r in demo.runs)
    try:
        # The long session's events are written last: when they are all there,
        # this seed is already present and writing again would change nothing.
        if store.get_session(long.session.id).event_count >= len(long.events):
            result.already_present = True
            return result
    except NotFound:
        pass
    store.write(sessions=[r.session for r in demo.runs])
    events = [e for r in demo.runs for e in r.events]
    done = 0
    for start in range(0, len(events), MAX_BATCH_EVENTS):
        batch = events[start : start + MAX_BATCH_EVENTS]
        store.write(events=batch)
        done += len(batch)
        if progress:
            progress(done, len(events))
    # Re-assert the sessions' final state (status, end time) after their events.
    store.write(sessions=[r.session for r in demo.runs])
    return result


__all__ = ["LONG_SESSION_EVENTS", "DemoResult", "generate_demo"]
