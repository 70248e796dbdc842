"""Migration bugs in the SQL backends (SQLite, PostgreSQL): see the package docstring."""
