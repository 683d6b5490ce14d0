"""Stream chosen sessions out as OTLP: to a JSON Lines file, or POSTed to an OTLP endpoint.

Each line / request is one ExportTraceServiceRequest holding one page (up to
1,000 events) of one session, so memory stays constant for any export size.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from agentlog.errors import (
    AgentLogError,
    AuthError,
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    RateLimited,
    ServerUnavailable,
    UsageError,
)
from agentlog.otel.export import session_to_otlp
from agentlog.storage import Store
from agentlog.transfer.export import Selection, iter_selected
from agentlog.transfer.fileio import open_output


@dataclass
class SentStats:
    sessions: int = 0
    events: int = 0
    requests: int = 0


def iter_documents(store: Store, sel: Selection, stats: SentStats) -> Iterator[dict[str, Any]]:
    """One OTLP JSON document per page of each chosen session."""
    sel.check()
    for session, pages in iter_selected(store, sel):
        stats.sessions += 1
        by_event: dict[str, str] = {}
        for page in pages:
            stats.events += len(page)
            yield session_to_otlp(session, page, by_event)


def export_otlp(
    store: Store,
    sel: Selection,
    path: str | Path | None,
    on_progress: Callable[[int], None] | None = None,
) -> SentStats:
    """Write OTLP JSON Lines (the Collector's `otlpjsonfile` format) to `path`."""
    stats = SentStats()
    with open_output(path) as stream:
        for doc in iter_documents(store, sel, stats):
            stream.write(orjson.dumps(doc) + b"\n")
            stats.requests += 1
            if on_progress is not None:
                on_progress(stats.events)
    return stats


def send_otlp(
    store: Store,
    sel: Selection,
    url: str,
    headers: dict[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    timeout: float = 30.0,
) -> SentStats:
    """POST each document to an OTLP/HTTP traces endpoint (`URL` or `URL/v1/traces`)."""
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--to must be an http(s) URL, got {url[:100]!r}")
    endpoint = url if url.rstrip("/").endswith("/v1/traces") else url.rstrip("/") + "/v1/traces"
    stats = SentStats()
    for doc in iter_documents(store, sel, stats):
        request = urllib.request.Request(endpoint, data=orjson.dumps(doc), method="POST")
        request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                body = answer.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            cls = _answer_error(exc.code)
            hint = (
                " (send credentials with -H 'Authorization=Bearer TOKEN')"
                if cls is AuthError
                else ""
            )
            raise cls(f"{endpoint} answered {exc.code}: {detail}{hint}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnavailable(f"cannot reach {endpoint}: {reason}") from None
        rejected, why = _rejected(body)
        if rejected:
            spans = "1 span" if rejected == 1 else f"{rejected} spans"
            raise InvalidInput(
                f"{endpoint} rejected {spans}{f' ({why})' if why else ''}; nothing further was sent"
            )
        stats.requests += 1
        if on_progress is not None:
            on_progress(stats.events)
    return stats


def _answer_error(status: int) -> type[AgentLogError]:
    """The error an endpoint's failure answer is (docs/errors.md); another 4xx is the URL's."""
    if status >= 500:
        return ServerUnavailable
    known = {401: AuthError, 403: Forbidden, 413: PayloadTooLarge, 429: RateLimited}
    return known.get(status, UsageError)


def _rejected(body: bytes) -> tuple[int, str]:
    """The spans an answer's `partialSuccess` refused, and its error message (cut to one line)."""
    try:
        answer = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return 0, ""
    partial = answer.get("partialSuccess") if isinstance(answer, dict) else None
    if not isinstance(partial, dict):
        return 0, ""
    try:
        count = int(partial.get("rejectedSpans") or 0)
    except (TypeError, ValueError):
        count = 0
    why = partial.get("errorMessage")
    return count, " ".join(why.split())[:200] if isinstance(why, str) else ""
