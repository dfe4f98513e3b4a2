"""Times as triage writes them in records (the JSON lines, the state, the account report): UTC, to the
second, with a `Z`. Shared by every stage; it imports nothing of triage."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_z(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
