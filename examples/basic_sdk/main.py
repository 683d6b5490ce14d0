"""The AgentLog SDK without a framework: a session, a model call, a traced tool, a hand-off.

python examples/basic_sdk/main.py [--db PATH]
"""

from __future__ import annotations

import argparse

from agentlog import AgentLog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the AgentLog database (default: your local one)")
    args = parser.parse_args()
    log = AgentLog(args.db) if args.db else AgentLog()

    @log.tool
    def search_tickets(query: str) -> list[str]:
        """A stand-in tool; each call is a TOOL_CALL with its TOOL_RESULT (or ERROR)."""
        return ["#311 login loop on Safari", "#318 login loop after password reset"]

    with log.session("support triage", tags=["example"], agent_id="triage") as s:
        s.user_input("Users report a login loop since this morning.")
        s.llm_call(
            "gpt-4o-mini",
            prompt="Which tickets match a login loop?",
            response="Search the tickets for 'login loop'.",
            input_tokens=120,
            output_tokens=14,
            cost_usd=0.000026,
            duration_ms=640,
        )
        tickets = search_tickets("login loop")
        with s.tool_call("reset_cache", {"service": "auth"}) as call:
            call.result({"flushed": 1832})
        s.handoff("oncall_engineer", f"{len(tickets)} matching tickets; cache flushed")
        with s.child("oncall_engineer", title="on-call follow-up") as worker:
            worker.log("checking the auth service's deploy history", level="info")
            worker.agent_output("Rolled back auth to v2.14.1; the loop is gone.")
        s.agent_output("Fixed: auth rolled back to v2.14.1 (tickets #311, #318).")
    log.close()

    db = f" --db {args.db}" if args.db else ""
    print(f"session {s.id}")
    print(f"look at it:  agentlog{db} events {s.id}   or   agentlog{db} tui")


if __name__ == "__main__":
    main()
