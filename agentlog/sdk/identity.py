"""Who wrote an event: the agent id fallback chain and the SDK's own name and version."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from agentlog.version import package_version

SDK_NAME = "python"


def process_name() -> str:
    """The running program's name: the script or module, else the interpreter."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None):
        # `python -m pkg` runs pkg.__main__; the package is the better name.
        name = spec.name.removesuffix(".__main__")
        if name and name != "__main__":
            return name
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    stem = Path(argv0).stem if argv0 not in ("", "-c", "-") else ""
    return stem or Path(sys.executable or "python").stem or "python"


def resolve_agent_id(*candidates: str | None) -> str:
    """The first given id, then AGENTLOG_AGENT_ID, then the process name."""
    for candidate in candidates:
        if candidate:
            return candidate
    return os.environ.get("AGENTLOG_AGENT_ID") or process_name()


def sdk_metadata(
    integration: str | None = None, integration_version: str | None = None
) -> dict[str, Any]:
    """What a session records about the code that wrote it (under metadata["agentlog"])."""
    info: dict[str, Any] = {"sdk": SDK_NAME, "version": package_version()}
    if integration:
        info["integration"] = integration
        if integration_version:
            info["integration_version"] = integration_version
    return info


REPLAY_OF_ENV = "AGENTLOG_REPLAY_OF"
REPLAY_FORK_AT_ENV = "AGENTLOG_REPLAY_FORK_AT"


def replay_metadata() -> dict[str, Any]:
    """`replay_of` (and `replay_fork_at`) for a run that `agentlog replay llm -- CMD` started.

    A malformed value is ignored: the link is a convenience, never a reason to fail a run.
    """
    from agentlog.model import normalize_id

    of = os.environ.get(REPLAY_OF_ENV)
    if not of:
        return {}
    try:
        link: dict[str, Any] = {"replay_of": normalize_id(of, REPLAY_OF_ENV)}
    except ValueError:
        return {}
    fork = os.environ.get(REPLAY_FORK_AT_ENV, "")
    if fork.isdigit() and int(fork) > 0:
        link["replay_fork_at"] = int(fork)
    return link
