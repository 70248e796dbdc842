"""SQL shared by the SQLite and PostgreSQL backends: schema migrations, row mapping, queries.

What differs between the two engines is kept small and named in :mod:`.dialect`
(placeholders, column types, how a namespace becomes table names, how timestamps and JSON
travel). Everything else (the DDL, the conditional writes, the keyset listings, the
unit of work) is written once here, so the two backends cannot drift apart.
"""

from reference_app.backends.sql.database import Database, Executor
from reference_app.backends.sql.dialect import POSTGRES, SQLITE, Dialect
from reference_app.backends.sql.migrations import MIGRATIONS, Migration, migrate
from reference_app.backends.sql.unit_of_work import SqlBackend, SqlUnitOfWork

__all__ = [
    "MIGRATIONS",
    "POSTGRES",
    "SQLITE",
    "Database",
    "Dialect",
    "Executor",
    "Migration",
    "SqlBackend",
    "SqlUnitOfWork",
    "migrate",
]
