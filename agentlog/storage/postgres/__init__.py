"""The team-server backend on PostgreSQL: `store.PostgresStore` and the pieces it is made of."""
