"""Traces: the JSON record of a lockstep run, saved on divergence and replayable."""

from parity.trace.model import SCHEMA_VERSION, Step, Trace, TraceError, collect_versions
from parity.trace.store import load_trace, save_failure, save_trace

__all__ = [
    "SCHEMA_VERSION",
    "Step",
    "Trace",
    "TraceError",
    "collect_versions",
    "load_trace",
    "save_failure",
    "save_trace",
]
