"""A session's page shows the session's own facts above the timeline: times, tags, metadata, family."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from agentlog.model import Event, Session
from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, XSS, sign_in
from tests.support.server import Who, add_user


def _record(srv: TestServer, who: Who, *sessions: Session) -> None:
    body = {
        "sessions": [s.to_json_dict() for s in sessions],
        "events": [
            Event(session_id=s.id, type="LOG", content="x").to_json_dict() for s in sessions
        ],
    }
    assert srv.client.post("/v1/events:batch", json=body, headers=who.h).status_code == 200


def _facts(html: str) -> str:
    """The facts and metadata, which come before the timeline."""
    head = html.split('<ol class="timeline"')[0]
    return head.split('<dl class="facts">', 1)[1]


def test_the_session_page_shows_its_times_tags_metadata_and_family(srv: TestServer):
    alice = add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    parent = Session(title="the parent")
    long = "v" * 500
    s = Session(
        title="a graph run",
        parent_session_id=parent.id,
        tags=["prod", "nightly"],
        metadata={"thread_id": "thread-42", "langgraph": {"step": 3}, "prompt": long},
        status="completed",
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        ended_at=datetime(2026, 3, 1, 12, 5, tzinfo=UTC),
    )
    child = Session(title="a sub-agent", parent_session_id=s.id)
    _record(srv, alice, parent, s, child)
    html = sign_in(srv, "alice@example.com").get(f"/s/{s.id}").text
    facts = " ".join(_facts(html).split())
    assert f"<dt>id</dt><dd><code>{s.id}</code></dd>" in facts
    assert '<dt>created</dt><dd><time datetime="2026-03-01T12:00:00.000000Z">' in facts
    assert '<dt>ended</dt><dd><time datetime="2026-03-01T12:05:00.000000Z">' in facts
    assert '<span class="tag">prod</span><span class="tag">nightly</span>' in facts
    assert "<dt>thread_id</dt><dd>thread-42" in facts
    assert "<dt>langgraph</dt><dd>{&#34;step&#34;:3}" in facts
    assert f'<a href="/s/{parent.id}">the parent</a>' in facts
    assert "sub-sessions</dt><dd>1 (listed below)" in facts
    # A long value is cut, and the whole of it is one click away.
    prompt = facts.split("<dt>prompt</dt>")[1].split("</dd>")[0]
    assert "v" * 160 + "…" in prompt and "v" * 161 not in prompt.split("<details>")[0]
    assert f"<details><summary>full value</summary><pre>{long}</pre></details>" in prompt


def test_hostile_metadata_and_tags_are_text_and_many_entries_fold(srv: TestServer):
    alice = add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    metadata = {f"key{i:02}": i for i in range(30)} | {XSS: XSS, "k" * 100: "short"}
    s = Session(title="hostile", tags=[XSS], metadata=metadata)
    _record(srv, alice, s)
    html = sign_in(srv, "alice@example.com").get(f"/s/{s.id}").text
    facts = _facts(html)
    assert "<script>alert" not in facts and "<img src=x" not in facts
    assert '<span class="tag">&lt;script&gt;alert(' in facts
    assert "&lt;script&gt;alert(&#34;x&#34;)" in facts
    shown, folded = facts.split('<details class="more-metadata">')
    assert len(re.findall(r"<dt", shown)) == 20 + 5  # 20 entries, and id, 3 times and tags
    assert "12 more metadata entries" in folded
    # A long key is cut too; its whole self shows on demand.
    assert "k" * 60 + "…</dt>" in facts and "k" * 100 + ":\nshort</pre>" in facts
