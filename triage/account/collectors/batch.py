"""Batch compute environments in one region: each starts EC2 (or Fargate) capacity for queued jobs, up to
its vCPU limit, and may name GPU families ("p3") rather than sizes. The API gives no creation date.

The instances a managed environment has started are EC2 instances, listed (and priced) by ec2.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope

SERVICE = "batch"


def _environments(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for e in page.get("computeEnvironments", []):
        compute: Mapping[str, Any] = e.get("computeResources", {})
        yield Resource(
            scope.region, SERVICE, "batch-compute-environment", e.get("computeEnvironmentName", ""),
            state=e.get("state"),
            detail={
                "name": e.get("computeEnvironmentName", ""),
                "status": e.get("status", ""),
                "managed": e.get("type", "") == "MANAGED",
                "capacity": compute.get("type", ""),  # EC2, SPOT, FARGATE, FARGATE_SPOT
                "instance_type": ",".join(compute.get("instanceTypes", [])),
                "max_vcpus": compute.get("maxvCpus", 0),
                "desired_vcpus": compute.get("desiredvCpus", 0),
            },
        )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("batch:DescribeComputeEnvironments",),
    kinds=(Kind("batch-compute-environment", 36,
                "https://{r}.console.aws.amazon.com/batch/home?region={r}#compute-environments"),),
    listings=(Listing("batch:DescribeComputeEnvironments", _environments),),
)
