"""Identifiers, amounts and dates found in a mail: what the summary, the account check and the case
grouping act on.

Extraction is deliberately literal: a value is reported only in a form AWS writes it (12-digit account
ids, AKIA…/ASIA… key ids, i-… instance ids, region codes). This module never judges what a mail is.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Amount:
    value: Decimal
    currency: str  # ISO 4217: USD, JPY, EUR

    def __str__(self) -> str:
        return f"{self.currency} {self.value:,}"


@dataclass(frozen=True)
class Entities:
    case_ids: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    instance_ids: tuple[str, ...] = ()
    access_key_ids: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    amounts: tuple[Amount, ...] = ()
    dates: tuple[date, ...] = ()  # every calendar date the mail names
    deadlines: tuple[date, ...] = ()  # dates by which the mail asks for something (explicit or "within N days")

    def largest(self, currency: str) -> Decimal | None:
        values = [a.value for a in self.amounts if a.currency == currency]
        return max(values) if values else None


_CASE_IN_SUBJECT = re.compile(r"\[\s*CASE\s*#?\s*(\d{5,})\s*\]|\bCASE\s*#?\s*(\d{8,})\b", re.I)
_CASE_IN_BODY = re.compile(
    r"(?:\bcase\s*(?:id|number|no\.?|#)\s*[:#]?\s*|ケース\s*(?:ID|番号)\s*[:：]?\s*|\[\s*CASE\s*)(\d{5,})", re.I
)
_ACCOUNT_ID = re.compile(r"(?<![\d-])(\d{4}-\d{4}-\d{4}|\d{12})(?![\d-])")
_REGION = re.compile(
    r"(?<![\w-])([a-z]{2}(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|southeast|northwest|"
    r"southwest)-\d{1,2})[a-z]?(?![\w-])"
)
_INSTANCE = re.compile(r"(?<![\w-])i-(?:[0-9a-f]{17}|[0-9a-f]{8})(?![\w-])")
_ACCESS_KEY = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_IPV4 = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:.])((?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4})(?![\w:])")

# An amount written after its number begins where the digits begin: tried inside a long run of digits, it
# would walk the rest of the run from each of them (quadratic).
_AFTER_NO_DIGIT = r"(?<![\d,])"
_NUMBER = r"(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)"
# Each with the literals one of which any match holds: a text with none of them is not searched.
_AMOUNTS = (
    (re.compile(r"(?:US\s?\$|\$|\bUSD\s?)\s?" + _NUMBER), "USD", ("$", "USD")),
    (re.compile(_AFTER_NO_DIGIT + _NUMBER + r"\s?(?:USD\b|US dollars|米ドル|ドル)"), "USD",
     ("USD", "US dollars", "ドル")),
    (re.compile(r"(?:[¥￥]|\bJPY\s?)\s?" + _NUMBER), "JPY", ("¥", "￥", "JPY")),
    (re.compile(_AFTER_NO_DIGIT + _NUMBER + r"\s?(?:円|JPY\b)"), "JPY", ("円", "JPY")),
    (re.compile(r"(?:€|\bEUR\s?)\s?" + _NUMBER), "EUR", ("€", "EUR")),
    (re.compile(_AFTER_NO_DIGIT + _NUMBER + r"\s?EUR\b"), "EUR", ("EUR",)),
)

_MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_MONTH = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|" \
         r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATES = (
    (re.compile(r"(?<!\d)(20\d{2})-(\d{1,2})-(\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(20\d{2})/(\d{1,2})/(\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(20\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), "ymd"),
    (re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(20\d{2})\b", re.I), "mdy"),
    (re.compile(r"(?<!\d)\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(20\d{2})\b", re.I), "dmy"),
)
# Words just before a date (or, in Japanese, just after it) that make it a deadline.
_DEADLINE_BEFORE = re.compile(
    r"(?:\bby|\bbefore|\buntil|\bno later than|\bdeadline|\bdue(?: date)?|\bon or before|\bexpires?(?: on)?|"
    r"\bwill be (?:suspended|terminated|closed|blocked|retired|stopped|deprecated)(?: on)?|\bscheduled for|"
    r"\bend of support(?: on)?|期限|期日)\W{0,12}(?:\w+\W{1,3}){0,2}$",
    re.I,
)
_DEADLINE_AFTER = re.compile(r"^\S{0,12}?(?:まで|以前|に停止|に終了|に廃止)")
_WITHIN = re.compile(
    r"\bwithin\s+(\d+|one|two|three|four|five|six|seven|ten|fourteen|thirty)\s*(?:\(\d+\)\s*)?"
    r"(hours?|days?|business days?)|(?<!\d)(\d+)\s*(時間|日)以内",
    re.I,
)
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10,
                 "fourteen": 14, "thirty": 30}


def find_entities(subject: str, text: str, *, sent: datetime | None = None) -> Entities:
    """Everything literal the mail names. `sent` turns "within 5 days" into a date."""
    both = f"{subject}\n{text}"
    case_ids = _case_ids(subject, text)
    dates, deadlines = _dates(both, sent)
    return Entities(
        case_ids=case_ids,
        account_ids=_unique([m.replace("-", "") for m in _account_ids(both, case_ids)]),
        regions=_unique(_REGION.findall(both)),
        instance_ids=_unique(_INSTANCE.findall(both)),
        access_key_ids=_unique(_ACCESS_KEY.findall(both)),
        ip_addresses=_ips(both),
        amounts=_amounts(both),
        dates=dates,
        deadlines=deadlines,
    )


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _case_ids(subject: str, text: str) -> tuple[str, ...]:
    found = [a or b for a, b in _CASE_IN_SUBJECT.findall(subject)]
    if not found:
        found = _CASE_IN_BODY.findall(text)
    return _unique(found)


def _account_ids(text: str, case_ids: tuple[str, ...]) -> list[str]:
    return [m.group(1) for m in _ACCOUNT_ID.finditer(text) if m.group(1) not in case_ids]


def _ips(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for m in _IPV4.finditer(text):
        try:
            found.append(str(ipaddress.IPv4Address(m.group(1))))
        except ValueError:
            continue
    for m in _IPV6.finditer(text):
        candidate = m.group(1)
        if "::" not in candidate and candidate.count(":") < 7:
            continue
        try:
            found.append(str(ipaddress.IPv6Address(candidate)))
        except ValueError:
            continue
    return _unique(found)


def _amounts(text: str) -> tuple[Amount, ...]:
    taken = bytearray(len(text))  # 1 where an amount was found: linear in the text, however many amounts
    found: list[tuple[int, Amount]] = []
    for pattern, currency, literals in _AMOUNTS:
        if not any(literal in text for literal in literals):
            continue
        for m in pattern.finditer(text):
            if any(taken[m.start():m.end()]):
                continue
            try:
                value = Decimal(m.group(1).replace(",", ""))
            except InvalidOperation:
                continue
            taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            found.append((m.start(), Amount(value, currency)))
    return tuple(dict.fromkeys(a for _, a in sorted(found, key=lambda f: f[0])))


def _dates(text: str, sent: datetime | None) -> tuple[tuple[date, ...], tuple[date, ...]]:
    dates: list[tuple[int, date]] = []
    deadlines: list[tuple[int, date]] = []
    for pattern, order in _DATES if "20" in text else ():  # every date pattern names its year as 20\d\d
        for m in pattern.finditer(text):
            day = _to_date(m.groups(), order)
            if day is None:
                continue
            dates.append((m.start(), day))
            line_start = text.rfind("\n", 0, m.start()) + 1
            before = text[max(line_start, m.start() - 60): m.start()]
            after = text[m.end(): m.end() + 16]
            if _DEADLINE_BEFORE.search(before) or _DEADLINE_AFTER.search(after):
                deadlines.append((m.start(), day))
    if sent is not None:
        for m in _WITHIN.finditer(text):
            count = m.group(1) or m.group(3)
            unit = (m.group(2) or m.group(4) or "").lower()
            n = int(count) if count.isdigit() else _WORD_NUMBERS[count.lower()]
            delta = timedelta(hours=n) if unit.startswith("hour") or unit == "時間" else timedelta(days=n)
            deadlines.append((m.start(), (sent + delta).date()))
    ordered = [d for _, d in sorted(dates, key=lambda x: x[0])]
    return tuple(dict.fromkeys(ordered)), tuple(dict.fromkeys(d for _, d in sorted(deadlines, key=lambda x: x[0])))


def _to_date(groups: tuple[str | None, ...], order: str) -> date | None:
    try:
        if order == "ymd":
            y, mo, d = (int(g or 0) for g in groups)
        elif order == "mdy":
            mo, d, y = _MONTHS[str(groups[0])[:3].lower()], int(groups[1] or 0), int(groups[2] or 0)
        else:
            d, mo, y = int(groups[0] or 0), _MONTHS[str(groups[1])[:3].lower()], int(groups[2] or 0)
        return date(y, mo, d)
    except (ValueError, KeyError):
        return None
