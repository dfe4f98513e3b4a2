"""Raw bytes → `Mail`, with mail-parser.

mail-parser supplies the date and the defects (triage.mailparser_read: only what is read of it). Text
parts and encoded-word headers are decoded here with the Japanese charset fixes of `charsets`, because
mail-parser returns 7-bit ISO-2022-JP undecoded and garbles the Windows variants.

Hostile or broken mail is read as far as it goes: NUL bytes in the header block are dropped, a mail that
mail-parser cannot read is parsed with the standard library's `email` package, and every header value is
decoded with bounded effort (`triage.headers`). What went wrong is kept in `Mail.defects`. A mail that
cannot be made sense of at all raises `MalformedMail`; the caller logs it and goes on.
"""

from __future__ import annotations

import email
import email.header
import email.message
import logging
import re
from collections.abc import Sequence
from datetime import datetime

from triage.charsets import decode_text
from triage.headers import decode_header, decode_header_checked, parse_date, sane_date, split_addresses, unfold
from triage.htmltext import html_to_text, urls_in_text
from triage.mail import Address, Attachment, Mail, RawMail, normalize_message_id

log = logging.getLogger(__name__)

# Headers that carry addresses: their display names are decoded after the address list is split, so an
# encoded comma cannot split an address in two.
_ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender", "return-path"}
MAX_HEADERS = 1000  # header fields kept per mail; a mail with more is marked defective
MAX_PARTS = 1000  # MIME parts read per mail
MAX_TEXT_BYTES = 2 * 1024 * 1024  # of one text part: no AWS notice is longer, and the checks stay quick


class MalformedMail(ValueError):
    """The bytes are not a mail we can read (empty, binary junk, no headers)."""


def parse_mail(raw: RawMail, *, max_bytes: int | None = None) -> Mail:
    data = raw.data
    if not data.strip():
        raise MalformedMail("empty message (0 bytes)")
    if max_bytes is not None and len(data) > max_bytes:
        raise MalformedMail(f"message of {len(data)} bytes is over the {max_bytes}-byte limit ([mail] max_bytes)")
    data, defects = _without_nul_in_headers(data)
    if not _looks_like_mail(data):
        raise MalformedMail("not an e-mail message (no header block)")
    message, date, found = _read(data)
    defects += found

    items = message.items()
    if len(items) > MAX_HEADERS:
        defects.append(f"{len(items)} header fields; the first {MAX_HEADERS} were read")
    headers = tuple((str(k)[:200], _header_text(str(k), v)) for k, v in items[:MAX_HEADERS])
    text, html, links, from_html = _bodies(message, defects)
    if _is_binary_junk(text):
        raise MalformedMail("binary junk where the text should be")
    subject, subject_defects = decode_header_checked(_str(message.get("Subject")))
    defects.extend(subject_defects)
    return Mail(
        origin=raw.origin,
        message_id=normalize_message_id(unfold(_str(message.get("Message-ID")))),
        content_hash=raw.content_hash,
        sender=_first(_addresses(message.get_all("From", []))),
        subject=subject,
        date=date,
        text=text,
        to=_addresses(message.get_all("To", [])),
        reply_to=_addresses(message.get_all("Reply-To", [])),
        in_reply_to=normalize_message_id(unfold(_str(message.get("In-Reply-To")))),
        references=tuple(re.findall(r"<[^<>\s]+>", unfold(_str(message.get("References")))))[:100],
        html=html,
        links=links,
        attachments=_attachments(message, defects),
        headers=headers,
        defects=tuple(dict.fromkeys(defects)),
        raw=data,
        text_from_html=from_html,
    )


