"""Who created the suspicious resources: CloudTrail's write events matched to them, no faster than AWS's
2 requests a second per region, and a history too long to read said as a gap."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from triage.account import cloudtrail
from triage.account.records import GLOBAL, Creators, Resource
from triage.account.sweep import Scope

NOW = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)


class FakeCloudTrail:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages
        self.asked: list[tuple[float, dict[str, Any]]] = []

    def lookup_events(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append((time.monotonic(), kwargs))
        return self.pages[min(len(self.asked), len(self.pages)) - 1]


class FakeClients:
    def __init__(self, trail: FakeCloudTrail) -> None:
        self.trail = trail

    def client(self, service: str, region: str) -> FakeCloudTrail:
        assert service == "cloudtrail"
        return self.trail


def _event(name: str, resource: str, user: str = "attacker") -> dict[str, Any]:
    return {"EventName": name, "EventTime": NOW, "Username": user, "AccessKeyId": "AKIAATTACKER00000001",
            "Resources": [{"ResourceName": resource}],
            "CloudTrailEvent": json.dumps({"sourceIPAddress": "198.51.100.9"})}


def _suspicious(region: str, rid: str) -> Resource:
    return Resource(region, "ec2", "instance", rid, "running", NOW, suspicious=True, reasons=("x",))


def _run(trail: FakeCloudTrail, resources: list[Resource]) -> Any:
    (task,) = cloudtrail.attribution_tasks(resources, NOW - timedelta(days=7), NOW)
    return task.run(Scope(FakeClients(trail), "1", task.region, time.monotonic() + 60))  # type: ignore[arg-type]


def test_creating_events_name_the_creator_and_reads_are_not_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloudtrail, "MIN_INTERVAL", 0.05)
    trail = FakeCloudTrail([
        {"Events": [_event("TerminateInstances", "i-1", "someone"), _event("RunInstances", "i-1")], "NextToken": "2"},
        {"Events": [_event("RunInstances", "i-2", "earlier")]},
    ])
    result = _run(trail, [_suspicious("eu-west-1", "i-1"), _suspicious("eu-west-1", "i-2"),
                          replace(_suspicious("eu-west-1", "i-3"), suspicious=False)])
    (found,) = [f for f in result.facts if isinstance(f, Creators)]
    assert {k: v.principal for k, v in found.by_resource.items()} == {"i-1": "attacker", "i-2": "earlier"}
    assert found.by_resource["i-1"].source_ip == "198.51.100.9"
    assert result.gaps == ()
    first = trail.asked[0][1]
    assert first["LookupAttributes"] == [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]
    assert trail.asked[1][1]["NextToken"] == "2"
    assert trail.asked[1][0] - trail.asked[0][0] >= 0.05  # never faster than the limit


def test_a_history_too_long_is_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloudtrail, "MIN_INTERVAL", 0.0)
    trail = FakeCloudTrail([{"Events": [], "NextToken": "more"}])
    result = _run(trail, [_suspicious("us-west-2", "i-9")])
    assert len(trail.asked) == cloudtrail.MAX_PAGES
    assert [(g.kind, g.what) for g in result.gaps] == [("truncated", "cloudtrail:LookupEvents")]


def test_iam_events_are_looked_up_in_us_east_1_and_applied() -> None:
    user = Resource(GLOBAL, "iam", "iam-user", "backup-admin", "active", NOW, suspicious=True, reasons=("x",))
    (task,) = cloudtrail.attribution_tasks([user], NOW - timedelta(days=7), NOW)
    assert task.region == "us-east-1"
    creator = cloudtrail.Creator("attacker", "AKIA", "198.51.100.9", "CreateUser", NOW)
    (applied,) = cloudtrail.apply_creators([user], [Creators("us-east-1", {"backup-admin": creator})])
    assert applied.detail["created_by"]["principal"] == "attacker"
