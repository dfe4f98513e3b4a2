"""Requests within DeepL's limits: at most 50 texts and 100 KB of encoded JSON each.

DeepL allows 50 texts and 128 KiB a request and the library checks neither. The size is measured as the
library sends it: `requests` encodes JSON with ensure_ascii, so each non-ASCII character costs six bytes
(`\\uXXXX`). 100 KB leaves room for headers and for what a future library version adds to the body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from triage.translate.client import request_body

MAX_TEXTS = 50
MAX_BYTES = 100_000


@dataclass(frozen=True)
class Plan:
    batches: tuple[tuple[str, ...], ...]
    too_large: tuple[str, ...] = ()  # texts that do not fit in a request even alone


def encoded_size(texts: list[str], *, context: str, glossary_id: str | None) -> int:
    return len(json.dumps(request_body(texts, context=context, glossary_id=glossary_id)).encode())


def plan_batches(texts: list[str], *, context: str, glossary_id: str | None,
                 max_texts: int = MAX_TEXTS, max_bytes: int = MAX_BYTES) -> Plan:
    """`texts` in order, cut into requests that respect both limits."""
    empty = encoded_size([], context=context, glossary_id=glossary_id)
    batches: list[tuple[str, ...]] = []
    too_large: list[str] = []
    current: list[str] = []
    size = empty
    for text in texts:
        cost = len(json.dumps(text).encode()) + 2  # the item and its ", " separator
        if empty + cost > max_bytes:
            too_large.append(text)
            continue
        if current and (len(current) >= max_texts or size + cost > max_bytes):
            batches.append(tuple(current))
            current, size = [], empty
        current.append(text)
        size += cost
    if current:
        batches.append(tuple(current))
    return Plan(tuple(batches), tuple(too_large))
