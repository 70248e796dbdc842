"""``parity selftest``: prove the scenarios catch real bugs by planting them.

An app's project registers planted faults with :func:`parity.register_fault` (each
becomes an engine ``fault:<name>``, see :mod:`parity.selftest.registry`);
:mod:`parity.selftest.runner` runs the scenarios against the reference vs each faulty
engine and checks each fault is caught, shrunk and replayable.
"""
