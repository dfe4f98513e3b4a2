"""Identifiers out before DeepL, back in after.

Account ids, access key ids, ARNs, resource ids, region codes, IP addresses, URLs, e-mail addresses, host
names and long numbers (case numbers, phone numbers) are replaced by XML placeholders `<x id="N"/>`; the
rest of the text is XML-escaped, because DeepL parses it with tag_handling="xml". Placeholders are numbered
by position, so two mails built from the same template with different ids redact to the same text (and
share one cache entry).

A translation is restored only if every placeholder comes back exactly once and nothing else tag-like
appears; otherwise `restore` returns None and the caller shows the original. This module must never let an
identifier through: when in doubt, a pattern is broader.
"""

from __future__ import annotations

import html
import ipaddress
import re
from dataclasses import dataclass

# Order matters: at one position the first alternative wins, so containers (URL, e-mail, ARN) come before
# what they contain.
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("url", r"\b(?:https?|ftp)://[^\s<>\"'`]+|\bwww\.[^\s<>\"'`]+"),
    ("email", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ("arn", r"\barn:aws[a-z-]*:[^\s<>\"'`]+"),
    # An access key id of any length, whole, truncated or masked: AKIA…, AKIA2N7XQ4LR9B..., AKIA****WXYZ.
    # The canonical 16 characters after the prefix may all be letters; a shorter or masked one needs a digit
    # or a mask, so that ASIAN stays a word.
    ("access_key", r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|AGPA|ABIA|ACCA)"
                   r"(?:[A-Z0-9]{16}(?![A-Za-z0-9])|(?=[A-Z]*(?:[0-9*•●×#…]|\.\.))(?:[A-Z0-9*•●×#]|\.{2,}|…)+)"
                   r"(?![a-z])"
                   # written in groups (AKIA-Q3EX-AMPL-E7QX) or in lower case (akiaq3example7qxplw2), with a digit
                   r"|(?<![A-Za-z0-9-])(?:AKIA|ASIA)(?=[A-Z0-9 -]{0,20}[0-9])(?:[- ][A-Z0-9]{4}){3,4}(?![A-Za-z0-9])"
                   r"|(?<![A-Za-z0-9])(?i:akia|asia)(?=[a-z0-9]{0,15}[0-9])[a-z0-9]{16}(?![A-Za-z0-9])"),
    # Anything masked: a run of three or more mask characters glued to letters or digits (wJalr*****,
    # ****4913, k.****@example.net). What it hides is an identifier, and what it shows is part of one.
    ("masked", r"(?<![A-Za-z0-9/+=._*•●-])(?=[A-Za-z0-9/+=._*•●-]*[A-Za-z0-9])(?=[A-Za-z0-9/+=._-]*[*•●]{3})"
               r"[A-Za-z0-9/+=._-]*[*•●]{3,}[A-Za-z0-9/+=._*•●-]*(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?"),
    # A secret access key or a session token, of any length from 16: mixed case and a digit, nothing around
    # it of the same alphabet (the 40-character secret, a truncated one, IQoJb3JpZ2lu… tokens).
    ("secret", r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]*[0-9])(?=[A-Za-z0-9/+=]*[a-z])"
               r"(?=[A-Za-z0-9/+=]*[A-Z])[A-Za-z0-9/+=]{16,}(?![A-Za-z0-9/+=])"),
    ("resource", r"\b(?:i|vol|snap|ami|sg|sgr|subnet|vpc|eni|eipalloc|eipassoc|igw|eigw|rtb|acl|nat|lt|r|key"
                 r"|pcx|tgw|tgw-attach|vpce|fs|dopt|cgw|vgw|vpn|sir|fleet|sfr|ipam|aclassoc|db|cluster|d)"
                 r"-(?:[0-9a-f]{8,}|(?=[0-9a-f]{0,7}\d)[0-9a-f]{4,7})\b"),
    ("ipv4", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
             r"(?:/\d{1,2})?(?!\d|\.\d)"),
    ("ipv6", r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:/\d{1,3})?(?![\w:])"),
    # An IAM user or role name right after the words: only names shaped like ids (deploy-bot, taro.yamada,
    # ci_runner2), since a plain word there is usually English ("the IAM user to …").
    ("iam_name", r"(?<=IAM user )(?=[A-Za-z0-9+=,.@_-]*[-_.@0-9][A-Za-z0-9+=,.@_-]*[A-Za-z0-9])"
                 r"[A-Za-z0-9+=,.@_-]+[A-Za-z0-9]|(?<=IAM role )(?=[A-Za-z0-9+=,.@_-]*[-_.@0-9])"
                 r"[A-Za-z0-9+=,.@_-]+[A-Za-z0-9]"),
    ("region", r"\b[a-z]{2}(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|northwest|southeast"
               r"|southwest)-\d{1,2}[a-z]?\b"),
    ("uuid", r"(?i:\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)"),
    # Finding, detector and event ids: long hex with both digits and letters.
    ("hex", r"(?<![0-9a-f])\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b"),
    # A code to type somewhere (a device code WDKX-QHPL): upper case letters or digits, 4-4.
    ("code", r"(?<![A-Za-z0-9-])(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{4}-[A-Z0-9]{4}(?![A-Za-z0-9-])"),
    # Digits glued to letters ("ID:123456789012", "Acct123456789012") count too.
    # Also as a person copies it from the console in groups: 1234-5678-9012, 1234 5678 9012.
    ("account", r"(?<![\d-])(?:\d{4}-\d{4}-\d{4}|\d{4} \d{4} \d{4}|\d{12})(?![\d-])"),
    ("number", r"(?<![\d.,])\d{8,}(?!\d)"),
    # A host name, with a path when a URL was written without its scheme (console.aws.amazon.com/…).
    ("host", r"(?i:\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,126}(?:com|net|org|info|biz|io|jp|co|aws|dev|app"
             r"|cloud|xyz|me|us|uk|de|fr|cn|ru|br|in|kr|tw|hk|sg|au|ca|eu|nl|top|site|online|example|invalid|test"
             r"|local|internal)\b(?::\d{1,5})?(?:/[^\s<>\"'`]*)?)"),
)
_IDENTIFIER = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS))
_TRAILING = ".,;:!?)]}'\""
_PLACEHOLDER = re.compile(r'<x\s+id="(\d+)"\s*/>|<x\s+id="(\d+)"\s*>\s*</x>')
_ANY_TAG = re.compile(r"<[^>]*>")


