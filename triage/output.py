"""The JSON lines of DESIGN.md, built from records. Used for --json, and stored in the state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from triage.utc import utc_z

if TYPE_CHECKING:
    from triage.cases import ClassifiedMail
    from triage.outcomes import CaseOutcome, Skipped


def message_record(item: ClassifiedMail) -> dict[str, object]:
    mail, cls = item.mail, item.classification
    return {
        "type": "message",
        "message_id": mail.message_id or mail.key,
        "date": utc_z(mail.date),
        "from": mail.sender.address,
        "subject": mail.subject,
        "kind": cls.kind,
        "severity": cls.severity,
        "authenticity": item.authenticity.verdict,
        "rule": cls.rule,
        "case_id": item.case_id,
        "account_ids": list(cls.entities.account_ids),
        # A forwarded mail: the lines above are the original's; who forwarded it, and how it was carried.
        **({"forwarded_by": item.forward.forwarder.address, "forwarded_as": f"{item.forward.how}/{item.forward.client}"}
           if item.forward else {}),
    }


def case_record(outcome: CaseOutcome) -> dict[str, object]:
    case = outcome.case
    return {
        "type": "case",
        "case_id": case.case_id,
        "kind": case.kind,
        "severity": case.severity,
        "message_ids": list(case.keys),
        "summary": outcome.delivery,
    }


def summary_record(outcome: CaseOutcome) -> dict[str, object] | None:
    """With --json and --no-send, the printed summary travels as its own line (stdout stays JSON)."""
    if outcome.summary is None or outcome.delivery != "printed":
        return None
    s = outcome.summary
    return {"type": "summary", "case_id": s.case_id, "subject": s.subject, "text": s.text, "reply": s.reply}


def skipped_record(item: Skipped) -> list[dict[str, object]]:
    """A mail that could not be handled; with an alarm that was printed, the alarm's text after it."""
    record: dict[str, object] = {"type": "skipped", "where": item.where, "reason": item.reason}
    if item.alarm is None:
        return [record]
    record["alarm"] = item.delivery
    lines = [record]
    if item.delivery == "printed":
        a = item.alarm
        lines.append({"type": "summary", "case_id": a.case_id, "subject": a.subject, "text": a.text, "reply": ""})
    return lines
