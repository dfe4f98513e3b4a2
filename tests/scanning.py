"""Running the scan pipeline from tests: a reporter that keeps what it is told."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from triage import paths
from triage.cases import ClassifiedMail
from triage.config import Config
from triage.outcomes import CaseOutcome, Skipped
from triage.pipeline import ScanOptions, ScanTotals, Services, load_context, scan
from triage.sources import Source
from triage.state import State


@dataclass
class Collected:
    messages: list[dict[str, object]] = field(default_factory=list)
    cases: list[CaseOutcome] = field(default_factory=list)
    skips: list[tuple[str, str]] = field(default_factory=list)
    alarms: list[Skipped] = field(default_factory=list)

    def message(self, item: ClassifiedMail, record: dict[str, object]) -> None:
        self.messages.append(record)

    def skipped(self, item: Skipped) -> None:
        self.skips.append((item.where, item.reason))
        if item.alarm is not None:
            self.alarms.append(item)

    def case(self, outcome: CaseOutcome) -> None:
        self.cases.append(outcome)

    def progress(self, done: int, total: int | None) -> None:
        pass

    @property
    def message_ids(self) -> list[str]:
        return sorted(str(m["message_id"]) for m in self.messages)


def run(source: Source, state: State, *, config: Config | None = None, options: ScanOptions | None = None,
        services: Services | None = None, rules_dir: Path | None = None) -> tuple[Collected, ScanTotals]:
    config = config or Config()
    ctx = load_context(config, rules_dir or paths.rules_dir(), paths.templates_dir(),
                       options or ScanOptions(offline=True), services or Services())
    collected = Collected()
    totals = scan(ctx, source, state, collected)
    return collected, totals
