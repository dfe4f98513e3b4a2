"""SageMaker notebook instances and endpoints in one region: GPU machines that bill by the hour."""

from __future__ import annotations

from triage.account.collectors._util import as_utc
from triage.account.records import Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "sagemaker"
CALLS = ("sagemaker:ListNotebookInstances", "sagemaker:ListEndpoints")


def tasks(region: str, available: frozenset[str]) -> list[Task]:
    if SERVICE not in available:
        return []
    return [
        Task(region, SERVICE, "sagemaker:ListNotebookInstances", _notebooks),
        Task(region, SERVICE, "sagemaker:ListEndpoints", _endpoints),
    ]


def _notebooks(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.sagemaker(scope.region).get_paginator("list_notebook_instances").paginate():
        for n in page.get("NotebookInstances", []):
            out.append(Resource(
                scope.region, SERVICE, "sagemaker-notebook", n["NotebookInstanceName"],
                state=n.get("NotebookInstanceStatus"),
                created=as_utc(n.get("CreationTime")),
                detail={"name": n["NotebookInstanceName"], "instance_type": n.get("InstanceType", "")},
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _endpoints(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.sagemaker(scope.region).get_paginator("list_endpoints").paginate():
        for e in page.get("Endpoints", []):
            out.append(Resource(
                scope.region, SERVICE, "sagemaker-endpoint", e["EndpointName"],
                state=e.get("EndpointStatus"),
                created=as_utc(e.get("CreationTime")),
                detail={"name": e["EndpointName"]},
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))
