"""The installed AgentLog version, looked up in one place (--version, the server, the SDK, user agents)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def package_version() -> str:
    """The distribution's version, or "0+unknown" when running from a tree that is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agentlog")
    except PackageNotFoundError:
        return "0+unknown"
