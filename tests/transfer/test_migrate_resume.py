"""`migrate --to`: copies, resumes after kill -9 without doubling, verifies, previews."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_import_faults import RejectingStore

from agentlog.model import Event, SessionStatus, SessionUpdate
from agentlog.storage.base import EventQuery, SessionQuery
from agentlog.storage.sqlite.store import SQLiteStore
from agentlog.transfer.checkpoint import Checkpoint, checkpoint_path, redact_url
from agentlog.transfer.export import Selection
from agentlog.transfer.migrate import Migration, verify_only
from tests.support.portability import dump, fill, make_event


def test_migrate_copies_everything_and_verifies(store, other, tmp_path) -> None:
    fill(store, sessions=4, events=30)
    migration = Migration(store, other)
    report = migration.run()
    migration.close()
    assert report.ok and report.verified == 4 and not report.mismatches
    assert (report.events_inserted, report.events_duplicates, report.sessions_copied) == (120, 0, 4)
    assert dump(store, tmp_path / "a.ndjson") == dump(other, tmp_path / "b.ndjson")

    again = Migration(store, other)
    second = again.run()
    again.close()
    assert second.sessions_skipped == 4 and second.events_sent == 0 and second.ok


def test_resume_continues_after_the_last_acknowledged_batch(store, other) -> None:
    (session,) = fill(store, sessions=1, events=2500)
    first = Migration(store, other)
    batches = iter(range(100))

    def stop_after_two(n: int) -> None:
        if next(batches) == 1:
            raise KeyboardInterrupt

    first.on_progress = stop_after_two
    try:
        first.run()
    except KeyboardInterrupt:
        pass
    first.close()
    assert other.count_events(EventQuery()) == 2000
    second = Migration(store, other)
    report = second.run()
    second.close()
    assert report.events_sent == 500 and report.events_inserted == 500
    assert report.events_duplicates == 0 and report.ok
    assert other.count_events(EventQuery(session_id=session.id)) == 2500


def test_a_session_that_grew_is_sent_again(store, other) -> None:
    (session,) = fill(store, sessions=1, events=5)
    Migration(store, other).run()
    store.write([], [make_event(session, 99)])
    report = Migration(store, other).run()
    assert report.events_inserted == 1 and report.events_duplicates == 5 and report.ok
    assert other.count_events(EventQuery()) == 6


def test_verify_alone_finds_differences_and_rerun_repairs_them(store, other, tmp_path) -> None:
    sessions = fill(store, sessions=2, events=3)
    Migration(store, other).run()
    # The target loses one session's events and another's content differs.
    other.delete_session(sessions[1].id)
    report = verify_only(store, other)
    assert report.verified == 1 and [m.session_id for m in report.mismatches] == [sessions[1].id]
    assert "missing on the target" in report.mismatches[0].reason

    repaired = Migration(store, other)
    repaired.checkpoint.restart(sessions[1].id)
    result = repaired.run()
    repaired.close()
    assert result.ok and result.verified == 2
    assert dump(store, tmp_path / "a.ndjson") == dump(other, tmp_path / "b.ndjson")


def test_verify_notices_changed_content(store, other) -> None:
    (session,) = fill(store, sessions=1, events=2)
    Migration(store, other).run()
    # Same ids, same count, different content: rewrite the target's copy.
    from agentlog.transfer.rebuild import rebuild_session

    event = other.list_events(EventQuery(session_id=session.id)).items[0]
    rebuild_session(
        other, session.id, replace={event.id: event.model_copy(update={"content": "tampered"})}
    )
    report = verify_only(store, other)
    assert report.mismatches and "different content" in report.mismatches[0].reason


def test_dry_run_previews_without_sending(store, other) -> None:
    sessions = fill(store, sessions=3, events=4)
    other.write([sessions[0]], [make_event(sessions[0], i) for i in range(2)])
    report = Migration(store, other).preview()
    assert report.dry_run and report.sessions == 3
    assert (report.sessions_copied, report.sessions_existing, report.events_sent) == (3, 1, 10)
    assert other.count_events(EventQuery()) == 2


def test_filters_choose_sessions(store, other) -> None:
    sessions = fill(store, sessions=3, events=2)
    store.update_session(sessions[2].id, SessionUpdate(status=SessionStatus.FAILED))
    report = Migration(
        store, other, selection=Selection(all=True, status=SessionStatus.FAILED)
    ).run()
    assert report.sessions == 1 and report.ok
    assert [s.id for s in other.list_sessions(SessionQuery()).items] == [sessions[2].id]


def test_rejected_events_are_reported_and_retried_on_rerun(store, other) -> None:
    (session,) = fill(store, sessions=1, events=3)
    store.write([], [Event(session_id=session.id, type="LOG", content="REJECT this")])
    report = Migration(store, RejectingStore(other)).run()  # type: ignore[arg-type]
    assert report.events_rejected == 1 and not report.ok
    assert report.rejected[0]["error"] == "refused by policy"
    # The session stays unfinished, so the next run (here against a store that accepts) retries it.
    again = Migration(store, other)
    assert again.checkpoint.get(session.id).done is False
    final = again.run()
    assert final.ok and other.count_events(EventQuery()) == 4


def test_checkpoints_are_per_target_and_hide_passwords(store, tmp_path) -> None:
    a = checkpoint_path(store.url, "postgresql://u:secret@db/x")
    b = checkpoint_path(store.url, str(tmp_path / "other.db"))
    assert a != b and a.parent == b.parent
    assert redact_url("https://u:pw@host/x") == "https://u:***@host/x"
    cp = Checkpoint.for_pair(store.url, "postgresql://u:secret@db/x")
    assert b"secret" not in cp.path.read_bytes()
    cp.close()


def test_migrate_to_itself_is_refused(store) -> None:
    import pytest

    from agentlog.errors import UsageError

    with pytest.raises(UsageError, match="--to is the store being migrated"):
        Migration(store, store)


KILL_SCRIPT = """
import sys, time
from agentlog.transfer.migrate import Migration
from agentlog.storage.sqlite.store import SQLiteStore
source, target = SQLiteStore(sys.argv[1]), SQLiteStore(sys.argv[2])
m = Migration(source, target)
def slow(n):
    print("batch", flush=True)
    time.sleep(0.05)
