"""Who created the suspicious resources: CloudTrail's event history (LookupEvents), when allowed.

One task per region that holds suspicious resources (IAM's events are kept in us-east-1). Each reads the
write events of the incident window, newest first, at most MAX_PAGES pages, no faster than AWS's limit
of 2 requests a second per region. An event that creates a resource names the principal, the access key
and the address that made it. What cannot be read is a gap, not an error: the rest of the report stands.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from triage.account.tags_and_times import as_utc

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
from triage.account.records import GLOBAL, Creator, Creators, Gap, Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "cloudtrail"
CALLS = ("cloudtrail:LookupEvents",)
MAX_PAGES = 10  # 500 events per region
MIN_INTERVAL = 0.5  # seconds between two LookupEvents in one region (AWS allows 2 a second)
IAM_EVENTS_REGION = "us-east-1"
_CREATING = ("Run", "Create", "Request", "Allocate", "Import", "Register", "Copy")


def attribution_tasks(resources: Iterable[Resource], since: datetime, until: datetime) -> list[Task]:
    wanted: dict[str, set[str]] = defaultdict(set)
    for r in resources:
        if not r.suspicious:
            continue
        region = IAM_EVENTS_REGION if r.region == GLOBAL else r.region
        wanted[region].update({r.id, r.name} - {""})
    return [
        Task(region, SERVICE, "cloudtrail:LookupEvents", _lookup(region, frozenset(ids), since, until))
        for region, ids in sorted(wanted.items())
    ]


def _lookup(region: str, ids: frozenset[str], since: datetime, until: datetime) -> Callable[[Scope], TaskResult]:
    def run(scope: Scope) -> TaskResult:
        client: CloudTrailClient = scope.clients.client(SERVICE, region)
        found: dict[str, Creator] = {}
        token = ""
        last = 0.0
        for _ in range(MAX_PAGES):
            wait = last + MIN_INTERVAL - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            last = time.monotonic()
            kwargs: dict[str, Any] = {
                "LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "false"}],
                "StartTime": since - timedelta(hours=1),
                "EndTime": until,
                "MaxResults": 50,
            }
            if token:
                kwargs["NextToken"] = token
            page = client.lookup_events(**kwargs)
            for event in page.get("Events", []):
                _match(event, ids, found)
            token = page.get("NextToken", "")
            if not token:
                return TaskResult(facts=(Creators(region, found),))
            scope.check_time()
        gap = Gap(region, SERVICE, "truncated",
                  f"cloudtrail:LookupEvents: read the latest {MAX_PAGES * 50} write events only; "
                  f"who created older resources is not known", "cloudtrail:LookupEvents")
        return TaskResult(gaps=(gap,), facts=(Creators(region, found),))

    return run


def _match(event: Mapping[str, Any], ids: frozenset[str], found: dict[str, Creator]) -> None:
    name = str(event.get("EventName", ""))
    if not name.startswith(_CREATING):
        return
    named = {str(r.get("ResourceName", "")) for r in event.get("Resources", []) or []} & ids
    raw = str(event.get("CloudTrailEvent", "") or "")
    if not named and raw:
        named = {i for i in ids if i in raw}
    if not named:
        return
    try:
        detail = json.loads(raw) if raw else {}
    except ValueError:
        detail = {}
    who = detail.get("userIdentity", {}) if isinstance(detail, dict) else {}
    creator = Creator(
        principal=str(event.get("Username") or who.get("arn") or ""),
        access_key_id=str(event.get("AccessKeyId") or who.get("accessKeyId") or ""),
        source_ip=str(detail.get("sourceIPAddress", "")) if isinstance(detail, dict) else "",
        event=name,
        time=as_utc(event.get("EventTime")),
    )
    for resource in named:
        # Pages come newest first: the last creating event seen is the earliest, the one that made it.
        found[resource] = creator


def apply_creators(resources: Iterable[Resource], creators: Iterable[Creators]) -> list[Resource]:
    by_region: dict[str, dict[str, Creator]] = defaultdict(dict)
    for c in creators:
        by_region[c.region].update(c.by_resource)
    out = []
    for r in resources:
        table = by_region.get(IAM_EVENTS_REGION if r.region == GLOBAL else r.region, {})
        creator = table.get(r.id) or (table.get(r.name) if r.name else None)
        if creator is not None:
            r = replace(r, detail={**r.detail, "created_by": creator.as_dict()})
        out.append(r)
    return out
