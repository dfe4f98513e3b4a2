"""Reading AWS answers: the Name tag and other tag values, and timestamps in any of AWS's forms, as UTC."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any


def name_tag(tags: Iterable[Mapping[str, Any]] | None) -> str:
    for tag in tags or ():
        if tag.get("Key") == "Name":
            return str(tag.get("Value") or "")
    return ""


def tag_value(tags: Iterable[Mapping[str, Any]] | None, key: str) -> str:
    for tag in tags or ():
        if tag.get("Key") == key:
            return str(tag.get("Value") or "")
    return ""


def as_utc(value: Any) -> datetime | None:
    """A datetime from botocore (aware), an ISO string (AMIs, Lambda), or None; always in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # 2026-03-01T10:00:00.000+0000
        text = text[:-2] + ":" + text[-2:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