# What a link becomes in text shown to the reader: DESIGN.md's safety rule says no link is copied from a mail.
LINK_MARKER = "[URL]"


@dataclass(frozen=True)
class Redacted:
    """A text as DeepL may see it, and the identifiers its placeholders stand for (placeholder N = item N-1)."""

    xml: str
    originals: tuple[str, ...]
    kinds: tuple[str, ...] = ()  # the pattern name of each original: url, email, account, …

    @property
    def shown(self) -> tuple[str, ...]:
        """The originals as the reader may see them: every link replaced by LINK_MARKER."""
        return tuple(LINK_MARKER if _is_link(o, k) else o for o, k in zip(self.originals, self.kinds, strict=True))

    @property
    def has_words(self) -> bool:
        """True when there is prose to translate, not only placeholders, numbers and codes.

        Prose has a lowercase word, or at least three capitalised ones ("PLEASE RESPOND NOW"); a log line
        such as "2026-11-14T09:51:07Z <x id="1"/>:22 TCP SYN" has neither and is shown as it is.
        """
        rest = html.unescape(_PLACEHOLDER.sub(" ", self.xml))
        return bool(re.search(r"[a-z]{2,}", rest)) or len(re.findall(r"\b[A-Za-z]{3,}\b", rest)) >= 3


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def redact(text: str) -> Redacted:
    originals: list[str] = []
    kinds: list[str] = []
    out: list[str] = []
    pos = 0
    for match in _IDENTIFIER.finditer(text):
        found = match.group(0)
        if match.lastgroup == "ipv6" and not _is_ipv6(found):
            continue
        if match.lastgroup in ("url", "host", "arn"):
            stripped = found.rstrip(_TRAILING)
            found = stripped or found
        out.append(escape(text[pos:match.start()]))
        originals.append(found)
        kinds.append(match.lastgroup or "")
        out.append(f'<x id="{len(originals)}"/>')
        pos = match.start() + len(found)
    out.append(escape(text[pos:]))
    return Redacted("".join(out), tuple(originals), tuple(kinds))


def restore(translated: str, originals: tuple[str, ...]) -> str | None:
    """The translation with its identifiers back, or None if a placeholder was lost, doubled or invented."""
    ids = [int(m.group(1) or m.group(2)) for m in _PLACEHOLDER.finditer(translated)]
    if sorted(ids) != list(range(1, len(originals) + 1)):
        return None
    parts = _PLACEHOLDER.split(translated)
    # split() yields text, id-group-1, id-group-2, text, …
    out: list[str] = []
    for index in range(0, len(parts), 3):
        chunk = parts[index]
        if _ANY_TAG.search(chunk):
            return None  # a tag we did not send: the text cannot be trusted to be whole
        out.append(html.unescape(chunk))
        if index + 2 < len(parts):
            number = parts[index + 1] or parts[index + 2]
            out.append(originals[int(number) - 1])
    return "".join(out)


def _is_link(original: str, kind: str) -> bool:
    return kind == "url" or (kind == "host" and "/" in original)


def _is_ipv6(candidate: str) -> bool:
    address = candidate.split("/", 1)[0]
    if address.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True
