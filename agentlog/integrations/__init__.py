"""Framework adapters: each maps a framework's own hooks to AgentLog sessions and events."""
