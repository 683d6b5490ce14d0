"""docs/openapi.json is the document `agentlog serve` publishes (regenerate it when this fails)."""

from __future__ import annotations

from pathlib import Path

import orjson

from agentlog.server.reference import openapi_document

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_sites_openapi_document_is_current() -> None:
    assert DOC.is_file(), "make it: python -m agentlog.server.reference > docs/openapi.json"
    assert orjson.loads(DOC.read_bytes()) == orjson.loads(orjson.dumps(openapi_document())), (
        "docs/openapi.json is stale: python -m agentlog.server.reference > docs/openapi.json"
    )
