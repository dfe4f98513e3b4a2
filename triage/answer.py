"""Who receives a summary, and which mail it answers.

A case's summary goes to `[notify] to`. When mails of the case were forwarded to triage, the summary also
goes back to each forwarder as a reply to the forward: `In-Reply-To` and `References` name the forward's
Message-ID (validated in triage.forward: the only value from a mail that enters our headers), and the
subject is 「Re: 」 before our own subject, never the forward's. Each forwarder is answered once per
original; the owner gets the summary once, in the same message when a forwarder is answered with it.

Pure: the pipeline sends the deliveries and records them under the channel and digest named here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from triage.cases import Case, ClassifiedMail
from triage.render import Summary, Texts

OWNER_CHANNEL = "smtp"
REPLY_CHANNEL = "reply"


@dataclass(frozen=True)
class Delivery:
    summary: Summary  # addressed: recipients and reply headers set
    records: tuple[tuple[str, str], ...]  # (channel, digest) under which the state remembers it was sent


def reply_digest(item: ClassifiedMail) -> str:
    """Names "this forwarder was answered about this original"."""
    assert item.forward is not None
    return hashlib.sha256(f"{item.forward.forwarder.address}\n{item.mail.key}".encode()).hexdigest()[:16]


def pending_replies(case: Case, answered: Callable[[str], bool]) -> list[ClassifiedMail]:
    """The forwards of the case still to be answered: one per forwarder and original, first forward first."""
    out: dict[str, ClassifiedMail] = {}
    for item in case.forwarded:
        digest = reply_digest(item)
        if digest not in out and not answered(digest):
            out[digest] = item
    return list(out.values())


def deliveries(summary: Summary, replies: list[ClassifiedMail], *, owner: tuple[str, ...], owner_due: bool,
               texts: Texts) -> list[Delivery]:
    """The messages to send for one case: the owner's summary (when due) and a reply to each forward."""
    out: list[Delivery] = []
    for item in replies:
        assert item.forward is not None
        forwarder = item.forward.forwarder.address
        digest = reply_digest(item)
        records: tuple[tuple[str, str], ...] = ((REPLY_CHANNEL, digest),)
        recipients: tuple[str, ...] = (forwarder,)
        if owner_due and not out:
            records += ((OWNER_CHANNEL, summary.digest),)
            recipients = tuple(dict.fromkeys((forwarder, *owner)))
        subject = texts.labels["forward"]["reply_subject"].replace("{subject}", summary.subject)
        out.append(Delivery(replace(summary, subject=subject, recipients=recipients,
                                    in_reply_to=item.forward.message_id, tag=f"re-{digest}"), records))
    if owner_due and not out:
        out.append(Delivery(summary, ((OWNER_CHANNEL, summary.digest),)))
    return out
