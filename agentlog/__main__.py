"""`python -m agentlog` runs the CLI (the same as the `agentlog` console script)."""

from agentlog.cli.app import main

if __name__ == "__main__":
    main()
