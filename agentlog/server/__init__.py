"""`agentlog serve`: the team HTTP API over a Store (import `agentlog.server.app` for FastAPI)."""
