"""GET /v1/audit pages: newest first, `X-Next-Cursor` names the next page, a cursor is bound to
its team's log."""

from __future__ import annotations

from agentlog.storage.accounts import Actor
from tests.support.server import World


def _fill(world: World, n: int, team_id: str | None = None) -> None:
    actor = Actor(user_id=world.admin.user.id)
    for i in range(n):
        world.srv.accounts.audit("test.entry", actor, team_id=team_id, target=f"t{i}")


def _all_pages(world: World, limit: int, query: str = "") -> tuple[list[dict], int]:
    c, h = world.client, world.admin.h
    seen: list[dict] = []
    pages = 0
    cursor = None
    while True:
        params = f"?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        r = c.get(f"/v1/audit{params}", headers=h)
        assert r.status_code == 200, r.text
        seen += r.json()
        pages += 1
        cursor = r.headers.get("X-Next-Cursor")
        if cursor is None:
            return seen, pages


def test_pages_walk_the_whole_log_newest_first_once(world: World) -> None:
    _fill(world, 7)
    everything = world.client.get("/v1/audit?limit=1000", headers=world.admin.h).json()
    assert (
        "X-Next-Cursor"
        not in world.client.get("/v1/audit?limit=1000", headers=world.admin.h).headers
    )
    paged, pages = _all_pages(world, 3)
    assert paged == everything  # same entries, same order, none twice
    assert pages == -(-len(everything) // 3)
    assert [e["at"] for e in paged] == sorted((e["at"] for e in paged), reverse=True)
    assert sum(e["action"] == "test.entry" for e in paged) == 7


def test_a_bad_cursor_or_another_teams_cursor_is_a_clear_400(world: World) -> None:
    _fill(world, 3, team_id=world.other_team_id)
    c, h = world.client, world.admin.h
    first = c.get("/v1/audit?limit=1", headers=h)
    cursor = first.headers["X-Next-Cursor"]
    for bad in ("nope", cursor[:-3] + "abc"):
        r = c.get(f"/v1/audit?limit=1&cursor={bad}", headers=h)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor", r.text
    # The cursor of the whole log is not a cursor of team "other"'s log.
    r = c.get(f"/v1/audit?limit=1&team=other&cursor={cursor}", headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"
    assert "different query" in r.json()["error"]["message"]
