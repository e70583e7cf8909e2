"""Network-wide search: one index table, a backend per database, permissions inside the query."""
