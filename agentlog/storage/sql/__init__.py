"""What the SQLite and PostgreSQL stores share, written once: session reads, stats, text search rules."""
