"""Parity: run one API against every storage backend in lockstep and diff the answers."""

__version__ = "0.1.0"
