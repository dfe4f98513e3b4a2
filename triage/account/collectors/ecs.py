"""ECS clusters in one region, each with its services and running task count."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from triage.account.collecting import Collector, Kind, Listing, batches, paginate
from triage.account.records import Resource
from triage.account.sweep import Scope

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

SERVICE = "ecs"
_SHOWN_SERVICES = 20


def _clusters(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    client: ECSClient = scope.client(SERVICE)
    for arns in batches(page.get("clusterArns", [])):
        for c in client.describe_clusters(clusters=arns).get("clusters", []):
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
