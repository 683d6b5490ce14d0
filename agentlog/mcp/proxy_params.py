"""`agentlog.mcp.proxied(params)`: a stdio server's parameters with the recording proxy in front.

The server then runs behind `agentlog mcp proxy`, whose session is a child of
the session working at the moment the parameters are made (a LangGraph run
recorded by `AgentLogCallback`, or a `with log.session(...)` block), so the
server's side of the conversation sits under the agent run that used it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from agentlog.sdk.links import current_link

# What the proxy needs from the agent's environment beyond mcp's safe default set.
_PASSED = ("AGENTLOG_HOME", "AGENTLOG_DB", "AGENTLOG_SERVER", "AGENTLOG_API_KEY")


def proxied(params: Any, *, title: str | None = None, log: Any = None) -> Any:
    """`StdioServerParameters` that run `params`' server behind `agentlog mcp proxy`.

    `log` (an `AgentLog`) names the store to record into; by default the
    environment's (AGENTLOG_DB, AGENTLOG_HOME, AGENTLOG_SERVER) or the local one.
    """
    from mcp import StdioServerParameters
    from mcp.client.stdio import get_default_environment

    args = [*_proxy_options(title), "--", params.command, *params.args]
    env = get_default_environment() | {k: os.environ[k] for k in _PASSED if k in os.environ}
    env |= dict(params.env or {})
    env |= _store_env(log)
    link = current_link()
    if link is not None:
        env["AGENTLOG_PARENT_SESSION_ID"] = link[0].id
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "agentlog", *args],
        env=env,
        cwd=params.cwd,
        encoding=params.encoding,
        encoding_error_handler=params.encoding_error_handler,
    )


def _proxy_options(title: str | None) -> list[str]:
    options = ["mcp", "proxy"]
    if title:
        options += ["--title", title]
    return options


def _store_env(log: Any) -> dict[str, str]:
    """The environment that points the proxy at `log`'s store (its key comes from the env)."""
    if log is None:
        return {}
    url = str(log.url)
    if url.startswith(("http://", "https://")):
        return {"AGENTLOG_SERVER": url}
    return {"AGENTLOG_DB": url}
