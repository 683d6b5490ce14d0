"""A session whose events name thousands of agents keeps its pages small: names are counted, not listed."""

from __future__ import annotations

from agentlog.model import Event, Session
from agentlog.server.testing import TestServer
from agentlog.storage.accounts import Role
from tests.server.web.test_web_pages import PASSWORD, sign_in
from tests.support.server import add_user


def test_thousands_of_agents_are_counted_not_listed(srv: TestServer):
    """Every agent was listed in the sessions row, the page header and the filter (20,000
    agents: a 256 KB sessions page, an 8 MB session page)."""
    alice = add_user(srv, "alice@example.com", Role.MEMBER, "main", PASSWORD)
    s = Session(title="swarm")
    events = [
        Event(session_id=s.id, type="LOG", content="x", agent_id=f"agent-{i:04d}").to_json_dict()
        for i in range(1_000)
    ]
    body = {"sessions": [s.to_json_dict()], "events": events}
    assert srv.client.post("/v1/events:batch", json=body, headers=alice.h).status_code == 200
    web = sign_in(srv, "alice@example.com")
    listing = web.get("/sessions").text
    assert "agent-0009 and 990 more" in listing and "agent-0010" not in listing
    page = web.get(f"/s/{s.id}").text
    header = page.split("agents: ", 1)[1].split("\n", 1)[0]
    assert header.endswith("agent-0009 and 990 more</p>")
    assert page.count('<option value="agent-') == 200
    chosen = web.get(f"/s/{s.id}?agent=agent-0999").text
    assert '<option value="agent-0999" selected>agent-0999</option>' in chosen
