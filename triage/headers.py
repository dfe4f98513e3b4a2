"""Header values a hostile sender wrote: encoded words, dates and address lists, read with bounded effort.

Python's own helpers are not safe on such input: `email.header.decode_header` is quadratic in the number
of encoded words and raises on a broken one, `getaddresses` recurses once per nested comment, and a date
in the year 9999 overflows any conversion to Japan time. Everything here is total (never raises on what
a mail holds) and linear in a value that is first cut to `HEADER_LIMIT` characters.
"""

from __future__ import annotations

import binascii
import email.utils
import re
from datetime import UTC, datetime

from triage.charsets import decode_text

HEADER_LIMIT = 16 * 1024  # characters of one header value that are decoded; the rest is dropped
ADDRESS_LIMIT = 2 * 1024  # characters of one address header handed to getaddresses
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100  # a Date outside these years is shown as 日時不明

_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]*")
_QP_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def unfold(value: str | None) -> str:
    """A header value on one line, cut to HEADER_LIMIT characters."""
    if not value:
        return ""
    return _FOLD.sub(" ", str(value)[:HEADER_LIMIT])


def decode_header(raw: str | None) -> str:
    """A header value with RFC 2047 encoded words decoded (with the charset fixes), unfolded and cut."""
    return decode_header_checked(raw)[0]


def decode_header_checked(raw: str | None) -> tuple[str, tuple[str, ...]]:
    """(the decoded value, its defects): broken base64 or quoted-printable decodes as far as it can, and an
    unusable charset decodes as UTF-8 with replacements. Linear in the (cut) length."""
    value = unfold(raw)
    if "=?" not in value:
        return value.strip(), ()
    out: list[str] = []
    defects: list[str] = []
    run: bytearray = bytearray()  # bytes of adjacent encoded words in one charset, decoded together
    run_charset = ""
    pos = 0
    after_word = False

    def flush() -> None:
        nonlocal run_charset
        if run:
            text, defect = decode_text(bytes(run), run_charset)
            out.append(text)
            if defect:
                defects.append(defect)
            run.clear()
        run_charset = ""

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos:match.start()]
        if between and not (after_word and between.isspace()):  # white space between encoded words is dropped
            flush()
            out.append(between)
        charset, encoding, payload = match.group(1), match.group(2).upper(), match.group(3)
        data, defect = _decode_b(payload) if encoding == "B" else (_decode_q(payload), "")
        if defect:
            defects.append(defect)
        if run and charset.lower() != run_charset.lower():
            flush()
        run_charset = charset
        run += data
        pos = match.end()
        after_word = True
    flush()
    out.append(value[pos:])
    return "".join(out).strip(), tuple(dict.fromkeys(defects))


def _decode_b(payload: str) -> tuple[bytes, str]:
    """Base64 as far as it goes: stray characters are dropped and missing padding is added."""
    clean = _NOT_BASE64.sub("", payload.split("=", 1)[0])
    defect = "" if clean == payload.rstrip("=") else "broken base64 in an encoded word"
    if len(clean) % 4 == 1:
        clean, defect = clean[:-1], "broken base64 in an encoded word"
    try:
        return binascii.a2b_base64(clean + "=" * (-len(clean) % 4)), defect
    except (binascii.Error, ValueError):
        return b"", "broken base64 in an encoded word"


def _decode_q(payload: str) -> bytes:
    """RFC 2047 "Q": `_` is a space, `=XX` a byte; anything else, a broken `=` included, stands for itself."""
    data = payload.replace("_", " ").encode("utf-8", errors="replace")
    return _QP_BYTE.sub(lambda m: bytes((int(m.group(1), 16),)), data)


def sane_date(value: datetime | None) -> datetime | None:
    """`value` in UTC, or None when it is missing or outside EARLIEST_YEAR–LATEST_YEAR (shown as 日時不明)."""
    if value is None:
        return None
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment if EARLIEST_YEAR <= moment.year <= LATEST_YEAR else None


def parse_date(raw: str | None) -> datetime | None:
    """A Date header as a sane UTC datetime, or None."""
    if not raw:
        return None
    try:
        return sane_date(email.utils.parsedate_to_datetime(unfold(raw)))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


_FEW_COMMENTS = 8
_ADDR_SPEC = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>|(?<![^\s<>(),;:\"])([^\s<>(),;:\"]+@[^\s<>(),;:\"]+)")


def split_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, addr-spec) pairs, with bounded effort: comments are removed by a linear scan before
    `getaddresses` sees the value (it recurses once per nested comment), and a value it still cannot read
    yields the addr-specs a pattern finds."""
    out: list[tuple[str, str]] = []
    for value in values:
        text = _without_comments(unfold(str(value)))[:ADDRESS_LIMIT]
        try:
            pairs = email.utils.getaddresses([text])
        except (RecursionError, ValueError, IndexError, TypeError):
            pairs = [("", m.group(1) or m.group(2)) for m in _ADDR_SPEC.finditer(text)]
        out.extend(pairs)
    return out


def _without_comments(value: str) -> str:
    """`value` with its (nested) parenthesised comments dropped; quoted strings are kept as they are."""
    if value.count("(") <= _FEW_COMMENTS:  # the common "addr (Name)" form: getaddresses reads it well
        return value
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for ch in value:
        if escaped:
            escaped = False
            if not depth:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if not depth:
                out.append(ch)
            continue
        if quoted:
            quoted = ch != '"'
            out.append(ch)
        elif ch == '"' and not depth:
            quoted = True
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if not depth:
                out.append(" ")
        elif not depth:
            out.append(ch)
    return "".join(out)
