"""Port scenarios of the reference app (``parity run --suite ports``): one Python
interface, every implementation of it, in lockstep.

- :mod:`scenarios.ports.unit_of_work` — the storage port over every backend engine;
- :mod:`scenarios.ports.transports` — the outbox transports: memory, SQS FIFO and
  EventBridge → SQS on a moto server, as a consumer sees them.

Written with ``from parity import ...`` only, like every scenario of the project.
"""
