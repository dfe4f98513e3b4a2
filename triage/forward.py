"""Forwarded mail: the originals inside a forward, how they were found, and whether the forward counts.

A worried owner forwards a strange mail to the watched mailbox and asks: is this real, what do I do? The
forward carries the original either as an attachment (`message/rfc822`, or an `.eml` file: the original
with its own headers and bytes) or inline, below the block a mail client writes ("---------- Forwarded
message ---------", Outlook's "From: / Sent:", 差出人/送信日時 …; the blocks are data, rules/forwards.toml).

A forward counts only from an allowed forwarder ([notify] forwarders) whose own mail authenticates for its
domain; anyone else's mail is left as the mail it is. The originals are then handled as if they had
arrived alone, never better: an attached original is authenticated over its own bytes as usual, and an
inline original has no headers to verify at all, so its verdict is "none" and the summary says so.

Pure: no network and no state. Authentication of the forward itself comes in as a function. The forward's
headers never pass into an inline original (its Authentication-Results speak for the forwarder, not for the
original sender), and nothing of the forward but its validated Message-ID is ever used in a header.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import hashlib
import logging
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from email.generator import BytesGenerator
from io import BytesIO
from pathlib import Path

from triage.authenticate import Authenticity, trusted_results
from triage.errors import RulesError
from triage.forwarders import is_forwarder
from triage.headers import decode_header
from triage.mail import Address, Mail, RawMail
from triage.parse import MalformedMail, parse_mail

log = logging.getLogger(__name__)

_FIELDS = ("from", "date", "subject", "to")
_MAX_DEPTH = 5  # a forward of a forward of …: followed this deep, no deeper
# RFC 5322 msg-id, dot-atom form only, and of a sane length: the one mail-derived value we put in a header.
_MESSAGE_ID = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}>")

# Whether a mail may carry another as an attachment: checked before parsing its MIME a second time.
_MAY_CARRY_MAIL = re.compile(rb"message/rfc822|\.eml\b|application/octet-stream", re.I)
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                            r"@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


@dataclass(frozen=True)
class BlockFormat:
    client: str  # "gmail", "outlook-ja", …
    marker: re.Pattern[str]
    headers_at_marker: bool = False  # the marker is the first header line itself


@dataclass(frozen=True)
class ForwardFormats:
    """The inline blocks mail clients write, from rules/forwards.toml."""

    blocks: tuple[BlockFormat, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()  # (label in lower case, field: from | date | subject | to)

    def field_of(self, label: str) -> str:
        wanted = label.strip().lower()
        return next((f for name, f in self.labels if name == wanted), "")


@dataclass(frozen=True)
class Forward:
    """How an original reached us: who forwarded it, in which mail, and how it was carried."""

    forwarder: Address
    message_id: str  # the forward's Message-ID, validated; "" when it has none we could use
    key: str  # the forward's own identity ("seen before")
    content_hash: str  # of the forward's bytes
    how: str  # attachment | inline
    client: str  # message/rfc822 or .eml for attachments; the client whose block it was for inline

    @property
    def verifiable(self) -> bool:
        return self.how == "attachment"


@dataclass(frozen=True)
class Unwrapped:
    """What the pipeline handles for one mail: the mail itself (forward None), or the originals it forwards."""

    mails: tuple[tuple[Mail, Forward | None], ...]
    refused: str = ""  # why a mail that forwards others was not unwrapped; "" otherwise
    checked: Authenticity | None = None  # the refused mail's own verdict, already judged

    def authenticity(self, original: Mail, forward: Forward | None, authenticate: Authenticate) -> Authenticity:
        """As alone: an attached original over its own bytes; an inline one cannot be verified at all."""
        if forward is None and self.checked is not None:
            return self.checked
        if forward is None or forward.verifiable:
            return authenticate(original)
        return Authenticity("none", (f"forwarded inline ({forward.client} block) by {forward.forwarder.address}: "
                                     "the original's headers and signature are not there, so it cannot be "
                                     "verified",), original.sender.domain)


Authenticate = Callable[[Mail], Authenticity]


def load_formats(rules_dir: Path) -> ForwardFormats:
    path = rules_dir / "forwards.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        blocks = tuple(
            BlockFormat(str(b["client"]), re.compile(rf"^[ \t]*(?:{b['marker']})[ \t]*$", re.M),
                        bool(b.get("headers_at_marker", False)))
            for b in data["block"]
        )
        labels = tuple((str(label).lower(), name) for name in _FIELDS for label in data["fields"][name])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError, re.error) as exc:
        raise RulesError(f"{path} must hold [[block]] entries (client, marker) and [fields] "
                         f"from/date/subject/to: {exc}") from None
    return ForwardFormats(blocks, labels)


# --- who may forward ----------------------------------------------------------------------------


def refusal(mail: Mail, auth: Authenticity, forwarders: tuple[str, ...]) -> str:
    """Why `mail`'s forwards do not count; "" when they do."""
    who = mail.sender.address or "an unknown sender"
    if not is_forwarder(mail.sender.address, forwarders):
        return f"forward from {who} ignored: not an allowed forwarder ([notify] forwarders)"
    if not _PLAIN_ADDRESS.fullmatch(mail.sender.address):  # the reply goes to it: nothing odd in our To header
        return f"forward from {who!r} ignored: not a plain address to reply to"
    if auth.verdict != "pass" or auth.from_domain != mail.sender.domain:
        return (f"forward from {who} ignored: the forwarding mail does not authenticate for "
                f"{mail.sender.domain or '?'} (verdict {auth.verdict})")
    return ""


