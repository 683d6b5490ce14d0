"""`RemoteStore`: the Store protocol over HTTP to `agentlog serve`, so every tool works against a server.

One keep-alive httpx client per store. Requests that fail to connect, time
out, or answer 5xx/429 are retried with exponential backoff (honouring
`Retry-After`); writes are idempotent on ids, so retrying them is safe. A
server that keeps failing raises ServerUnavailable; bad credentials raise
AuthError; every other error answer becomes the AgentLogError its `code`
names, with the server's message.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx
import orjson

from agentlog.errors import (
    AgentLogError,
    AuthError,
    InvalidInput,
    NotFound,
    ServerUnavailable,
    error_class,
)
from agentlog.model import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    AgentSummary,
    BatchError,
    Event,
    Session,
    SessionSummary,
    SessionUpdate,
    StatsReport,
    WriteResult,
    format_ts,
    parse_ts,
)
from agentlog.storage.base import (
    Deleted,
    EventQuery,
    Page,
    SessionChanges,
    SessionQuery,
    StoreInfo,
    event_records_page,
)
from agentlog.storage.sql.rows import row_json
from agentlog.storage.sql.sessions import as_session
from agentlog.storage.tree import TreeTotals
from agentlog.tls import tls_verify
from agentlog.version import package_version
from agentlog.wire import (
    AGENTS_ACTIVE_SINCE,
    AUTHORIZATION,
    TEAM_HEADER,
    USER_HEADER,
    ChangesParam,
    EventParam,
    SessionParam,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 30.0
# Leave room under the server's 10 MiB body limit for the JSON around the events.
CHUNK_BYTES = MAX_BATCH_BYTES - 256 * 1024


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_ts(value)


def event_params(query: EventQuery) -> list[tuple[str, str]]:
    """An EventQuery as the query string the server's event routes read."""
    P = EventParam
    params: list[tuple[str, str]] = []
    if query.session_id:
        params.append((P.SESSION, query.session_id))
    params.extend((P.TYPE, str(t)) for t in query.types or ())
    params.extend((P.AGENT, a) for a in query.agents or ())
    params.extend((P.NAME, n) for n in query.names or ())
    if query.status:
        params.append((P.STATUS, str(query.status)))
    if query.since:
        params.append((P.SINCE, format_ts(query.since)))
    if query.until:
        params.append((P.UNTIL, format_ts(query.until)))
    if query.text:
        params.append((P.TEXT, query.text))
    params.extend((P.METADATA, f"{k}={v}") for k, v in query.metadata.items())
    if query.parent_id:
        params.append((P.PARENT, query.parent_id))
    params.append((P.ORDER, query.order))
    params.append((P.LIMIT, str(query.limit)))
    if query.cursor:
        params.append((P.CURSOR, query.cursor))
    return params


def session_params(query: SessionQuery) -> list[tuple[str, str]]:
    """A SessionQuery as the query string the server's session routes read."""
    P = SessionParam
    params: list[tuple[str, str]] = []
    if query.status:
        params.append((P.STATUS, str(query.status)))
    params.extend((P.TAG, t) for t in query.tags or ())
    if query.agent:
        params.append((P.AGENT, query.agent))
    if query.since:
        params.append((P.SINCE, format_ts(query.since)))
    if query.until:
        params.append((P.UNTIL, format_ts(query.until)))
    if query.text:
        params.append((P.TEXT, query.text))
    if query.parent_session_id:
        params.append((P.PARENT, query.parent_session_id))
    if query.replay_of:
        params.append((P.REPLAY_OF, query.replay_of))
    params.append((P.SORT, query.sort))
    params.append((P.ORDER, query.order))
    params.append((P.LIMIT, str(query.limit)))
    if query.cursor:
        params.append((P.CURSOR, query.cursor))
    return params


