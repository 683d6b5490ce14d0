"""Cache reads, cache writes and reasoning tokens are stored, read back and summed on every backend."""

from __future__ import annotations

from typer.testing import CliRunner

from agentlog.cli.app import app
from agentlog.model import EventType
from agentlog.storage.base import EventQuery, SessionQuery


def test_token_details_round_trip_and_sum(store, make) -> None:
    session = make.session()
    calls = [
        make.event(
            session.id,
            EventType.LLM_CALL,
            input_tokens=20_000,
            output_tokens=400,
            cache_read_tokens=18_000,
            cache_creation_tokens=1_000,
            reasoning_tokens=256,
        ),
        make.event(session.id, EventType.LLM_CALL, input_tokens=10, output_tokens=5),
    ]
    assert store.write([session], calls).inserted == 2
    first, plain = store.list_events(EventQuery(session_id=session.id)).items
    assert (first.cache_read_tokens, first.cache_creation_tokens, first.reasoning_tokens) == (
        18_000,
        1_000,
        256,
    )
    assert (plain.cache_read_tokens, plain.reasoning_tokens) == (None, None)  # never reported
    record = store.list_event_records(EventQuery(session_id=session.id)).items[0]
    assert record["cache_read_tokens"] == 18_000 and record["reasoning_tokens"] == 256
    report = store.stats(EventQuery(session_id=session.id))
    assert (report.cache_read_tokens, report.cache_creation_tokens, report.reasoning_tokens) == (
        18_000,
        1_000,
        256,
    )


def test_stats_shows_the_breakdown(tmp_path, make) -> None:
    from agentlog.storage import open_store

    db = tmp_path / "a.db"
    session = make.session()
    with open_store(str(db)) as store:
        store.write(
            [session],
            [
                make.event(
                    session.id,
                    EventType.LLM_CALL,
                    input_tokens=1_000,
                    output_tokens=400,
                    cache_read_tokens=900,
                    reasoning_tokens=256,
                )
            ],
        )
    result = CliRunner().invoke(app, ["--db", str(db), "stats"])
    assert result.exit_code == 0, result.output
    assert "1,000 in (900 cached) / 400 out (256 reasoning)" in " ".join(result.stdout.split())
    shown = CliRunner().invoke(app, ["--db", str(db), "sessions", "show", session.id])
    assert shown.exit_code == 0, shown.output
    assert "1,000 in (900 cached) / 400 out (256 reasoning)" in " ".join(shown.stdout.split())
    as_json = CliRunner().invoke(app, ["--db", str(db), "sessions", "show", session.id, "--json"])
    assert '"cache_read_tokens":900' in as_json.stdout.replace(" ", "")


def test_session_totals_of_token_details(store, make) -> None:
    """The session summary sums them as events arrive, over several writes, like its tokens."""
    session = make.session()
    store.write(
        [session],
        [
            make.event(
                session.id,
                EventType.LLM_CALL,
                input_tokens=100,
                cache_read_tokens=80,
                cache_creation_tokens=10,
                reasoning_tokens=7,
            )
        ],
    )
    store.write(
        events=[
            make.event(session.id, EventType.LLM_CALL, cache_read_tokens=5, reasoning_tokens=3),
            make.event(session.id, EventType.LOG),
        ]
    )
    got = store.get_session(session.id)
    assert (got.cache_read_tokens, got.cache_creation_tokens, got.reasoning_tokens) == (85, 10, 10)
    listed = next(s for s in store.list_sessions(SessionQuery()).items if s.id == session.id)
    assert (listed.cache_read_tokens, listed.reasoning_tokens) == (85, 10)
    other = make.session()
    store.write([other], [make.event(other.id, EventType.LOG)])
    quiet = store.get_session(other.id)
    assert (quiet.cache_read_tokens, quiet.cache_creation_tokens, quiet.reasoning_tokens) == (
        0,
        0,
        0,
    )