# --- unwrapping -----------------------------------------------------------------------------------


def unwrap(mail: Mail, formats: ForwardFormats, forwarders: tuple[str, ...], authenticate: Authenticate, *,
           trusted: tuple[str, ...], inside_hosts: tuple[str, ...] = (), max_bytes: int | None = None) -> Unwrapped:
    """The originals `mail` forwards, when it is an allowed, authenticated forward; else `mail` itself.
    `trusted`: the authserv-ids whose Authentication-Results are believed ([mail] trusted_authserv_ids);
    `inside_hosts`: their providers' other domains (`authenticate.provider_hosts`)."""
    found = [(_as_received(original, trusted, inside_hosts) if how == "attachment" else original, how, client)
             for original, how, client in find_originals(mail, formats, max_bytes=max_bytes)]
    if not found:
        return Unwrapped(((mail, None),))
    auth = authenticate(mail)
    why = refusal(mail, auth, forwarders)
    if why:
        log.info("%s (%s, %s)", why, mail.origin, mail.message_id or "no Message-ID")
        return Unwrapped(((mail, None),), refused=why, checked=auth)
    forwarder = Address(mail.sender.name, mail.sender.address)
    message_id = mail.message_id if _MESSAGE_ID.fullmatch(mail.message_id) else ""
    return Unwrapped(tuple((original, Forward(forwarder, message_id, mail.key, mail.content_hash, how, client))
                           for original, how, client in found))


def _as_received(original: Mail, trusted: tuple[str, ...], inside_hosts: tuple[str, ...] = ()) -> Mail:
    """An attached original came through someone else's mailbox. Its Authentication-Results are believed
    only when the topmost one is from a trusted authserv-id (the server that received it, which removes
    forged copies of its own); below an untrusted one, a forged "trusted" header could vouch for a phish.
    `trusted_results` adds the rule for every mail: not when a server outside that organisation received the
    mail after the header was written."""
    names = ("authentication-results", "arc-authentication-results")
    top = next((i for i, (k, _) in enumerate(original.headers) if k.lower() in names), None)
    if top is None:
        return original
    notes: list[str] = []
    above = replace(original, headers=original.headers[: top + 1])  # the topmost header and what is above it
    if trusted_results(above, trusted, notes, inside_hosts) is not None:
        return original
    log.info("%s: the attached original's Authentication-Results are not believed: %s", original.origin,
             notes[-1] if notes else "none from a trusted authserv-id")
    return replace(original, headers=tuple((k, v) for k, v in original.headers if k.lower() not in names))


def find_originals(mail: Mail, formats: ForwardFormats, *,
                   max_bytes: int | None = None) -> list[tuple[Mail, str, str]]:
    """(original, how, client) for every mail `mail` carries: its attachments first, else its inline block."""
    attached = list(_attached(mail, max_bytes)) if _MAY_CARRY_MAIL.search(mail.raw) else []
    if attached:
        return attached
    inline = _inline(mail, formats, mail.text, depth=0)
    return [inline] if inline else []


def _attached(mail: Mail, max_bytes: int | None) -> Iterator[tuple[Mail, str, str]]:
    if not mail.raw:
        return
    message = email.message_from_bytes(mail.raw, policy=email.policy.compat32)
    for part, client in _carried(message):
        data = _part_bytes(part, client)
        if not data:
            continue
        try:
            yield parse_mail(RawMail(data, mail.origin), max_bytes=max_bytes), "attachment", client
        except MalformedMail as exc:
            log.warning("%s: an attachment of the forward %s is not a readable mail: %s",
                        mail.origin, mail.message_id or "without Message-ID", exc)


