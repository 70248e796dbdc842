"""Write every file format of a report; the handler that does it when a run finishes."""

from __future__ import annotations

from pathlib import Path

from parity.report import html, json_report, junit, markdown
from parity.report.events import Event, RunFinished
from parity.report.model import ReportBuilder, RunReport

FORMATS = (json_report, junit, html, markdown)


def write_all(report: RunReport, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [fmt.write(report, directory) for fmt in FORMATS]


class FilesHandler:
    """On ``RunFinished``, render the builder's report into ``directory``."""

    def __init__(self, builder: ReportBuilder, directory: Path) -> None:
        self.builder = builder
        self.directory = directory
        self.written: list[Path] = []

    def handle(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.written = write_all(self.builder.report, self.directory)
