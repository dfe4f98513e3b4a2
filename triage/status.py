"""What `triage status` shows: the open cases, the outbox, the last pass per folder, who holds the state.

`gather` reads it from a state opened beside the daemon (shared, it never waits); `status_json` only
formats, in Japan time as the summaries write it. The text for the terminal is a template
(templates/terminal_status.txt.j2, rendered by triage.terminal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from triage.kinds import Kinds
from triage.state import CaseRow, OutboxItem, PassRow, State
from triage.utc import JST


@dataclass(frozen=True)
class CaseStatus:
    row: CaseRow
    next_reminder: datetime | None


@dataclass(frozen=True)
class StatusReport:
    holder: int | None  # pid of the process holding the state (the daemon), or None
    cases: tuple[CaseStatus, ...]
    outbox: tuple[OutboxItem, ...]
    passes: tuple[PassRow, ...]


def gather(state: State, holder: int | None, kinds: Kinds, remind_every_hours: float) -> StatusReport:
    cases = tuple(CaseStatus(row, next_reminder(row, kinds, remind_every_hours)) for row in state.case_rows())
    return StatusReport(holder, cases, tuple(state.outbox_pending()), tuple(state.passes()))


def next_reminder(row: CaseRow, kinds: Kinds, every_hours: float) -> datetime | None:
    """When the daemon reminds the owner next: critical cases of a `reminded` kind, until acknowledged."""
    kind = kinds.get(row.kind)
    if (every_hours <= 0 or kind is None or not kind.reminded or row.severity != "critical" or row.acknowledged
            or row.last_sent_at is None):
        return None
    return row.last_sent_at + timedelta(hours=every_hours)


def status_json(report: StatusReport) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(JST).isoformat() if value else None

    return {
        "daemon_pid": report.holder,
        "cases": [{"case_id": c.row.case_id, "kind": c.row.kind, "severity": c.row.severity,
                   "first_mail": iso(c.row.first_mail_at), "last_mail": iso(c.row.last_mail_at),
                   "summaries_sent": c.row.summaries_sent, "reminders_sent": c.row.reminders_sent,
                   "acknowledged": c.row.acknowledged, "next_reminder": iso(c.next_reminder)}
                  for c in report.cases],
        "outbox": [{"case_id": i.case_id, "digest": i.digest, "channel": i.channel, "queued_at": iso(i.queued_at),
                    "attempts": i.attempts, "last_error": i.last_error} for i in report.outbox],
        "passes": [{"mailbox": p.mailbox, "at": iso(p.at), "outcome": p.outcome} for p in report.passes],
    }
