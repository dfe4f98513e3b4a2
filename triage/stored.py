"""What the state keeps, as plain records: read and written by `triage.state`, read by the stages it is
handed to. Apart from the SQLite code so that a pure stage (render, classify) can take a stored record
without importing the storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Mailbox:
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class SeenMessage:
    key: str
    content_hash: str
    case_id: str
    date: str | None
    kind: str
    severity: str
    record: dict[str, Any]


@dataclass(frozen=True)
class FailedMail:
    """A mail handled with an error: it is not met again, except by a scan with --all."""

    content_hash: str
    key: str
    location: str
    reason: str


@dataclass(frozen=True)
class SentSummary:
    case_id: str
    kind: str
    severity: str
    subject: str
    text: str
    sent_at: datetime  # when this summary went out
    last_sent_at: datetime  # when anything (summary or reminder) last went out for the case
    last_mail_at: datetime | None  # date of the newest mail in the case
    acknowledged: bool = False  # `triage ack` since the case's newest mail


@dataclass(frozen=True)
class OutboxItem:
    case_id: str
    digest: str
    channel: str
    summary: dict[str, Any]
    queued_at: datetime
    attempts: int
    last_error: str


@dataclass(frozen=True)
class CaseRow:
    """One case as `triage status` shows it."""

    case_id: str
    kind: str
    severity: str
    first_mail_at: datetime | None
    last_mail_at: datetime | None
    summaries_sent: int  # delivered (the server answered 250)
    reminders_sent: int
    last_sent_at: datetime | None
    acknowledged: bool


@dataclass(frozen=True)
class PassRow:
    mailbox: str
    at: datetime
    outcome: str


@dataclass(frozen=True)
class KnownAccount:
    """One of the owner's AWS accounts and how triage learned it."""

    account_id: str
    source: str  # "sts": the account check's credentials; "mail": authenticated AWS mail naming it
    detail: str  # the caller ARN, or the mail that named it (kind, sender, date, subject)
    first_seen: str
    last_seen: str
