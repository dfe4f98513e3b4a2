"""What a command tells while it runs: the scan's reporters (triage.pipeline's `Reporter`) and the progress
line on a terminal.

`JsonReporter` writes a JSON line for each mail, skip and case as it comes; `TableReporter` keeps the rows
and writes the terminal's text (triage.terminal) when the scan ends. Neither prints: each writes through the
function cli.py gives it, so all output still leaves by the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from triage.output import case_record, skipped_record, summary_record
from triage.terminal import TerminalText, progress_line, scan_row

if TYPE_CHECKING:
    from triage.cases import ClassifiedMail
    from triage.outcomes import CaseOutcome, Skipped
    from triage.pipeline import ScanTotals

Write = Callable[[str], None]  # one text to stdout; a newline follows it


class ProgressLine:
    """One line on stderr, redrawn in place, while long work runs: `[####......] 1200 of 5000 mails read`.
    Only when stderr is a terminal (`redraw` is None otherwise): a log file or a pipe gets nothing."""

    def __init__(self, redraw: Write | None, what: str) -> None:
        self._redraw = redraw
        self.what = what
        self.shown = False

    def update(self, done: int, total: int | None) -> None:
        if self._redraw is not None:
            self._redraw(f"\r{progress_line(done, total, self.what)}\x1b[K")
            self.shown = True

    def finish(self) -> None:
        """Clear the line, so what follows on the terminal starts clean."""
        if self._redraw is not None and self.shown:
            self._redraw("\r\x1b[K")
            self.shown = False


class JsonReporter:
    def __init__(self, write: Write, progress: ProgressLine) -> None:
        self._write = write
        self._progress = progress

    def _line(self, record: Mapping[str, object]) -> None:
        self._write(json.dumps(record, ensure_ascii=False))

    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None:
        self._line(record)

    def skipped(self, item: Skipped) -> None:
        for record in skipped_record(item):
            self._line(record)

    def case(self, outcome: CaseOutcome) -> None:
        self._line(case_record(outcome))
        printed = summary_record(outcome)
        if printed:
            self._line(printed)

    def progress(self, done: int, total: int | None) -> None:
        self._progress.update(done, total)

    def finish(self, totals: ScanTotals) -> None:
        self._progress.finish()


class TableReporter:
    """A compact table of the mails about AWS, then each case and its summary (triage.terminal)."""

    def __init__(self, write: Write, progress: ProgressLine, text: TerminalText) -> None:
        self._write = write
        self._progress = progress
        self._text = text
        self.rows: list[tuple[object, ...]] = []
        self.outcomes: list[CaseOutcome] = []
        self.alarms: list[Skipped] = []

    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None:
        self.rows.append(scan_row(item))

    def skipped(self, item: Skipped) -> None:
        if item.alarm is not None:
            self.alarms.append(item)

    def case(self, outcome: CaseOutcome) -> None:
        self.outcomes.append(outcome)

    def progress(self, done: int, total: int | None) -> None:
        self._progress.update(done, total)

    def finish(self, totals: ScanTotals) -> None:
        self._progress.finish()
        self._write(self._text.scan(self.rows, self.outcomes, self.alarms, totals))
