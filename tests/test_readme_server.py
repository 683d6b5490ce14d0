"""The README's team-server block, run as written after its quick start (issue 9 item 6).

Only the port is changed (a free one, so parallel runs never collide); the serve
line runs in the background as its `&` says, and the test waits for /healthz as
a reader waits for the banner before typing the next line.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[1]


def server_block() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## A server for the team")
    block = readme[start:].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(shutil.which("jq") is None, reason="the README's block uses jq")
def test_the_readme_server_block_works_verbatim_after_the_quick_start(tmp_path: Path) -> None:
    port = str(_free_port())
    lines = [line.replace("8250", port) for line in server_block()]
    assert lines[0].startswith("agentlog serve") and lines[0].split("#")[0].rstrip().endswith("&")
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "AGENTLOG_HOME": str(tmp_path / "home"),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
    }
    for key in ("AGENTLOG_SERVER", "AGENTLOG_API_KEY", "AGENTLOG_DB"):
        env.pop(key, None)
    # The quick start's command that fills the local store.
    demo = subprocess.run(
        ["agentlog", "demo"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stderr
    serve_cmd = lines[0].split("#")[0].rstrip().removesuffix("&").split()
    server = subprocess.Popen(
        serve_cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.2)
        script = "set -e\n" + "\n".join(lines[1:]) + "\nagentlog sessions list --json\n"
        done = subprocess.run(
            ["bash", "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "sessions differing                    0" in done.stdout
        listed = orjson.loads(done.stdout[done.stdout.rindex('{"items"') :])
        assert len(listed["items"]) == 25  # the quick start's demo, now on the server
        # The local store is still there and still the user's own.
        assert (tmp_path / "home" / "agentlog.db").exists()
        assert (tmp_path / "home" / "server.db").exists()
        assert not re.search(r"Traceback", done.stderr)
    finally:
        server.terminate()
        server.wait(10)
