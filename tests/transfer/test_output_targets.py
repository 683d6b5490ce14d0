"""Exports onto pipes, devices and symlinks: written in place, never replaced (issue 9 item 4)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from agentlog.transfer.export import Selection, export
from tests.support.portability import fill


def test_export_into_a_named_pipe_feeds_its_reader_and_keeps_the_pipe(store, tmp_path) -> None:
    fill(store, sessions=2, events=3)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    stats = export(store, Selection(all=True), "ndjson", fifo)
    reader.join(10)
    assert stats.events == 6
    assert got and got[0].count(b'"kind":"event"') == 6
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pipe")] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_export_onto_a_character_device_writes_into_it(store, tmp_path) -> None:
    fill(store, sessions=1, events=2)
    null = tmp_path / "null"  # our own node for the null device, never /dev/null itself
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    export(store, Selection(all=True), "csv", null)
    assert stat.S_ISCHR(null.stat().st_mode)
    assert null.stat().st_rdev == os.makedev(1, 3)


def test_export_through_a_symlink_replaces_the_file_it_points_at(store, tmp_path) -> None:
    fill(store, sessions=1, events=2)
    real = tmp_path / "real.ndjson"
    real.write_text("old")
    link = tmp_path / "link.ndjson"
    link.symlink_to(real)
    export(store, Selection(all=True), "ndjson", link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().count('"kind":"event"') == 2


def test_cli_export_into_a_pipe(cli, store, tmp_path) -> None:
    fill(store, sessions=1, events=2)
    fifo = tmp_path / "cli-pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(Path(fifo).read_bytes()), daemon=True)
    reader.start()
    result = cli("export", "--all", "--format", "ndjson", "-o", str(fifo))
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode) and got[0].count(b'"kind":"event"') == 2
