"""A small refund-triage agent, deterministic so CI can compare its runs step by step.

Run under `agentlog run`, its events join the run's session. AGENT_PROMPT_V2=1
stands for a change to the agent (a new prompt) that makes it take another path.
"""

from __future__ import annotations

import os

from agentlog import AgentLog


def main() -> None:
    changed = os.environ.get("AGENT_PROMPT_V2") == "1"
    log = AgentLog(agent_id="triage")
    with log.session("refund triage") as s:
        s.user_input("Can I get a refund for order 1042?")
        s.llm_call(
            model="gpt-4o-mini",
            prompt="Decide which tool answers the customer.",
            response="search_orders" if changed else "lookup_order",
            input_tokens=1300 if changed else 420,
            output_tokens=40 if changed else 18,
            cost_usd=0.0041 if changed else 0.0012,
            duration_ms=300,
        )
        tool = "search_orders" if changed else "lookup_order"
        with s.tool_call(tool, {"order": 1042}) as call:
            call.result({"status": "delivered", "refundable": True})
        s.agent_output("Yes: order 1042 is refundable; the refund is on its way.")
    log.close()


if __name__ == "__main__":
    main()
