"""``python -m reference_app.backends.sql.cli --database-url URL [--namespace NS]``:
apply pending schema migrations without starting the app (deploy step, CI).

The app also migrates on start-up; this is the same code path, callable on its own.
"""

from __future__ import annotations

import argparse
import sys

from reference_app.service_layer.unit_of_work import BackendUnavailable
from reference_app.settings import Settings


def migrate_from_settings(settings: Settings) -> list[int]:
    """Apply pending migrations to ``settings``' database and namespace; return the
    versions applied (empty when already up to date, or for a backend with no schema)."""
    if settings.backend == "sqlite":
        from reference_app.backends.sqlite import migrate_database

        return migrate_database(settings)
    if settings.backend == "postgres":
        from reference_app.backends.postgres import migrate_database as migrate_pg

        return migrate_pg(settings)
    if settings.backend == "mysql":
        from reference_app.backends.mysql import migrate_database as migrate_mysql

        return migrate_mysql(settings)
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Apply the reference app's SQL migrations.")
    parser.add_argument(
        "--database-url", required=True, help="sqlite:///x.db, postgresql:// or mysql://"
    )
    parser.add_argument("--namespace", default="")
    parser.add_argument("--table-prefix", default="ledger")
    args = parser.parse_args(argv)
    scheme = args.database_url.partition(":")[0].split("+")[0]
    backend = {"sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql"}.get(scheme, "postgres")
    settings = Settings(
        backend=backend,
        database_url=args.database_url,
        namespace=args.namespace,
        table_prefix=args.table_prefix,
    )
    try:
        applied = migrate_from_settings(settings)
    except (BackendUnavailable, ValueError) as exc:
        print(f"migration failed: {exc}", file=sys.stderr)
        return 2
    print(f"applied migrations: {applied}" if applied else "schema already up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
