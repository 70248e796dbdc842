"""Planted faults of the reference app: real backends with one realistic bug each.

``[tool.parity] selftest = "scenarios.faults"``: importing this package registers every
fault with :func:`parity.register_fault` (each becomes the engine ``fault:<name>``), so
``parity selftest`` and ``--backends fault:<name>`` know them. The six core faults below
must each be caught by the ledger scenario; :mod:`scenarios.faults.scenario` adds the
ones only a dedicated scenario family catches. The machinery is in
:mod:`scenarios.faults.base`.
"""

from scenarios.faults import ports as _ports  # noqa: F401  (transport faults)
from scenarios.faults import providers as _providers  # noqa: F401  (port faults)
from scenarios.faults import scenario as _scenario  # noqa: F401  (registers its faults)
from scenarios.faults.base import (
    ExpiredKeyUoW,
    LostUpdateUoW,
    OutboxGapUoW,
    PaginationSkipUoW,
    RoundingUoW,
    WrongStatusMiddleware,
    plant,
)

LEDGER = ("ledger",)
# The six core faults: the ledger scenario must catch each.
for _name, _description, _kwargs in (
    ("lost-update", "stale card read + unconditional write", {"uow": LostUpdateUoW}),
    ("expired-key", "idempotency key honoured after its TTL", {"uow": ExpiredKeyUoW}),
    ("outbox-gap", "outbox sequence skips a number", {"uow": OutboxGapUoW}),
    ("pagination-skip", "first row of later pages dropped", {"uow": PaginationSkipUoW}),
    (
        "wrong-status",
        "200 instead of 201 for a new transaction",
        {"middleware": WrongStatusMiddleware},
    ),
    ("rounding", "balance round-tripped through float dollars", {"uow": RoundingUoW}),
):
    plant(_name, _description, scenarios=LEDGER, core=True, **_kwargs)  # type: ignore[arg-type]
