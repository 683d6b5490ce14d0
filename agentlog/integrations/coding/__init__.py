"""Coding agents' own session logs (Claude Code, ...) as AgentLog sessions: mappings and importer."""
