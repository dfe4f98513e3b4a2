"""What can still be told of a mail that could not be handled: its sender, subject and date as far as the
raw header block can be read. Enough to decide whether it looks like AWS mail, and to say so.

Pure and total: the header block is cut to a bound and decoded with `triage.headers`; nothing here raises
on what a mail holds.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime

from triage.headers import decode_header, parse_date, unfold
from triage.mail import RawMail, normalize_message_id

HEAD_LIMIT = 64 * 1024  # bytes of the raw mail searched for its header block
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class UnreadableMail:
    where: str  # imap:INBOX #12, or the file
    reason: str  # the one-line cause
    content_hash: str
    sender: str  # From and Sender, decoded as far as they go
    subject: str
    date: datetime | None
    message_id: str

    @property
    def key(self) -> str:
        return self.message_id or f"sha256:{self.content_hash}"


def peek(raw: RawMail, reason: str) -> UnreadableMail:
    head = raw.data[:HEAD_LIMIT].replace(b"\x00", b"")
    end = _END_OF_HEADERS.search(head)
    head = head[:end.start()] if end else head
    try:
        message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head)
        senders = [str(v) for v in (message.get_all("From") or []) + (message.get_all("Sender") or [])]
        subject, date_value, mid = message.get("Subject"), message.get("Date"), message.get("Message-ID")
    except Exception:  # the header block is beyond the standard library too: nothing is known of it
        senders, subject, date_value, mid = [], None, None, None
    return UnreadableMail(
        where=str(raw.origin),
        reason=reason,
        content_hash=raw.content_hash,
        sender=" ".join(decode_header(s) for s in senders[:4]),
        subject=decode_header(None if subject is None else str(subject)),
        date=parse_date(None if date_value is None else str(date_value)),
        message_id=normalize_message_id(unfold(None if mid is None else str(mid))),
    )
