"""Identifiers and amounts found in a mail: what the summary and the account check act on."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CASE_ID = re.compile(r"\[?CASE\s*#?\s*(\d{5,})\]?", re.I)
_ACCOUNT_ID = re.compile(r"(?<![\d-])(\d{4}-?\d{4}-?\d{4})(?![\d-])")
_REGION = re.compile(
    r"\b([a-z]{2}(?:-gov)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d)\b"
)
_INSTANCE = re.compile(r"\bi-[0-9a-f]{8}(?:[0-9a-f]{9})?\b")
_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")


@dataclass(frozen=True)
class Entities:
    case_ids: tuple[str, ...] = ()
    account_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    instance_ids: tuple[str, ...] = ()
    access_key_ids: tuple[str, ...] = ()


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def find_entities(subject: str, text: str) -> Entities:
    both = f"{subject}\n{text}"
    return Entities(
        case_ids=_unique(_CASE_ID.findall(subject) or _CASE_ID.findall(text)),
        account_ids=_unique([a.replace("-", "") for a in _ACCOUNT_ID.findall(both)]),
        regions=_unique(_REGION.findall(both)),
        instance_ids=_unique(_INSTANCE.findall(both)),
        access_key_ids=_unique(_ACCESS_KEY.findall(both)),
    )
