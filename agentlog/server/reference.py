"""`python -m agentlog.server.reference > docs/openapi.json`: the API's OpenAPI document for the site.

Built from a throwaway server in a temporary folder, so it is exactly what `agentlog serve`
publishes at `/openapi.json`; `tests/server/test_reference.py` fails when the copy is stale.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of a freshly built server app."""
    from agentlog.server.testing import start_test_server

    with tempfile.TemporaryDirectory() as tmp:
        server = start_test_server(Path(tmp) / "server")
        try:
            return server.app.openapi()
        finally:
            server.close()


def main() -> None:
    sys.stdout.buffer.write(
        orjson.dumps(openapi_document(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )


if __name__ == "__main__":
    main()
