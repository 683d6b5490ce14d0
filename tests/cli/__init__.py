"""CLI tests (a package, so their module names never clash with other test folders)."""
