"""What a source may be asked to look for before it fetches a body: search terms and a re-check of the
decoded headers. Only the records: which terms (the AWS ones) is `triage.relevance`'s job, and using them
is the IMAP source's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Headers:
    """The decoded headers a `wanted` predicate sees before a body is fetched."""

    sender: str  # From, display name and address
    subject: str
    message_id: str
    addresses: tuple[str, ...] = ()  # the bare addresses in From and Sender


@dataclass(frozen=True)
class Narrowing:
    """What to look for: SEARCH terms (ASCII, matched in From and Subject) and the exact re-check."""

    terms: tuple[str, ...]
    wanted: Callable[[Headers], bool]
