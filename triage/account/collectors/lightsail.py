"""Lightsail instances, in the regions where Lightsail exists (botocore's endpoint data says which)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

SERVICE = "lightsail"


def _instances(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for i in page.get("instances", []):
        yield Resource(
            scope.region, SERVICE, "lightsail-instance", i.get("name", ""),
            state=i.get("state", {}).get("name"),
            created=as_utc(i.get("createdAt")),
            detail={
                "name": i.get("name", ""),
                "bundle_id": i.get("bundleId", ""),
                "blueprint_id": i.get("blueprintId", ""),
                "public_ip": i.get("publicIpAddress", ""),
            },
        )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("lightsail:GetInstances",),
    kinds=(Kind("lightsail-instance", 60, "https://lightsail.aws.amazon.com/ls/webapp/home/instances",
                bills_unpriced=True),),
    listings=(Listing("lightsail:GetInstances", _instances),),
)
