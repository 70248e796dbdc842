"""Engines provision storage backends for a parity run: see :mod:`parity.engines.base`."""

from parity.engines.base import Engine, EngineInfo, EngineUnavailable
from parity.engines.registry import ENGINES, canonical, create_engine

__all__ = ["ENGINES", "Engine", "EngineInfo", "EngineUnavailable", "canonical", "create_engine"]
