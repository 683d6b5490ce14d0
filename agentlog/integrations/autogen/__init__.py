"""AutoGen (autogen-agentchat): a team's or agent's message stream recorded as one session.

    from agentlog.integrations.autogen import record
    async for message in record(team.run_stream(task="...")):
        ...   # every message passes through unchanged

Needs autogen-agentchat (`pip install 'agentlog[autogen]'`; its autogen-core pins
protobuf 5, which the [otel] extra's protobuf 7 excludes, so it is not in [dev]).
"""

from __future__ import annotations

from agentlog.integrations.autogen.recorder import Recorder, record

__all__ = ["Recorder", "record"]
