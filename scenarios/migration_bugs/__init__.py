"""Migration bugs: the porting mistakes a team makes moving the card ledger to a new
store, planted into the real SQLite, PostgreSQL and DynamoDB backends one at a time.

They are the reference app's *sign-off* set, kept apart from its selftest faults
(``scenarios.faults``, which ``parity selftest`` runs by default): these were written to
check that the default suites catch each class of migration bug (issue 12) — time, data,
volume, store settings, rare paths, engine faults, crash windows, and state only the
contract suite reaches — at the ``ci`` profile's depth, not next to the scenario that
catches them. Importing this package registers every one as an engine
``fault:<name>``::

    parity selftest --registry scenarios.migration_bugs --profile ci

runs each on the scenarios (or the contract suite) that must catch it and prints, per
bug, whether it was caught and the length of the shrunk reproduction;
``python -m scenarios.migration_bugs run --backends memory,fault:<name> ...`` runs one
like any engine.
"""

from scenarios.migration_bugs import dynamodb, sql

__all__ = ["dynamodb", "sql"]