def _carried(message: email.message.Message) -> Iterator[tuple[email.message.Message, str]]:
    """The forwarded-mail parts of `message`, not looking inside them (an original's own attachments are its)."""
    if message.get_content_type() == "message/rfc822":
        yield message, "message/rfc822"
        return
    filename = decode_header(message.get_filename() or "").strip().lower()
    if filename.endswith(".eml") and not message.is_multipart():
        yield message, ".eml"
        return
    if message.is_multipart():
        for sub in message.get_payload():
            if isinstance(sub, email.message.Message):
                yield from _carried(sub)


def _part_bytes(part: email.message.Message, client: str) -> bytes:
    """The original's bytes: decoded from an .eml file, or re-generated unchanged from an rfc822 part."""
    if client == ".eml":
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""
    inner = part.get_payload()
    if not isinstance(inner, list) or not inner or not isinstance(inner[0], email.message.Message):
        return b""
    out = BytesIO()
    # compat32 and no re-folding: the header and body lines come back as they were, so DKIM still verifies.
    BytesGenerator(out, mangle_from_=False, maxheaderlen=0, policy=email.policy.compat32).flatten(inner[0])
    return out.getvalue()


# --- inline blocks --------------------------------------------------------------------------------


def _inline(forward: Mail, formats: ForwardFormats, text: str, depth: int) -> tuple[Mail, str, str] | None:
    """The original below the first client block in `text`; a forward inside it is followed to the innermost."""
    hits = []
    for block in formats.blocks:
        m = block.marker.search(text)
        if m:
            hits.append((m.start(), block, m))
    if not hits:
        return None
    _, block, m = min(hits, key=lambda h: h[0])
    start = m.start() if block.headers_at_marker else m.end()
    fields, body = _read_block(text[start:], formats)
    sender = _sender(fields.get("from", ""))
    if not sender.address:
        return None
    if depth < _MAX_DEPTH:
        deeper = _inline(forward, formats, body, depth + 1)
        if deeper:
            return deeper
    date = _block_date(fields.get("date", ""), _zone_of(forward))
    subject = " ".join(fields.get("subject", "").split())
    identity = "\n".join((sender.address, subject, date.isoformat() if date else "", " ".join(body.split())))
    original = replace(
        forward,
        message_id="",
        content_hash=hashlib.sha256(identity.encode("utf-8")).hexdigest(),
        sender=sender,
        subject=subject,
        date=date,
        text=body,
        to=(),
        reply_to=(),
        in_reply_to="",
        references=(),
        headers=(),  # the forward's headers speak for the forwarder, never for the original
        raw=b"",
    )
    return original, "inline", block.client


_LABEL_LINE = re.compile(r"^[ \t>*]*([^\s:：][^:：\n]{0,30}?)[ \t]*[:：][ \t]*(.*)$")


def _read_block(text: str, formats: ForwardFormats) -> tuple[dict[str, str], str]:
    """The block's header fields, and the original's body after them. Blank lines may stand between the
    header lines (HTML turned into text) until From and Subject are both read."""
    lines = text.split("\n")
    fields: dict[str, str] = {}
    last = ""
    i = 0
    for i, raw in enumerate(lines):  # after the loop, `i` is where the body starts
        line = raw.strip()
        if not line:
            if fields.keys() >= {"from", "subject"} and not _field_follows(lines[i + 1:], fields, formats):
                break
            last = ""
            continue
        m = _LABEL_LINE.match(line)
        name = formats.field_of(m.group(1)) if m else ""
        if m and name and (name not in fields or name == "to"):  # To, Cc, Reply-To: all "to", all skipped over
            fields.setdefault(name, m.group(2).strip())
            last = name
        elif not (last == "to" and not name and _ADDRESS_CONTINUES.search(line)):
            break  # a long To line wrapped by Outlook continues (addresses); anything else ends the block
    else:
        i = len(lines)
    return fields, _unquoted("\n".join(lines[i:]).strip("\n"))


_ADDRESS_CONTINUES = re.compile(r"@|^<|[;,]\s*$")


def _unquoted(body: str) -> str:
    """A body every line of which is quoted ("> Hello,"), as some clients forward: one level of quoting off."""
    lines = body.split("\n")
    if not any(x.strip() for x in lines) or any(x.strip() and not x.lstrip().startswith(">") for x in lines):
        return body
    return "\n".join(re.sub(r"^\s*> ?", "", x) for x in lines).strip("\n")


