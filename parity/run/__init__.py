"""Running Parity: provision backends, run suites, replay the regression corpus, report.

- :mod:`parity.run.backends` — engines → started engines → target factories.
- :mod:`parity.run.context` — what a suite gets: backends, config, event bus, baseline.
- :mod:`parity.run.scenario` — one lockstep scenario under Hypothesis → events.
- :mod:`parity.run.regressions` — replay ``fixtures/regressions/*.json``.
- :mod:`parity.run.orchestrator` — the whole ``parity run``.
"""

from parity.run.backends import InfraError

__all__ = ["InfraError"]
