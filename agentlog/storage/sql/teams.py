"""Team keys: sessions and events are keyed by (team, id), so ids are per team and one team learns nothing of another's.

Every row holds its team in `team_id`; `NO_TEAM` (the empty string) is the
team of a local store's rows, so the key never holds NULL and the same unique
index guards local and team rows. A scoped view (`Store.scoped(team)`) reads
and writes only its team's keys. An unscoped view (a local store, or a
server owner acting for every team) finds a session by its id alone: when
several teams hold that id it takes the team-less one, and otherwise refuses
rather than guess (`pick_team`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from agentlog.errors import Conflict, NotFound

NO_TEAM = ""


def team_key(team_id: str | None) -> str:
    """The stored key of a team id (None, a local store's rows, is `NO_TEAM`)."""
    return team_id or NO_TEAM


def public_team(key: str | None) -> str | None:
    """The team id a stored key stands for (None for `NO_TEAM`)."""
    return key or None


def ambiguous(item_id: str, what: str = "session") -> Conflict:
    return Conflict(
        f"{what} id {item_id} is used by several teams; act for one team "
        "(X-AgentLog-Team: <team>) to read or write it"
    )


def not_found(session_id: str) -> NotFound:
    return NotFound(f"session {session_id} not found; list sessions with `agentlog sessions list`")


def pick_team(item_id: str, teams: Collection[str], what: str = "session") -> str | None:
    """The team whose session (or event) `item_id` an unscoped view means (None: no team holds it)."""
    if not teams:
        return None
    if len(teams) == 1:
        return next(iter(teams))
    if NO_TEAM in teams:
        return NO_TEAM
    raise ambiguous(item_id, what)


def only_team(teams: Collection[str]) -> str:
    """The team an unscoped view writes a team-less session into: the one team holding
    its id, else none (`NO_TEAM`: a new team-less session when several teams hold it)."""
    return next(iter(teams)) if len(teams) == 1 else NO_TEAM


def owners(rows: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """(session id, team key) rows as each id's set of teams."""
    found: dict[str, set[str]] = {}
    for sid, team in rows:
        found.setdefault(sid, set()).add(team)
    return found


def resolve_sessions(
    found: dict[str, set[str]], session_ids: Iterable[str]
) -> tuple[dict[str, str], set[str]]:
    """Each session id's team among `found` (its teams, from a lookup in the view's scope),
    and the ids several teams hold (an unscoped view cannot tell which one is meant)."""
    known: dict[str, str] = {}
    several: set[str] = set()
    for sid in session_ids:
        teams = found.get(sid)
        if not teams:
            continue
        try:
            team = pick_team(sid, teams)
        except Conflict:
            several.add(sid)
            continue
        if team is not None:
            known[sid] = team
    return known, several