def _field_follows(rest: list[str], fields: dict[str, str], formats: ForwardFormats) -> bool:
    """Whether the next non-blank line is a header line of the block not read yet."""
    line = next((x.strip() for x in rest if x.strip()), "")
    m = _LABEL_LINE.match(line)
    name = formats.field_of(m.group(1)) if m else ""
    return bool(name) and name not in fields


def _sender(value: str) -> Address:
    value = re.sub(r"\[mailto:([^\]\s]+)\]", r"<\1>", value)  # Outlook: Name [mailto:addr]
    found = email.utils.getaddresses([value])
    name, address = found[0] if found else ("", "")
    address = address.strip().lower()
    if "@" not in address or any(c.isspace() for c in address):  # "Name addr@x" without angle brackets
        bare = re.search(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", value)
        address = bare.group(0).lower() if bare else ""
        name = value[: bare.start()].strip(" <\"'") if bare else ""
    return Address(name.strip().strip('"'), address)


def _zone_of(mail: Mail) -> timezone:
    """The forwarder's time zone, from the forward's Date: a client writes the block's date in it."""
    try:
        parsed = email.utils.parsedate_to_datetime(mail.header("Date"))
    except (TypeError, ValueError, IndexError):
        return UTC
    offset = parsed.utcoffset() if parsed and parsed.tzinfo else None
    return timezone(offset) if offset is not None else UTC


_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                             "nov", "dec"))}
_RFC5322_DATE = re.compile(r"\b\d{1,2} [A-Za-z]{3} \d{4} \d{1,2}:\d{2}(:\d{2})? ([+-]\d{4}|[A-Z]{2,4})\b")
_ZONES = {"utc": 0, "gmt": 0, "ut": 0, "z": 0, "jst": 9 * 60, "pst": -8 * 60, "pdt": -7 * 60, "est": -5 * 60,
          "edt": -4 * 60, "cet": 60, "cest": 120}


def _block_date(value: str, default_zone: timezone) -> datetime | None:
    """The date as the clients write it: RFC 5322 (Thunderbird), "Wed, Mar 4, 2026 at 8:02 PM" (Gmail),
    "Wednesday, March 4, 2026 8:02 PM" (Outlook), "2026年3月4日(水) 20:02" (Japanese clients); UTC."""
    value = value.strip()
    if not value:
        return None
    if _RFC5322_DATE.search(value):
        try:
            parsed = email.utils.parsedate_to_datetime(value)
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
        except (TypeError, ValueError, IndexError):
            pass
    lower = value.lower()
    ymd = re.search(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", value) or re.search(
        r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", value)
    if ymd:
        year, month, day = (int(g) for g in ymd.groups())
        rest = value[ymd.end():]
    else:
        mdy = re.search(r"\b([a-z]{3})[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", lower)
        dmy = re.search(r"\b(\d{1,2})\s+([a-z]{3})[a-z]*\.?,?\s+(\d{4})", lower)
        if mdy and mdy.group(1) in _MONTHS:
            month, day, year = _MONTHS[mdy.group(1)], int(mdy.group(2)), int(mdy.group(3))
            rest = lower[mdy.end():]
        elif dmy and dmy.group(2) in _MONTHS:
            day, month, year = int(dmy.group(1)), _MONTHS[dmy.group(2)], int(dmy.group(3))
            rest = lower[dmy.end():]
        else:
            return None
    clock = re.search(r"(午前|午後)?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", rest, re.I)
    hour = minute = second = 0
    if clock:
        hour, minute, second = int(clock.group(2)), int(clock.group(3)), int(clock.group(4) or 0)
        half = (clock.group(1) or clock.group(5) or "").lower().replace(".", "")
        if half in ("pm", "午後") and hour < 12:
            hour += 12
        elif half in ("am", "午前") and hour == 12:
            hour = 0
        rest = rest[clock.end():]
    try:
        stamp = datetime(year, month, day, hour, minute, second, tzinfo=_zone(rest) or default_zone)
    except ValueError:
        return None
    return stamp.astimezone(UTC)


def _zone(text: str) -> timezone | None:
    m = re.search(r"(?:gmt|utc)?\s*([+-])(\d{1,2}):?(\d{2})?\b", text, re.I)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
        return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))
    word = re.search(r"\b([a-z]{1,4})\b", text.lower())
    if word and word.group(1) in _ZONES:
        return timezone(timedelta(minutes=_ZONES[word.group(1)]))
    return None
