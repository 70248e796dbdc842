"""Diffing what backends answered: normalise volatile values, compare, render.

- :mod:`parity.diff.options` says what counts as a difference (``[tool.parity.diff]``).
- :mod:`parity.diff.normalize` maps volatile values (ids, cursors, tokens, timestamps)
  to stable references such as ``<id:3>`` and back again for each backend.
- :mod:`parity.diff.compare` finds the structured differences of two normalised answers.
- :mod:`parity.diff.render` prints them side by side for a human.
"""

from parity.diff.compare import Difference, compare
from parity.diff.normalize import NormalizedRequest, Normalizer
from parity.diff.options import DiffConfigError, DiffOptions
from parity.diff.render import render_side_by_side

__all__ = [
    "DiffConfigError",
    "DiffOptions",
    "Difference",
    "NormalizedRequest",
    "Normalizer",
    "compare",
    "render_side_by_side",
]
