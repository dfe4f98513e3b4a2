"""ECS clusters in one region, each with its services and running task count."""

from __future__ import annotations

from triage.account.records import Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "ecs"
CALLS = ("ecs:ListClusters", "ecs:DescribeClusters", "ecs:ListServices")
_SHOWN_SERVICES = 20


def tasks(region: str, available: frozenset[str]) -> list[Task]:
    if SERVICE not in available:
        return []
    return [Task(region, SERVICE, "ecs:ListClusters", _clusters)]


def _clusters(scope: Scope) -> TaskResult:
    client = scope.clients.ecs(scope.region)
    arns: list[str] = []
    for page in client.get_paginator("list_clusters").paginate():
        arns.extend(page.get("clusterArns", []))
        scope.check_time()
    out = []
    for start in range(0, len(arns), 100):
        for c in client.describe_clusters(clusters=arns[start:start + 100]).get("clusters", []):
            services: list[str] = []
            for listed in client.get_paginator("list_services").paginate(cluster=c["clusterArn"]):
                services.extend(arn.rsplit("/", 1)[-1] for arn in listed.get("serviceArns", []))
                scope.check_time()
            out.append(Resource(
                scope.region, SERVICE, "ecs-cluster", c.get("clusterName", c["clusterArn"]),
                state=c.get("status"),
                detail={
                    "name": c.get("clusterName", ""),
                    "running_tasks": c.get("runningTasksCount", 0),
                    "services": services[:_SHOWN_SERVICES],
                    "service_count": len(services),
                },
            ))
    return TaskResult(resources=tuple(out))
