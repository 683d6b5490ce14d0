"""The web view inside `agentlog serve`: server-rendered pages over the same store and accounts."""
