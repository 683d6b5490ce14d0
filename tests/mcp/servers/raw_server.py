"""A scripted stdio "server" for hostile-traffic tests: it answers each line by a fixed rule.

- a JSON request with a method -> a JSON result with the same id (as the same JSON type)
- the line `batch` -> a JSON array of two results (ids 1 and "1") and a notification
- the line `junk` -> non-JSON text, a truncated object and invalid UTF-8
- the line `exit N` -> exits with code N at once (a crash mid-call)
- the line `sleep` -> waits for the next line before answering anything
Anything else is answered with `{"echo": <line>}` wrapped as a notification.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    out = sys.stdout.buffer
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\n")
        if line == b"batch":
            out.write(
                b'[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":"1","result":{}},'
                b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}]\n'
            )
        elif line == b"junk":
            out.write(b"Starting server v1.0...\n")
            out.write(b'{"jsonrpc":"2.0","id":9,"resu\n')
            out.write(b"\xff\xfe\x1b[31mred\x1b[0m\n")
        elif line.startswith(b"exit "):
            out.flush()
            os._exit(int(line.split()[1]))
        else:
            try:
                msg = json.loads(line)
            except ValueError:
                msg = None
            if isinstance(msg, dict) and "method" in msg and "id" in msg:
                reply = {"jsonrpc": "2.0", "id": msg["id"], "result": {"content": [], "echo": msg}}
                out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
