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
    reply_to: tuple[str, ...] = ()  # the bare addresses in Reply-To
    return_path: str = ""  # the bare address in Return-Path (the envelope sender), if the server kept it
    list_id: str = ""  # List-Id, unfolded: the mail came through a mailing list
    dkim_domains: tuple[str, ...] = ()  # the d= of each DKIM-Signature, as claimed (verified only with the body)


@dataclass(frozen=True)
class Narrowing:
    """What to look for: SEARCH terms (ASCII) and the exact re-check. `terms` match in From or Subject;
    `sender_terms` in From only, and not in mail from `quiet_domains` (From "<…@domain>"): the server leaves
    out what `wanted` would drop anyway, and its headers are never fetched."""

    terms: tuple[str, ...]
    wanted: Callable[[Headers], bool]
    sender_terms: tuple[str, ...] = ()
    quiet_domains: tuple[str, ...] = ()
