"""``parity selftest``: prove the harness catches real bugs by planting them.

:mod:`parity.selftest.faults` wraps a real backend's unit of work (or the app) to plant
one bug each and registers the result as an engine (``fault:lost-update`` …);
:mod:`parity.selftest.runner` runs the scenarios against memory vs each faulty engine
and checks each fault is caught, shrunk and replayable.
"""
