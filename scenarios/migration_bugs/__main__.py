"""``python -m scenarios.migration_bugs ARGV...`` is ``parity ARGV...`` with every
migration bug registered as an engine (``--backends memory,fault:<name>``)."""

import sys

import scenarios.migration_bugs  # noqa: F401  (registers the bugs)
from parity import main

sys.exit(main(sys.argv[1:]))
