"""Bookshelf's lockstep scenarios: ``parity run`` imports every module here."""
