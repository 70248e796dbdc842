"""Adapters for the small ports: clocks, id generators, JWT auth, pause points."""
