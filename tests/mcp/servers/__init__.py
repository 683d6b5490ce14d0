"""Real MCP servers (built with the `mcp` package) that the MCP tests run as child processes."""
