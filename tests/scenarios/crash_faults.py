"""A non-atomic backend the crash scenario must catch (for tests, not for the selftest).

- ``split-outbox`` — :class:`~tests.scenarios.split_outbox.SplitOutboxBackend`: SQLite,
  committing a state change and its outbox events in two transactions.

``python -m tests.scenarios.crash_faults ARGV...`` is ``parity ARGV...`` with it
registered (``--backends memory,fault:split-outbox``).
"""

from __future__ import annotations

import sys
from typing import Any

from parity import AppBinding, Store, register_fault
from reference_app.bootstrap import create_app
from scenarios.binding import ReferenceBinding
from tests.scenarios.split_outbox import SplitOutboxBackend


def _build(binding: AppBinding, store: Store) -> Any:
    assert isinstance(binding, ReferenceBinding)
    settings = binding.settings_for(store)
    return create_app(settings, backend=SplitOutboxBackend.from_settings(settings))


register_fault(
    "split-outbox",
    "state change and outbox event committed in two SQLite transactions",
    _build,
    scenarios=("crash",),
    base="sqlite",
)


if __name__ == "__main__":
    from parity.cli import main

    sys.exit(main(sys.argv[1:]))
