"""The `agentlog` command line: a Typer app over the Store (see `agentlog.cli.app`)."""