def _str(value: object) -> str:
    """A header's text. Raw 8-bit bytes in a header (UTF-8 as RFC 6532 allows, which phishing kits and many
    mailers write, or a Japanese mailer's Shift_JIS) are decoded; the email package would show U+FFFD."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        return "".join(_eight_bit(chunk) if isinstance(chunk, bytes) else chunk
                       for chunk, _ in email.header.decode_header(value))
    return str(value)


def _eight_bit(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_text(data, "shift_jis")[0]


def _without_nul_in_headers(data: bytes) -> tuple[bytes, list[str]]:
    """NUL bytes in the header block dropped (mail-parser and our checks stop at them), noted as a defect."""
    end = data.find(b"\n\n")
    end = data.find(b"\r\n\r\n") if end < 0 else end
    head = data[:end] if end >= 0 else data
    if b"\x00" not in head:
        return data, []
    return head.replace(b"\x00", b"") + data[len(head):], ["NUL bytes in the header block were dropped"]


def _read(data: bytes) -> tuple[email.message.Message, datetime | None, list[str]]:
    """The message, its date and the defects found: by mail-parser (what triage reads of it:
    triage.mailparser_read), or by the standard library when mail-parser cannot read it (it raises
    HeaderParseError, TypeError and other errors on some damaged mail)."""
    try:
        from triage import mailparser_read  # only a run that has mail to read pays for importing mail-parser

        message, date, defects = mailparser_read.read(data)
        return message, sane_date(date) or parse_date(_str(message.get("Date"))), defects
    except Exception as exc:  # anything mail-parser raises; the standard library reads it instead
        reason = f"mail-parser could not read it ({type(exc).__name__}: {str(exc)[:200]}); read with the email package"
        log.info("%s", reason)
    try:
        message = email.message_from_bytes(data)
    except Exception as exc:  # the standard library gave up as well: nothing can read this mail
        raise MalformedMail(f"neither mail-parser nor the email package could read it: {exc}") from exc
    defects = [reason] + [type(d).__name__ for part in _parts(message) for d in part.defects]
    return message, parse_date(_str(message.get("Date"))), defects


def _parts(message: email.message.Message) -> list[email.message.Message]:
    parts = []
    for part in message.walk():
        parts.append(part)
        if len(parts) >= MAX_PARTS:
            break
    return parts


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
        return unfold(_str(value)).strip()
    return decode_header(_str(value))


def _addresses(values: Sequence[object]) -> tuple[Address, ...]:
    out = []
    for name, addr in split_addresses([_str(v) for v in list(values)[:20]]):
        out.append(Address(name=decode_header(name), address=addr.strip().lower()))
    return tuple(a for a in out if a.address or a.name)


def _first(addresses: tuple[Address, ...]) -> Address:
    return addresses[0] if addresses else Address(name="", address="")


def _bodies(message: email.message.Message, defects: list[str]) -> tuple[str, str, tuple[str, ...], bool]:
    """(text, html, links, text made from the HTML): text/plain parts joined, or the HTML as text."""
    plain: list[str] = []
    html: list[str] = []
    for part in _parts(message):
        try:
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
            if len(payload) > MAX_TEXT_BYTES:
                defects.append(f"a text part of {len(payload)} bytes; the first {MAX_TEXT_BYTES} were read")
                payload = payload[:MAX_TEXT_BYTES]
            decoded, defect = decode_text(payload, _charset(part))
        except Exception as exc:  # one damaged part costs that part, never the mail
            defects.append(f"a {type(exc).__name__} in a MIME part; the part was left out")
            continue
        if defect:
            defects.append(defect)
        (plain if ctype == "text/plain" else html).append(decoded)
    html_text = "\n".join(html)
    text = "\n\n".join(p.strip("\r\n") for p in plain).replace("\r\n", "\n")
    links: list[str] = []
    from_html = False
    if html_text:
        converted, hrefs = html_to_text(html_text)
        links.extend(hrefs)
        if not text.strip():
            text, from_html = converted, True
    links.extend(urls_in_text(text))
    return text, html_text, tuple(dict.fromkeys(links)), from_html


def _charset(part: email.message.Message) -> str | None:
    try:
        return part.get_content_charset()
    except (LookupError, ValueError, TypeError):
        return "x-broken-label"


def _is_attachment(part: email.message.Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or (bool(part.get_filename()) and disposition != "inline")


def _attachments(message: email.message.Message, defects: list[str]) -> tuple[Attachment, ...]:
    found = []
    for part in _parts(message):
        try:
            if part.is_multipart():
                continue
            filename = part.get_filename()
            if not filename and not _is_attachment(part):
                continue
            payload = part.get_payload(decode=True)
        except Exception as exc:  # a broken filename or encoding costs that attachment's details only
            defects.append(f"a {type(exc).__name__} in an attachment's headers")
            filename, payload = "", None
        found.append(Attachment(
            filename=decode_header(filename) if filename else "",
            content_type=part.get_content_type(),
            size=len(payload) if isinstance(payload, bytes) else 0,
        ))
    return tuple(found)