def _error_from(response: httpx.Response) -> AgentLogError:
    try:
        body = response.json()["error"]
        code, message, details = body.get("code"), body.get("message"), body.get("details")
    except Exception:
        code, message, details = None, None, None
    status = response.status_code
    cls = error_class(code)
    if status == 401:
        cls = AuthError
    if cls is None or cls is AgentLogError:
        cls = ServerUnavailable if status >= 500 else InvalidInput
    text = message or f"the server answered {status} {response.reason_phrase}"
    if cls is AuthError:
        text += " (check --api-key / AGENTLOG_API_KEY, or run `agentlog login URL`)"
    return cls(text, details=details)


_EVENT_JSON = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class RemoteStore:
    """A Store whose rows live on an AgentLog server, scoped to the API key's team."""

    backend = "remote"

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.25,
        client: httpx.Client | None = None,
        team: str | None = None,
        as_user: str | None = None,
    ) -> None:
        """`team` / `as_user` (admin keys only): act for another team ("*" = every team)."""
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.retries = max(0, retries)
        self.backoff = backoff
        self._reached = False  # any answer from the server yet (see _request)
        self.user_id: str | None = as_user
        self._team_id: str | None = None
        self._team = team
        self._scope_headers: dict[str, str] = {}
        if team is not None:
            self._scope_headers[TEAM_HEADER] = team
        if as_user is not None:
            self._scope_headers[USER_HEADER] = as_user
        headers = {
            "User-Agent": f"agentlog-remote/{package_version()}",
            "Accept": "application/json",
        }
        if api_key:
            headers[AUTHORIZATION] = f"Bearer {api_key}"
        self._owns_client = client is None
        if client is None:
            client = httpx.Client(
                base_url=self.url,
                verify=tls_verify(self.url),
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                limits=httpx.Limits(max_keepalive_connections=4, keepalive_expiry=30),
            )
        client.headers.update(headers)
        self._client = client

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ HTTP
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> Any:
        headers = dict(self._scope_headers)
        if json is not None:
            content = orjson.dumps(json)
        if content is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            delay = self.backoff * (2**attempt)
            try:
                response = self._client.request(
                    method, path, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                # Refused before this store ever reached the server: nothing listens
                # there (a typo, a server not started), so one quick retry, not four.
                refused_from_start = isinstance(exc, httpx.ConnectError) and not self._reached
                if attempt >= self.retries or (refused_from_start and attempt >= 1):
                    raise ServerUnavailable(
                        f"cannot reach the AgentLog server at {self.url} ({exc.__class__.__name__}: "
                        f"{exc}); is `agentlog serve` running there?"
                    ) from None
            else:
                self._reached = True
                if response.status_code in ok:
                    return response.json() if response.content else None
                if response.status_code not in RETRY_STATUSES and response.status_code < 500:
                    raise _error_from(response)
                if attempt >= self.retries:
                    error = _error_from(response)
                    if response.status_code >= 500:
                        raise ServerUnavailable(
                            f"the AgentLog server at {self.url} keeps failing "
                            f"({response.status_code}: {error.message})"
                        ) from None
                    raise error
                retry_after = response.headers.get("Retry-After")
                if retry_after:
                    try:
                        delay = min(MAX_RETRY_AFTER, max(delay, float(retry_after)))
                    except ValueError:
                        pass
            attempt += 1
            time.sleep(min(delay, MAX_RETRY_AFTER))

    # ------------------------------------------------------------ views
    @property
    def team_id(self) -> str | None:
        """The team this view reads and writes (the key's own team unless `team` was given)."""
        if self._team is not None:
            return None if self._team == "*" else self._team
        if self._team_id is None:
            me = self._request("GET", "/v1/auth/me")
            self._team_id, self.user_id = me["team_id"], me["user_id"]
        return self._team_id

    def scoped(self, team_id: str | None, user_id: str | None = None) -> RemoteStore:
        """A view for another team, sharing this connection pool.

        The server checks it: only an admin key may act for another team; for
        any other key, asking for its own team is the same view.
        """
        if self._team is None and team_id is not None and team_id == self._team_id:
            return self
        view = RemoteStore.__new__(RemoteStore)
        view.__dict__.update(self.__dict__)
        view._owns_client = False
        view._team = "*" if team_id is None else team_id
        view._team_id = None
        view.user_id = user_id
        view._scope_headers = {TEAM_HEADER: view._team}
        if user_id is not None:
            view._scope_headers[USER_HEADER] = user_id
        return view

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    # ------------------------------------------------------------ writes
    def write(self, sessions: Sequence[Session] = (), events: Sequence[Event] = ()) -> WriteResult:
        docs = []
        for event in events:
            if isinstance(event, Event):
                # The fields as they are, in one call: times as ISO UTC text, enums as
                # their values, metadata as the local store keeps it (default=str).
                docs.append(orjson.dumps(event.__dict__, default=str, option=_EVENT_JSON))
            else:  # a raw item: the server validates it and reports it by index if bad
                docs.append(
                    orjson.dumps(
                        event, default=str, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
                    )
                )
        return self._send(sessions, docs)

    def write_rows(
        self, sessions: Sequence[Session] = (), rows: Sequence[Sequence[Any]] = ()
    ) -> WriteResult:
        """`write` of checked event rows (`Store.write_rows`): each row's JSON is written
        straight from its columns, metadata as the JSON text it already is."""
        return self._send(sessions, [row_json(row) for row in rows])

    def _send(self, sessions: Sequence[Session], docs: list[bytes]) -> WriteResult:
        """POST the event documents in requests within the API's limits, sessions first."""
        # A session given as a dict is checked here, as every backend does (InvalidInput
        # before anything is sent); one the server still rejects comes back in
        # `errors` with kind "session", its events stored where they can be.
        session_docs = [orjson.dumps(as_session(s).to_json_dict()) for s in sessions]
        result = WriteResult()
        chunk: list[bytes] = []
        size = 0
        start = 0

        def send(docs: list[bytes], first: int) -> None:
            nonlocal session_docs
            head = b'{"sessions":[' + b",".join(session_docs) + b'],"events":['
            # One copy of the ~1.5 MB of documents: the envelope glued to the first and last.
            if len(docs) > 1:
                body = b",".join([head + docs[0], *docs[1:-1], docs[-1] + b"]}"])
            else:
                body = head + b"".join(docs) + b"]}"
            session_docs = []  # sessions go with the first request only
            answer = self._request("POST", "/v1/events:batch", content=body, ok=(200, 207))
            result.inserted += answer["inserted"]
            result.duplicates += answer["duplicates"]
            # Sessions go with the first request, so a session's index is already the
            # caller's; an event's is shifted by where its chunk starts. A server
            # before `kind` reports events only.
            result.errors.extend(
                BatchError(index=e["index"], id=e.get("id"), error=e["error"], kind="session")
                if e.get("kind") == "session"
                else BatchError(index=first + e["index"], id=e.get("id"), error=e["error"])
                for e in answer["errors"]
            )

        for index, doc in enumerate(docs):
            if chunk and (len(chunk) >= MAX_BATCH_EVENTS or size + len(doc) > CHUNK_BYTES):
                send(chunk, start)
                chunk, size, start = [], 0, index
            chunk.append(doc)
            size += len(doc) + 1
        if chunk or session_docs:
            send(chunk, start)
        return result

    def update_session(self, session_id: str, changes: SessionUpdate) -> SessionSummary:
        body = changes.model_dump(mode="json", exclude_unset=True)
        for key in ("ended_at",):
            if isinstance(getattr(changes, key), datetime) and key in body:
                body[key] = format_ts(getattr(changes, key))
        data = self._request("PUT", f"/v1/sessions/{session_id}", json=body)
        return SessionSummary.model_validate(data)

    def delete_session(self, session_id: str) -> int:
        answer = self._request("DELETE", f"/v1/sessions/{session_id}", params={"tree": "false"})
        return int(answer["deleted_events"])

    def delete_session_tree(self, session_id: str) -> Deleted:
        answer = self._request("DELETE", f"/v1/sessions/{session_id}", params={"tree": "true"})
        # A server from before trees were erased answers without a session count: it
        # erased the one session (its children are left naming it as their parent).
        return Deleted(int(answer.get("deleted_sessions", 1)), int(answer["deleted_events"]))

    def prune(self, before: datetime) -> int:
        answer = self._request("POST", "/v1/sessions:prune", json={"before": format_ts(before)})
        return int(answer["sessions"])

    # ------------------------------------------------------------ reads
    def get_session(self, session_id: str) -> SessionSummary:
        return SessionSummary.model_validate(self._request("GET", f"/v1/sessions/{session_id}"))

    def list_sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        data = self._request("GET", "/v1/sessions", params=session_params(query))
        return Page([SessionSummary.model_validate(s) for s in data["items"]], data["next_cursor"])

    def changed_sessions(self, since: str | None = None, limit: int = 200) -> SessionChanges:
        params: dict[str, Any] = {ChangesParam.LIMIT: limit}
        if since is not None:
            params[ChangesParam.SINCE] = since
        data = self._request("GET", "/v1/sessions:changes", params=params)
        return SessionChanges(
            [SessionSummary.model_validate(s) for s in data["items"]],
            data["token"],
            bool(data["more"]),
        )

    def tree_totals(self, session_ids: Sequence[str]) -> dict[str, TreeTotals]:
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return {}
        try:
            data = self._request("POST", "/v1/sessions:trees", json={"ids": ids})
        except NotFound:
            return {}  # a server from before trees were summed: each session stands alone
        return {
            sid: TreeTotals(**{k: v for k, v in t.items() if k != "sub_sessions"})
            for sid, t in data["trees"].items()
        }

    def count_sessions(self, query: SessionQuery) -> int:
        return int(
            self._request("GET", "/v1/sessions:count", params=session_params(query))["count"]
        )

    def get_event(self, event_id: str) -> Event:
        return Event.model_validate(self._request("GET", f"/v1/events/{event_id}"))

    def list_events(self, query: EventQuery) -> Page[Event]:
        data = self._request("GET", "/v1/events", params=event_params(query))
        return Page([Event.model_validate(e) for e in data["items"]], data["next_cursor"])

    def list_event_records(self, query: EventQuery) -> Page[dict[str, Any]]:
        # The server sends validated events; building the records from Events keeps one shape.
        return event_records_page(self.list_events(query))

    def count_events(self, query: EventQuery) -> int:
        return int(self._request("GET", "/v1/events:count", params=event_params(query))["count"])

    def facets(self, query: EventQuery) -> dict[str, dict[str, int]]:
        return self._request("GET", "/v1/events:facets", params=event_params(query))

    def event_keys(self, query: EventQuery) -> list[tuple[int, str]]:
        data = self._request("GET", "/v1/events:keys", params=event_params(query))
        return [(int(ts), str(eid)) for ts, eid in data]

    def stats(self, query: EventQuery) -> StatsReport:
        return StatsReport.model_validate(
            self._request("GET", "/v1/events:stats", params=event_params(query))
        )

    def agents(self, since: datetime | None = None) -> list[AgentSummary]:
        params = {AGENTS_ACTIVE_SINCE: format_ts(since)} if since else None
        rows = self._request("GET", "/v1/agents", params=params)
        out = []
        for row in rows:
            row.pop("error_rate", None)  # derived by the model, not an input
            out.append(AgentSummary.model_validate(row))
        return out

    def info(self) -> StoreInfo:
        data = self._request("GET", "/v1/info")
        return StoreInfo(
            url=self.url,
            backend="remote",
            schema_version=int(data["schema_version"]),
            sessions=int(data["sessions"]),
            events=int(data["events"]),
            size_bytes=None,
            oldest_event_at=parse_ts(data["oldest_event_at"])
            if data.get("oldest_event_at")
            else None,
            newest_event_at=parse_ts(data["newest_event_at"])
            if data.get("newest_event_at")
            else None,
            extra={"server_backend": data["backend"], "team_id": data.get("team_id")},
        )


__all__ = ["RemoteStore", "event_params", "session_params"]
