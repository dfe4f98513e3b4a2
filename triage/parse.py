"""Raw bytes → `Mail`, with mail-parser.

mail-parser supplies the metadata it gets right (addresses, date, Message-ID, defects, attachments). Text
parts and encoded-word headers are decoded here with the Japanese charset fixes of `charsets`, because
mail-parser returns 7-bit ISO-2022-JP undecoded and garbles the Windows variants.

A mail that cannot be made sense of raises `MalformedMail`; the caller logs it and goes on.
"""

from __future__ import annotations

import email.message
import email.utils
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from triage.charsets import decode_bytes, decode_header
from triage.htmltext import html_to_text, urls_in_text
from triage.mail import Address, Attachment, Mail, RawMail, normalize_message_id

if TYPE_CHECKING:
    import mailparser

log = logging.getLogger(__name__)

# Headers that carry addresses: their display names are decoded after the address list is split, so an
# encoded comma cannot split an address in two.
_ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender", "return-path"}


class MalformedMail(ValueError):
    """The bytes are not a mail we can read (empty, binary junk, no headers)."""


def parse_mail(raw: RawMail, *, max_bytes: int | None = None) -> Mail:
    data = raw.data
    if not data.strip():
        raise MalformedMail("empty message (0 bytes)")
    if max_bytes is not None and len(data) > max_bytes:
        raise MalformedMail(f"message of {len(data)} bytes is over the {max_bytes}-byte limit ([mail] max_bytes)")
    if b"\x00" in data[:4096] or not _looks_like_mail(data):
        raise MalformedMail("not an e-mail message (no header block)")
    try:
        import mailparser  # only a run that has mail to read pays for importing it

        parsed = mailparser.parse_from_bytes(data)
    except Exception as exc:  # mail-parser raises bare exceptions on some junk; never end the scan
        raise MalformedMail(f"mail-parser could not read it: {exc}") from exc
    message: email.message.Message = parsed.message

    headers = tuple((str(k), _header_text(str(k), v)) for k, v in message.items())
    text, html, links = _bodies(message)
    if _is_binary_junk(text):
        raise MalformedMail("binary junk where the text should be")
    return Mail(
        origin=raw.origin,
        message_id=normalize_message_id(message.get("Message-ID")),
        content_hash=raw.content_hash,
        sender=_first(_addresses(message.get_all("From", []))),
        subject=decode_header(message.get("Subject")),
        date=_date(parsed.date),
        text=text,
        to=_addresses(message.get_all("To", [])),
        reply_to=_addresses(message.get_all("Reply-To", [])),
        in_reply_to=normalize_message_id(message.get("In-Reply-To")),
        references=tuple(re.findall(r"<[^<>\s]+>", str(message.get("References", "")))),
        html=html,
        links=links,
        attachments=_attachments(message),
        headers=headers,
        defects=_defects(parsed),
        raw=data,
    )


def _looks_like_mail(data: bytes) -> bool:
    """True when the first line is a header field (or an mbox "From " line)."""
    first = data.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(re.match(rb"(From |[!-9;-~]+:)", first))


def _is_binary_junk(text: str) -> bool:
    """Mostly control characters or undecodable bytes: not text any reader could use."""
    if len(text) < 64:
        return False
    bad = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\n\r\f\x1b"))
    return bad / len(text) > 0.3


def _header_text(name: str, value: object) -> str:
    if name.lower() in _ADDRESS_HEADERS:
        return re.sub(r"\r?\n[ \t]+", " ", str(value)).strip()
    return decode_header(str(value))


def _addresses(values: list[str]) -> tuple[Address, ...]:
    out = []
    for name, addr in email.utils.getaddresses([str(v) for v in values]):
        out.append(Address(name=decode_header(name), address=addr.strip().lower()))
    return tuple(a for a in out if a.address or a.name)


def _first(addresses: tuple[Address, ...]) -> Address:
    return addresses[0] if addresses else Address(name="", address="")


def _date(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:  # mail-parser converts to UTC and drops the zone on some versions
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _bodies(message: email.message.Message) -> tuple[str, str, tuple[str, ...]]:
    """(text, html, links): text/plain parts joined, or the HTML as text when there is none."""
    plain: list[str] = []
    html: list[str] = []
    for part in message.walk():
        if part.is_multipart() or _is_attachment(part):
            continue
        ctype = part.get_content_type()
        if part.get_content_maintype() == "multipart":
            ctype = "text/plain"  # a multipart whose boundary never came: its words are still the mail's
        if ctype not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        decoded = decode_bytes(payload, part.get_content_charset())
        (plain if ctype == "text/plain" else html).append(decoded)
    html_text = "\n".join(html)
    text = "\n\n".join(p.strip("\r\n") for p in plain).replace("\r\n", "\n")
    links: list[str] = []
    if html_text:
        converted, hrefs = html_to_text(html_text)
        links.extend(hrefs)
        if not text.strip():
            text = converted
    links.extend(urls_in_text(text))
    return text, html_text, tuple(dict.fromkeys(links))


def _is_attachment(part: email.message.Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or (bool(part.get_filename()) and disposition != "inline")


def _attachments(message: email.message.Message) -> tuple[Attachment, ...]:
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if not filename and not _is_attachment(part):
            continue
        payload = part.get_payload(decode=True)
        found.append(Attachment(
            filename=decode_header(filename) if filename else "",
            content_type=part.get_content_type(),
            size=len(payload) if isinstance(payload, bytes) else 0,
        ))
    return tuple(found)


def _defects(parsed: mailparser.MailParser) -> tuple[str, ...]:
    out: list[str] = []
    for entry in parsed.defects or []:
        if isinstance(entry, dict):
            for items in entry.values():
                out.extend(str(i) for i in items)
        else:
            out.append(str(entry))
    return tuple(out)
