"""Lightsail instances, in the regions where Lightsail exists (botocore's endpoint data says which)."""

from __future__ import annotations

from triage.account.collectors._util import as_utc
from triage.account.records import Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "lightsail"
CALLS = ("lightsail:GetInstances",)


def tasks(region: str, available: frozenset[str]) -> list[Task]:
    if SERVICE not in available:
        return []
    return [Task(region, SERVICE, "lightsail:GetInstances", _instances)]


def _instances(scope: Scope) -> TaskResult:
    client = scope.clients.lightsail(scope.region)
    out = []
    token = ""
    while True:
        page = client.get_instances(pageToken=token) if token else client.get_instances()
        for i in page.get("instances", []):
            out.append(Resource(
                scope.region, SERVICE, "lightsail-instance", i.get("name", ""),
                state=i.get("state", {}).get("name"),
                created=as_utc(i.get("createdAt")),
                detail={
                    "name": i.get("name", ""),
                    "bundle_id": i.get("bundleId", ""),
                    "blueprint_id": i.get("blueprintId", ""),
                    "public_ip": i.get("publicIpAddress", ""),
                },
            ))
        token = page.get("nextPageToken", "")
        if not token:
            break
        scope.check_time()
    return TaskResult(resources=tuple(out))