m.on_progress = slow
m.run()
print("finished", flush=True)
"""


def test_kill_9_mid_run_then_rerun_never_duplicates(store, tmp_path: Path) -> None:
    fill(store, sessions=6, events=1500)
    target_path = tmp_path / "target.db"
    SQLiteStore(target_path).close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(store.path), str(target_path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    seen = 0
    deadline = time.monotonic() + 60
    while seen < 5 and time.monotonic() < deadline:
        if proc.stdout.readline().startswith("batch"):
            seen += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert seen == 5

    target = SQLiteStore(target_path)
    try:
        partial = target.count_events(EventQuery())
        assert 0 < partial < 9000
        report = Migration(store, target).run()
        assert report.ok and report.verified == 6 and not report.mismatches
        assert report.events_inserted == 9000 - partial
        assert target.count_events(EventQuery()) == 9000
        assert dump(store, tmp_path / "a.ndjson") == dump(target, tmp_path / "b.ndjson")
    finally:
        target.close()


def _their_own_copy(store, other) -> list:
    """The target holds the same session ids with other events (a demo run on each side)."""
    sessions = fill(store, sessions=3, events=4)
    for s in sessions:
        other.write(
            [s.model_copy(update={"title": s.title + " (server)"})],
            [make_event(s, j).model_copy(update={"content": f"theirs {j}"}) for j in range(2)],
        )
    return sessions


def test_sessions_the_target_holds_differently_can_be_kept_or_replaced(
    store, other, tmp_path
) -> None:
    _their_own_copy(store, other)
    before = dump(other, tmp_path / "before.ndjson")
    kept_run = Migration(store, other, existing="skip")
    kept = kept_run.run()
    kept_run.close()
    assert kept.ok and kept.sessions_left == 3 and kept.sessions_copied == 0
    assert dump(other, tmp_path / "kept.ndjson") == before
    replaced_run = Migration(store, other, existing="overwrite")
    replaced = replaced_run.run()
    replaced_run.close()
    assert replaced.ok and replaced.sessions_overwritten == 3 and replaced.verified == 3
    assert dump(other, tmp_path / "b.ndjson") == dump(store, tmp_path / "a.ndjson")


def test_migrate_cli_names_the_way_out_of_differing_sessions(store, other, tmp_path) -> None:
    from typer.testing import CliRunner

    from agentlog.cli.app import app

    _their_own_copy(store, other)
    run = CliRunner().invoke
    base = ["--db", str(store.path), "migrate", "--to", str(other.path)]
    stuck = run(app, base)
    assert stuck.exit_code == 1
    assert "add --skip-existing to keep its copy, or --overwrite" in stuck.stderr
    assert run(app, [*base, "--skip-existing", "--overwrite"]).exit_code == 2
    assert run(app, [*base, "--overwrite"]).exit_code == 0
    assert run(app, base).exit_code == 0  # and it stays green on every re-run


def test_a_repair_counts_its_session_and_its_time(store, other) -> None:
    """A re-run whose verify re-sent a session the target lost reported 'sessions sent 0',
    'events sent N' and a rate computed over the first pass's time only (13 million/s)."""
    sessions = fill(store, sessions=2, events=3)
    Migration(store, other).run()
    other.delete_session(sessions[1].id)  # the target loses it; our checkpoint says sent
    again = Migration(store, other)
    report = again.run()
    again.close()
    assert report.ok and report.repaired == 1
    assert report.events_sent == 3 and report.sessions_copied == 1
    assert report.seconds > 0 and report.rate == report.events_sent / report.seconds
