"""Only what the reader needs: a mail's text without what it repeats or what nobody reads.

Cut, in this order: quoted history (the "On … wrote:" line, an Outlook header block, "Original Message",
and every "> " line), the greeting line near the top, the sign-off and everything after it (signature,
footers), and then whole paragraphs that are legal footers, unsubscribe blocks, support-case
boilerplate, separators or nothing but a pleasantry.
What is left is split into paragraphs of blocks: a block is one line as the reader should see it (a wrapped
sentence joined back, a list item, a "Name: value" line), and one unit of translation.

This module knows mail conventions and AWS's boilerplate; it never sees identifiers differently from other
text and never drops a paragraph that says what happened or what to do.
"""

from __future__ import annotations

import re

_QUOTE_HEADER = re.compile(
    r"^(?:-{2,}\s*Original Message\s*-{2,}"
    r"|_{10,}"
    r"|\d{4}年\d{1,2}月\d{1,2}日.*(?:書きました|wrote)\s*[:：]?"
    r")\s*$",
    re.I,
)
_ON_WROTE_START = re.compile(r"^On\s+\S", re.I)
_WROTE_END = re.compile(r"wrote:\s*$", re.I)
_OUTLOOK_FROM = re.compile(r"^\*?From:\*?\s+\S")
_OUTLOOK_NEXT = re.compile(r"^\*?(?:Sent|Date|To|Subject):\*?\s", re.I)

_GREETING = re.compile(
    r"^(?:dear|hello|hi|hey|greetings|good (?:morning|afternoon|evening))\b(?:\s+[^\s,.!?]+){0,4}\s*[,!:.]?\s*$",
    re.I,
)
_SIGN_OFF = re.compile(
    r"^(?:--|(?:sincerely|best regards|kind regards|warm regards|warmest regards|regards|best wishes|best"
    r"|thanks|thank you|many thanks|thanks again|cheers|respectfully|yours (?:truly|sincerely)"
    r"|with (?:best|kind) regards)[,.!]*)\s*$",
    re.I,
)
_BOILERPLATE = re.compile(
    "|".join((
        # unsubscribe blocks
        r"unsubscrib", r"opt[- ]?out", r"(?:e-?mail|notification|communication|subscription) preferences",
        r"manage (?:your )?(?:subscriptions?|preferences|notifications)", r"to stop receiving",
        r"you (?:are receiving|received|have received) this (?:e-?mail|message|notification)",
        r"this (?:e-?mail|message|notification) was sent to",
        # legal footers
        r"amazon web services,? inc\.? is (?:a subsidiary|an affiliate) of amazon",
        r"registered trademark of amazon", r"410 terry avenue", r"all rights reserved", r"©", r"\(c\) \d{4}",
        r"produced and distributed by amazon web services", r"privacy (?:notice|policy)",
        r"(?:may contain|is) confidential", r"intended (?:only )?for the (?:named )?(?:recipient|addressee)",
        # support-case and no-reply boilerplate
        r"aws will not be able to see", r"cannot accept incoming e-?mail", r"do not reply (?:to|directly)",
        r"please do not reply", r"we value your feedback", r"rating this and other correspondences",
        r"to contact us again about this case", r"if you are connecting by federation",
        r"to update an existing case", r"please use the link above",
    )),
    re.I,
)
# A paragraph that is nothing but a pleasantry ("Thank you for using Amazon Web Services.").
_COURTESY = re.compile(
    r"^(?:(?:thank you|thanks)(?: again| very much| so much)?(?: for (?:using|choosing) (?:amazon web services|aws)"
    r"| for your (?:business|patience|understanding|cooperation|reply|response|prompt attention|time))?"
    r"|we appreciate your business)[.!]?$",
    re.I,
)
_SEPARATOR = re.compile(r"^[\s=\-_*~#+.]*$")
# Lines that start a block of their own: list items, and "Label: value" lines (Region: …, Step 2: …).
_OWN_LINE = re.compile(r"^\s*(?:(?:\d{1,2}[.)]|[-*•・]|\([a-z0-9]\))\s+\S|[A-Z][A-Za-z0-9 ()/-]{0,30}:\s+\S)")
_LOWER = re.compile(r"[a-z]")
# A line at least this long that runs into the next one was wrapped by the sender's mail program.
_WRAPPED_AT = 50


def strip(text: str, *, from_html: bool = False) -> list[list[str]]:
    """Paragraphs of blocks: what is worth translating in `text`, in order.

    `from_html`: the text was made from HTML, whose line breaks inside a paragraph mean nothing.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _cut_quoted_history(lines)
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    lines = _cut_greeting(lines)
    lines = _cut_sign_off(lines)
    paragraphs: list[list[str]] = []
    for paragraph in _paragraphs(lines):
        joined = " ".join(line.strip() for line in paragraph)
        if _SEPARATOR.match(joined) or _BOILERPLATE.search(joined) or _COURTESY.match(joined):
            continue
        paragraphs.append(_blocks(paragraph, from_html=from_html))
    return paragraphs


def _cut_quoted_history(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        s = line.strip()
        if _QUOTE_HEADER.match(s):
            return lines[:i]
        if _ON_WROTE_START.match(s) and (
            _WROTE_END.search(s) or (i + 1 < len(lines) and _WROTE_END.search(lines[i + 1]))
        ):
            return lines[:i]
        if _OUTLOOK_FROM.match(s) and any(_OUTLOOK_NEXT.match(n.strip()) for n in lines[i + 1:i + 4]):
            return lines[:i]
    return lines


def _cut_greeting(lines: list[str]) -> list[str]:
    """Drop the salutation ("Dear AWS Customer,"): a greeting line opening a paragraph near the top."""
    for i, line in enumerate(lines[:12]):
        if (i == 0 or not lines[i - 1].strip()) and _GREETING.match(line.strip()):
            return lines[:i] + lines[i + 1:]
    return lines


def _cut_sign_off(lines: list[str]) -> list[str]:
    seen_content = False
    for i, line in enumerate(lines):
        s = line.strip()
        if seen_content and (_SIGN_OFF.match(s) or line.rstrip("\n") == "-- "):
            return lines[:i]
        seen_content = seen_content or bool(s)
    return lines


def _paragraphs(lines: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _blocks(paragraph: list[str], *, from_html: bool) -> list[str]:
    """Lines of a paragraph as the reader should see them: wrapped lines joined, list items and labels apart."""
    blocks: list[str] = []
    for i, line in enumerate(paragraph):
        s = " ".join(line.split())
        if blocks and _continues(paragraph[i - 1], line, from_html=from_html):
            blocks[-1] = f"{blocks[-1]} {s}"
        else:
            blocks.append(s)
    return blocks


def _continues(previous: str, line: str, *, from_html: bool) -> bool:
    """True when `line` carries on the sentence of `previous`, cut only by wrapping.

    Plain text: the previous line is long (a mail program wrapped it) and does not end a label. Lines
    without lowercase letters (log extracts, ids, amounts) are data and stay apart.
    """
    if _OWN_LINE.match(line) or previous.rstrip().endswith(":"):
        return False
    if from_html:
        return True
    return len(previous.rstrip()) >= _WRAPPED_AT and bool(_LOWER.search(previous)) and bool(_LOWER.search(line))
