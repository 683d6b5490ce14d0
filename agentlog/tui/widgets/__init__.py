"""Reusable TUI widgets; each keeps its own look in DEFAULT_CSS."""
