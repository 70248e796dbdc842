"""Server-side serialization failures for PostgreSQL (``+serialization-failures``).

Why inside the server: the failure must reach the app exactly as a real one does — SQLSTATE
``40001`` through its own driver, its transaction aborted — whatever language or driver
the app uses. An event trigger arms every table the app creates with a statement-level
``BEFORE INSERT OR UPDATE OR DELETE`` trigger. The first write statement of each
transaction is judged (later ones pass): ``hashtext(seed:n)`` decides whether it raises
``40001``, where ``n`` counts the transactions judged in that table's schema (a sequence,
so it survives the rollback). One schema is one namespace, so each example's transactions
meet the same failures for the same seed, in a run and in its replay; at most
:data:`MAX_RUN` failures in a row, so an app that retries the transaction gets through.
The transaction that created the tables (the app's own migration) is never failed.

Needs a superuser (event triggers): only on engines Parity starts itself.
"""

from __future__ import annotations

#: installed once per engine start, in the engine's database (``{rate}``: per mille)
INSTALL = """
CREATE SCHEMA IF NOT EXISTS parity_faults;
CREATE SEQUENCE IF NOT EXISTS parity_faults.failures;
CREATE OR REPLACE FUNCTION parity_faults.counter(kind text, place text) RETURNS text
LANGUAGE sql IMMUTABLE AS $body$
    SELECT format('parity_faults.%I', kind || '_' || substr(md5(place), 1, 20))
$body$;
CREATE OR REPLACE FUNCTION parity_faults.serialization_failure() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
    n bigint;
BEGIN
    IF current_setting('parity_faults.judged', true) = 'on' THEN
        RETURN NULL;  -- this transaction was judged at its first write
    END IF;
    PERFORM set_config('parity_faults.judged', 'on', true);
    n := nextval(parity_faults.counter('writes', TG_TABLE_SCHEMA));
    IF abs(hashtext('{seed}:' || n) % 1000) < {rate} THEN
        IF nextval(parity_faults.counter('run', TG_TABLE_SCHEMA)) <= {max_run} THEN
            PERFORM nextval('parity_faults.failures');
            RAISE EXCEPTION 'could not serialize access due to concurrent update'
                USING ERRCODE = '40001', HINT = 'injected by parity +serialization-failures';
        END IF;
    END IF;
    PERFORM setval(parity_faults.counter('run', TG_TABLE_SCHEMA), 0);
    RETURN NULL;
END
$body$;
CREATE OR REPLACE FUNCTION parity_faults.arm() RETURNS event_trigger
LANGUAGE plpgsql AS $body$
DECLARE
    made record;
BEGIN
    -- the creating transaction (the app's migration) is never failed
    PERFORM set_config('parity_faults.judged', 'on', true);
    FOR made IN SELECT object_identity, schema_name FROM pg_event_trigger_ddl_commands()
                WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %s',
                       parity_faults.counter('writes', made.schema_name));
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %s MINVALUE 0 START 0',
                       parity_faults.counter('run', made.schema_name));
        EXECUTE format(
            'CREATE TRIGGER parity_serialization_failure '
            'BEFORE INSERT OR UPDATE OR DELETE ON %s '
            'FOR EACH STATEMENT EXECUTE FUNCTION parity_faults.serialization_failure()',
            made.object_identity);
    END LOOP;
END
$body$;
DROP EVENT TRIGGER IF EXISTS parity_arm;
CREATE EVENT TRIGGER parity_arm ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
    EXECUTE FUNCTION parity_faults.arm();
"""

#: failures in a row, at most
MAX_RUN = 2


def install(url: str, rate: float, seed: int) -> None:
    """Arm the server at ``url`` (raises psycopg errors, e.g. without superuser)."""
    import psycopg

    sql = INSTALL.format(seed=int(seed), rate=round(rate * 1000), max_run=MAX_RUN)
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # our own constant, formatted with numbers


def injected(url: str) -> int:
    """How many serialization failures were raised so far (for tests and reports)."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM parity_faults.failures"
        ).fetchone()
    return int(row[0]) if row else 0
