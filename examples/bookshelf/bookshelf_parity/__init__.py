"""Bookshelf bound to Parity: the binding (``binding.py``) and the scenario (``scenarios/``)."""
