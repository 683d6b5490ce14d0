"""Replay: reproduce a recorded run offline from its own LLM_CALL events."""
