"""The plain records a mail becomes: what a source hands over, and what parsing makes of it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime


@dataclass(frozen=True)
class Origin:
    """Where a mail was read from; enough to find it again and to log it."""

    source: str  # "imap", "mbox", "maildir", "eml"
    location: str  # folder name for IMAP, file path otherwise
    uid: int | None = None  # IMAP UID, or position in an mbox
    uidvalidity: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.location}"
        return f"{where} #{self.uid}" if self.uid is not None else where


@dataclass(frozen=True)
class RawMail:
    """A mail as a source delivers it: the bytes and where they came from."""

    data: bytes
    origin: Origin

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Address:
    name: str  # display name, decoded; may be ""
    address: str  # lower-cased addr-spec; may be "" when the header is missing or broken

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] if "@" in self.address else ""

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Mail:
    """One parsed mail. Text is decoded; HTML-only mail carries its HTML converted to text."""

    origin: Origin
    message_id: str  # with angle brackets, "" when the mail has none
    content_hash: str  # sha256 of the raw bytes
    sender: Address  # the From header
    subject: str
    date: datetime | None  # UTC
    text: str  # text/plain, or the HTML part as readable text
    to: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    html: str = ""  # the raw HTML part, if any (for link and logo checks)
    links: tuple[str, ...] = ()  # every URL in the HTML hrefs and the text, in order, once each
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # every header, in order, values decoded and unfolded
    defects: tuple[str, ...] = ()
    raw: bytes = field(default=b"", repr=False)  # kept for DKIM verification
    text_from_html: bool = False  # the mail had no text part: `text` was made from the HTML part

    @property
    def key(self) -> str:
        """Identity for "seen before": the Message-ID, or the content hash for mail without one."""
        return self.message_id or f"sha256:{self.content_hash}"

    def header_values(self, name: str) -> list[str]:
        """All values of a header, in order (Authentication-Results, DKIM-Signature, Received…)."""
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    def header(self, name: str) -> str:
        values = self.header_values(name)
        return values[0] if values else ""


# What a classified mail keeps of its text: the translation reads the first few thousand characters.
KEPT_TEXT = 64 * 1024


def for_later_stages(mail: Mail) -> Mail:
    """The mail as the stages after classification need it: no raw bytes, no HTML, no header list, and
    the text cut to KEPT_TEXT, so a scan's memory grows with the number of mails, not with their size."""
    return replace(mail, raw=b"", html="", headers=(), links=(), text=mail.text[:KEPT_TEXT])


def normalize_message_id(value: object) -> str:
    """`<id@host>` from a Message-ID / In-Reply-To value; "" when there is none."""
    if not value:
        return ""
    found = re.search(r"<[^<>\s]+>", str(value))
    if found:
        return found.group(0)
    bare = str(value).strip()
    return f"<{bare}>" if bare and " " not in bare else ""
