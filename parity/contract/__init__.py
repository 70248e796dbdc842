"""The contract suite: schemathesis against the committed OpenAPI document on every
backend, each case generated once and diffed across backends.

- :mod:`parity.contract.schema` — the contract and its schemathesis config.
- :mod:`parity.contract.transport` — cases to wire requests to Parity targets and back.
- :mod:`parity.contract.differential` — one case, every backend, one diff.
- :mod:`parity.contract.checks` — schemathesis's checks per backend, plus Parity's own.
- :mod:`parity.contract.runner` — generation (per operation, then stateful links).
- :mod:`parity.contract.traces` — a shrunk failing case as a replayable trace.
- :mod:`parity.contract.suite` — ``parity run --suite contract``: results → events.
"""
