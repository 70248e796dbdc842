"""A card-ledger API whose storage is swappable: the parity harness's reference app."""

from reference_app.bootstrap import create_app
from reference_app.settings import Settings

__all__ = ["Settings", "create_app"]
