"""What `triage status` shows: the open cases, the outbox, the last pass per folder, who holds the state.

`gather` reads it from a state opened beside the daemon (shared, it never waits); `status_text` and
`status_json` only format. Times are shown in Japan time, as the summaries write them.
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


def _jst(value: datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M JST") if value else "-"


def status_text(report: StatusReport) -> str:
    lines = [f"daemon: running (pid {report.holder})" if report.holder else "daemon: not running", ""]
    lines.append(f"cases: {len(report.cases)}")
    header = ("case", "kind", "severity", "first mail", "last mail", "sent", "acknowledged", "next reminder")
    rows: list[tuple[str, ...]] = [
        (c.row.case_id, c.row.kind, c.row.severity, _jst(c.row.first_mail_at), _jst(c.row.last_mail_at),
         f"{c.row.summaries_sent}+{c.row.reminders_sent}", "yes" if c.row.acknowledged else "no",
         _jst(c.next_reminder)) for c in report.cases]
    if rows:
        lines.extend(_table(header, rows))
    lines.append("")
    lines.append(f"outbox: {len(report.outbox)} waiting")
    for item in report.outbox:
        lines.append(f"  {item.case_id} ({item.channel}) queued {_jst(item.queued_at)}, {item.attempts} attempt(s)"
                     + (f", last error: {item.last_error}" if item.last_error else ""))
    lines.append("")
    lines.append("last pass:")
    for p in report.passes:
        lines.append(f"  {p.mailbox}: {_jst(p.at)} {p.outcome}")
    if not report.passes:
        lines.append("  none yet")
    if report.cases and any(not c.row.acknowledged for c in report.cases):
        lines.extend(["", "acknowledge a case (its reminders stop): triage ack CASE, or triage ack --all"])
    return "\n".join(lines) + "\n"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]


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
