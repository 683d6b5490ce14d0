"""PostgreSQL retention: whole months dropped only past every team's horizon, totals kept right."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from agentlog.errors import NotFound, UsageError
from agentlog.model import Event, EventType, Session
from agentlog.storage.base import EventQuery, MonthPartitioned, month_partitioned

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("AGENTLOG_TEST_POSTGRES_URL"), reason="needs PostgreSQL"),
]


@pytest.fixture
def pg() -> Iterator:
    from agentlog.storage.postgres.testing import temporary_store

    store = temporary_store()
    try:
        yield store
    finally:
        store.close()


def _at(year: int, month: int, day: int = 10) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def _write(store, team: str, when: list[datetime], **kw) -> str:
    s = Session(title=f"{team} run", created_at=when[0], updated_at=when[0])
    events = [
        Event(session_id=s.id, type=EventType.LLM_CALL, timestamp=t, agent_id=f"a{i % 2}", **kw)
        for i, t in enumerate(when)
    ]
    store.scoped(team, "u").write(sessions=[s], events=events)
    return s.id


def test_the_postgres_store_is_month_partitioned(pg):
    assert isinstance(pg, MonthPartitioned) and month_partitioned(pg) is pg
    months = pg.maintain_partitions()
    now = datetime.now(UTC)
    assert f"{now:%Y-%m}" in months and len(months) >= 3
    with pytest.raises(UsageError):
        pg.scoped("team-a").drop_expired_months({})


def test_a_month_goes_only_when_every_team_is_past_it(pg):
    old = _write(pg, "team-a", [_at(2024, 1), _at(2024, 1, 20)])
    _write(pg, "team-b", [_at(2024, 1, 5)])
    pg.flush_index()
    # team-b keeps everything: nothing is dropped.
    assert pg.drop_expired_months({"team-a": _at(2024, 6)}) == []
    assert pg.scoped("team-a").get_session(old).event_count == 2
    # team-b keeps from 2024-01-15 on: January does not end before that.
    horizons = {"team-a": _at(2024, 6), "team-b": datetime(2024, 1, 15, tzinfo=UTC)}
    assert pg.drop_expired_months(horizons) == []
    horizons["team-b"] = datetime(2024, 2, 1, tzinfo=UTC)
    assert pg.drop_expired_months(horizons) == ["2024-01"]
    assert "2024-01" not in pg.maintain_partitions()
    # The sessions stay (the prune of retention erases idle sessions first); their
    # totals now count what is left.
    got = pg.scoped("team-a").get_session(old)
    assert (got.event_count, got.input_tokens, got.first_event_at) == (0, 0, None)
    assert pg.count_events(EventQuery()) == 0


def test_a_session_across_the_boundary_keeps_its_newer_events_and_right_totals(pg):
    sid = _write(
        pg,
        "team-a",
        [_at(2024, 1, 30), _at(2024, 2, 2), _at(2024, 2, 3)],
        input_tokens=10,
        cost_usd=0.5,
    )
    assert pg.drop_expired_months({"team-a": datetime(2024, 2, 1, tzinfo=UTC)}) == ["2024-01"]
    got = pg.scoped("team-a").get_session(sid)
    assert got.event_count == 2 and got.input_tokens == 20
    assert got.cost_usd == pytest.approx(1.0)
    assert got.first_event_at == _at(2024, 2, 2)
    assert got.agents == ["a1", "a0"]
    assert [e.timestamp for e in pg.list_events(EventQuery(session_id=sid, order="asc")).items] == [
        _at(2024, 2, 2),
        _at(2024, 2, 3),
    ]


def test_prune_erases_in_bounded_batches(pg, monkeypatch):
    from agentlog.storage.postgres import store as pg_store

    monkeypatch.setattr(pg_store, "PRUNE_BATCH_SESSIONS", 2)
    ids = [_write(pg, "team-a", [_at(2024, 3, d)]) for d in range(1, 6)]
    keep = _write(pg, "team-a", [_at(2024, 5)])
    assert pg.scoped("team-a").prune(_at(2024, 4)) == 5
    for sid in ids:
        with pytest.raises(NotFound):
            pg.scoped("team-a").get_session(sid)
    assert pg.scoped("team-a").get_session(keep).event_count == 1


def test_apply_retention_prunes_per_team_then_drops_common_months(pg, tmp_path):
    """The server's retention run on PostgreSQL: archive, prune by team, drop months, audit."""
    import gzip

    import orjson

    from agentlog.server.retention import apply_retention
    from agentlog.storage.accounts import open_accounts

    accounts = open_accounts(pg.url)
    try:
        short = accounts.create_team("short")
        long = accounts.create_team("long")
        now = datetime(2024, 9, 15, tzinfo=UTC)
        accounts.set_team_retention(short.id, 30)  # keeps from 2024-08-16
        accounts.set_team_retention(long.id, 120)  # keeps from 2024-05-18
        gone = _write(pg, short.id, [_at(2024, 7)])
        kept_short = _write(pg, short.id, [_at(2024, 9)])
        old_long = _write(pg, long.id, [_at(2024, 4)])
        kept_long = _write(pg, long.id, [_at(2024, 4, 28), _at(2024, 6)])
        report = apply_retention(pg, accounts, now=now, archive_dir=tmp_path / "arch")
        assert report.sessions_erased == {short.id: 1, long.id: 1}
        # Months that end before both horizons (the earlier: 2024-05-18): April.
        assert report.months_dropped == ["2024-04"]
        for team, sid in ((short.id, gone), (long.id, old_long)):
            with pytest.raises(NotFound):
                pg.scoped(team).get_session(sid)
        assert pg.scoped(short.id).get_session(kept_short).event_count == 1
        assert pg.scoped(long.id).get_session(kept_long).event_count == 1  # April's went
        archived = gzip.decompress(
            (tmp_path / "arch" / f"{short.id}-20240915T000000Z.ndjson.gz").read_bytes()
        )
        records = [orjson.loads(line) for line in archived.splitlines()]
        assert gone.encode() in archived and kept_short.encode() not in archived
        assert len(records) >= 2  # the session and its event, in the `agentlog export` format
        actions = [e.action for e in accounts.list_audit(limit=20)]
        assert actions.count("retention.erase") == 2 and "retention.drop_months" in actions
    finally:
        accounts.close()


def test_an_encrypted_store_keeps_partitions_and_erasure(pg, tmp_path):
    """`EncryptedStore` forwards through __getattr__: the capability checks still find them."""
    from agentlog.storage.base import erases_users
    from agentlog.storage.encrypted import encrypted, new_key
    from agentlog.storage.sqlite.store import SQLiteStore

    sealed = encrypted(pg, new_key())
    assert month_partitioned(sealed) is not None and erases_users(sealed) is not None
    sid = _write(pg, "team-a", [_at(2024, 1)])
    assert month_partitioned(sealed).drop_expired_months({"team-a": _at(2024, 3)}) == ["2024-01"]
    assert sealed.scoped("team-a").erase_user_sessions("u") == 1
    with pytest.raises(NotFound):
        pg.scoped("team-a").get_session(sid)
    local = SQLiteStore(tmp_path / "local.db")
    try:
        plain = encrypted(local, new_key())
        assert month_partitioned(plain) is None and erases_users(plain) is not None
    finally:
        local.close()
