"""ECS clusters in one region, each with its services and running task count."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from triage.account.collecting import Collector, Kind, Listing, paginate
from triage.account.records import Resource
from triage.account.sweep import Scope

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

SERVICE = "ecs"
_SHOWN_SERVICES = 20
_DESCRIBED_AT_ONCE = 100  # DescribeClusters takes at most 100 clusters


def _clusters(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    client: ECSClient = scope.client(SERVICE)
    arns: list[str] = list(page.get("clusterArns", []))
    for start in range(0, len(arns), _DESCRIBED_AT_ONCE):
        for c in client.describe_clusters(clusters=arns[start:start + _DESCRIBED_AT_ONCE]).get("clusters", []):
            services = [arn.rsplit("/", 1)[-1]
                        for listed in paginate(scope, SERVICE, "ListServices", cluster=c["clusterArn"])
                        for arn in listed.get("serviceArns", [])]
            yield Resource(
                scope.region, SERVICE, "ecs-cluster", c.get("clusterName", c["clusterArn"]),
                state=c.get("status"),
                detail={
                    "name": c.get("clusterName", ""),
                    "running_tasks": c.get("runningTasksCount", 0),
                    "services": services[:_SHOWN_SERVICES],
                    "service_count": len(services),
                },
            )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices"),
    kinds=(Kind("ecs-cluster", 70, "https://{r}.console.aws.amazon.com/ecs/v2/clusters?region={r}",
                bills_unpriced=True),),
    listings=(Listing("ecs:ListClusters", _clusters),),
)
