"""An event's body on a session page: structured content says what it did first, its JSON readable on demand."""

from __future__ import annotations

import orjson

from agentlog.model import Event, Session
from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, sign_in
from tests.support.server import add_user


def _page(srv: TestServer, *contents: str, q: str = "") -> tuple[str, list[str]]:
    alice = add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    s = Session(title="a graph run")
    events = [Event(session_id=s.id, type="LLM_CALL", name="gpt-4o", content=c) for c in contents]
    body = {"sessions": [s.to_json_dict()], "events": [e.to_json_dict() for e in events]}
    assert srv.client.post("/v1/events:batch", json=body, headers=alice.h).status_code == 200
    html = sign_in(srv, "alice@example.com").get(f"/s/{s.id}" + (f"?q={q}" if q else "")).text
    items = html.split('<ol class="timeline"', 1)[1].split("</ol>", 1)[0].split("<li ")[1:]
    return html, sorted(items, key=lambda li: [i for i, e in enumerate(events) if e.id in li])


def test_a_model_calls_answer_comes_first_and_its_json_is_indented_behind_it(srv: TestServer):
    call = {
        "prompt": [{"role": "system", "content": "You manage <two> experts."}],
        "response": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"name": "add", "args": {"a": 1}}],
        },
    }
    _, (li,) = _page(srv, orjson.dumps(call).decode())
    assert '<div class="said">→ add({&#34;a&#34;:1})</div>' in li
    full = li.split('<details class="body">', 1)[1]  # closed: no search asked for
    assert full.startswith("<summary>full content</summary>")
    assert "  &#34;prompt&#34;: [\n" in full  # indented, and escaped
    assert "You manage &lt;two&gt; experts." in full


def test_a_search_opens_the_bodies_it_matched_in(srv: TestServer):
    hit = orjson.dumps({"prompt": "find the quince", "response": "done"}).decode()
    _, items = _page(srv, hit, q="QUINCE")
    assert '<details class="body" open>' in items[0] and "<mark>quince</mark>" in items[0]


def test_plain_text_is_shown_whole_as_before(srv: TestServer):
    _, (li,) = _page(srv, "just words\nover two lines")
    assert '<pre class="content">just words\nover two lines</pre>' in li
    assert 'class="said"' not in li
    assert 'class="event type-llm_call status-ok"' in li  # as the style sheet names them


def test_a_big_body_is_cut_on_the_page_and_links_the_whole_event(srv: TestServer):
    """Every body was shown whole: 50 big tool results made one page 27 MB (14 s to load)."""
    many_lines = "\n".join(f"row {i}" for i in range(10_000))
    wide = "x" * 300_000
    html, (lines_li, wide_li, small_li) = _page(srv, many_lines, wide, "small")
    assert len(html) < 300_000
    assert "row 1999</pre>" in lines_li and "row 2000" not in lines_li
    assert f"{len(many_lines):,} characters in all; the start is shown." in lines_li
    assert "300,000 characters in all" in wide_li and wide_li.count("x") < 70_000
    link = lines_li.split('<a href="/v1/events/', 1)[1].split('"', 1)[0]
    whole = sign_in(srv, "alice@example.com").get(f"/v1/events/{link}")
    assert whole.status_code == 200 and whole.json()["content"] == many_lines
    assert 'class="cut"' not in small_li
