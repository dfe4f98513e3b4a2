"""What triage reads of mail-parser, and only that: the message tree, the date and the defects.

`mailparser.parse_from_bytes` builds the standard library's message and then does much more than triage
reads: it decodes every header twice into two dicts, decodes every text part, re-encodes every attachment
as base64 and splits the Received chain into records. Triage reads three things of it (the message, the
first Date header's value, the defects), so this module asks mail-parser's own pieces for exactly those,
in the order `MailParser.parse` asks them: its address parser (address defects; it also raises on the
damaged encoded words that make `parse_from_bytes` raise), its Received parser (defects of the Received
chain and of its timestamps), its date parser, its MIME header view, and the defects the standard
library's parser found in each part, with the charset check mail-parser makes on each body part.

tests/test_mailparser_read.py holds this to `parse_from_bytes` on every test, corpus and hostile mail, so
a mail-parser release that changes its defects shows up there, not in a user's log.
"""

from __future__ import annotations

import contextlib
import email
import email.message
from datetime import datetime
from typing import Any

from mailparser.const import ADDRESSES_HEADERS, EPILOGUE_DEFECTS
from mailparser.dates import date_diagnostics, parse_mail_date
from mailparser.exceptions import MailParserRecursionError
from mailparser.utils import (
    decode_header_part,
    find_between,
    get_addresses,
    mime_header_view,
    ported_string,
    receiveds_parsing,
)


def read(data: bytes) -> tuple[email.message.Message, datetime | None, list[str]]:
    """The message, the value of its first Date header and mail-parser's defects, as
    `mailparser.parse_from_bytes(data)` gives them (`.message`, `.date`, `.defects` flattened). Raises
    what `parse_from_bytes` raises on the mail it cannot read."""
    try:
        message = email.message_from_bytes(data)
        date, defects = _header_defects(message)
        return message, date, defects + _part_defects(message)
    except RecursionError as exc:  # as mail-parser reports a too deeply nested multipart
        raise MailParserRecursionError("Message nesting too deep to parse") from exc


def _header_defects(message: email.message.Message) -> tuple[datetime | None, list[str]]:
    """The date, and the address, Received and Date header defects (in mail-parser's order)."""
    defects: list[str] = []
    index: dict[str, list[Any]] = {}
    for name, value in message.items():
        index.setdefault(name.lower(), []).append(value)
    for header in sorted(ADDRESSES_HEADERS):
        for occurrence, value in enumerate(index.get(header, [])):
            found: list[dict[str, Any]] = []
            get_addresses(value, defects=found, decode_names=True)
            defects.extend(f"AddressHeaderDefect: {header}[{occurrence}]: {d['reason']}" for d in found)
    date: datetime | None = None
    date_defects: list[dict[str, Any]] = []
    occurrences: dict[str, int] = {}
    for name, raw in message.raw_items():
        header = name.lower()
        if header not in ("date", "resent-date"):
            continue
        occurrence = occurrences.get(header, 0)
        occurrences[header] = occurrence + 1
        result = parse_mail_date(raw)
        if header == "date" and occurrence == 0:
            date = result.value
        date_defects.extend(date_diagnostics(result, raw, header, occurrence))
    received: list[dict[str, Any]] = []
    receiveds_parsing([value for name, value in message.raw_items() if name.lower() == "received"],
                      defects=received, date_defects=date_defects)
    defects.extend(f"ReceivedHeaderDefect: received[{d['occurrence']}]: {d['reason']}" for d in received)
    defects.extend(f"DateHeaderDefect: {d['header']}[{d['occurrence']}]: {d['reason']}" for d in date_defects)
    return date, defects


def _part_defects(message: email.message.Message) -> list[str]:
    """The parts' defects: what the parser found in each, their MIME headers, and a body part whose
    declared charset cannot decode it. Attachments are not decoded (triage reads them itself)."""
    defects: list[str] = []
    categories: set[str] = set()
    parts: list[tuple[email.message.Message, bool]] = []
    in_attachment: set[int] = set()
    for part in message.walk():
        for e in part.defects:
            categories.add(type(e).__name__)
            defects.append(f"{type(e).__name__}: {e.__doc__}")
        inside = id(part) in in_attachment
        parts.append((part, inside))
        if part.is_multipart():
            disposition = part.get_content_disposition()
            if inside or disposition not in (None, "inline") or (disposition != "inline" and bool(part.get_filename())):
                in_attachment.update(id(p) for p in part.get_payload())
    if categories & EPILOGUE_DEFECTS:
        boundary = message.get_boundary()
        if boundary is None:  # mail-parser adds "--" to it and fails: the caller reads the mail without it
            raise TypeError('can only concatenate str (not "NoneType") to str')
        epilogue = find_between(message.epilogue, "--" + boundary, "--" + boundary + "--")
        if epilogue is not None:
            with contextlib.suppress(Exception):  # as mail-parser: an epilogue that is no message is left out
                parts.append((email.message_from_string(epilogue), True))
    for i, (part, inside) in enumerate(parts):
        metadata, header_defects = mime_header_view(part)
        filename = decode_header_part(metadata.get_filename(), defects=header_defects)
        defects.extend(f"MimeHeaderDefect: part {i}, {detail}" for detail in header_defects)
        disposition = ported_string(metadata.get_content_disposition()).lower()
        if part.is_multipart() and disposition != "attachment":
            continue
        subtype = ported_string(metadata.get_content_subtype())
        content_id = bool(ported_string(metadata.get("content-id")))
        attachment = bool(filename) or (content_id and subtype not in ("html", "plain")) \
            or subtype in "rtf" or disposition == "attachment"  # mail-parser's `in ("rtf")`: a substring test
        inline_body = not inside and not part.is_multipart() and disposition == "inline" \
            and part.get_content_type() in ("text/plain", "text/html")
        if not attachment or inline_body:
            defects.extend(_charset_defect(part, metadata.get_content_charset("utf-8"), i))
    return defects


def _charset_defect(part: email.message.Message, charset: str, index: int) -> list[str]:
    """mail-parser's check of a body part: its bytes do not decode with the charset it declares."""
    payload = part.get_payload(decode=True)
    encoding = ported_string(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if not encoding or encoding in ("7bit", "8bit"):
        raw = vars(part).get("_payload")  # what mail-parser reads: the payload as the parser stored it
        if isinstance(raw, str):
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError:
                pass
            else:
                return []
    if not isinstance(payload, bytes) or not payload:  # always bytes: a part that is not multipart
        return []
    try:
        payload.decode(charset).encode("utf-8")
    except (LookupError, UnicodeError):
        try:
            payload.decode("utf-8")
            recovery = "decoded with utf-8"
        except UnicodeDecodeError:
            recovery = "decoded with utf-8 replacement characters"
        return [f"CharsetDecodeDefect: part {index}, charset {charset!r} failed; {recovery}. "
                "Original bytes remain in the MIME part."]
    return []
