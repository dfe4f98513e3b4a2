"""What a scan did with each case and with each mail it could not handle: the records the reporters (the
human table, `--json`, the daemon's log) and the JSON lines are built from. Plain records, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from triage.cases import Case
from triage.render import Summary


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    delivery: str  # sent | printed | skipped
    summary: Summary | None = None
    reason: str = ""  # why skipped


@dataclass(frozen=True)
class Skipped:
    """A mail that could not be handled, and the alarm raised for it (when it looks like AWS mail)."""

    where: str
    reason: str
    alarm: Summary | None = None
    delivery: str = ""  # of the alarm: sent | printed | failed | "" when there is none
