"""Reports: one event stream, one handler per format.

``events`` (what happens during a run) → ``model.ReportBuilder`` (the ``RunReport``) →
``json_report`` / ``junit`` / ``html`` / ``markdown`` (files) and ``terminal`` (live).
``merge.merge_reports`` joins reports from several machines (``--shard``) or xdist workers.
"""

from parity.report.events import EventBus
from parity.report.merge import merge_reports
from parity.report.model import ReportBuilder, ReportError, RunReport
from parity.report.writers import FilesHandler, write_all

__all__ = [
    "EventBus",
    "FilesHandler",
    "ReportBuilder",
    "ReportError",
    "RunReport",
    "merge_reports",
    "write_all",
]
