"""A byte-for-byte relay that also copies each direction to a file: `tee.py IN_FILE OUT_FILE -- CMD`.

Put one in front of `agentlog mcp proxy` and one behind it: what the outer one
saw leave towards the client must equal what the inner one saw the server send.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading


def _copy(src: int, dst: int, log_path: str, close_dst: bool) -> None:
    with open(log_path, "wb") as log:
        while chunk := os.read(src, 65536):
            log.write(chunk)
            log.flush()
            try:
                os.write(dst, chunk)
            except OSError:
                pass
    if close_dst:
        os.close(dst)


def main() -> int:
    in_log, out_log, sep, *command = sys.argv[1:]
    assert sep == "--"
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert child.stdin is not None and child.stdout is not None
    to_child = threading.Thread(
        target=_copy, args=(0, child.stdin.fileno(), in_log, True), daemon=True
    )
    to_child.start()
    _copy(child.stdout.fileno(), 1, out_log, False)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
