"""Times as triage writes them in records (the JSON lines, the state, the account report): UTC, to the
second, with a `Z`; and the zone the reader lives in (JST). Shared by every stage; it imports nothing of
triage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")  # the reader's time: summaries and the terminal show it


def utc_z(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
