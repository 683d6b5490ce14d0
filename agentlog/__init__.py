"""AgentLog."""
