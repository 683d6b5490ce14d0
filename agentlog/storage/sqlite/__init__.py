"""The embedded, local-first backend: `store.SQLiteStore` and the pieces it is made of."""
