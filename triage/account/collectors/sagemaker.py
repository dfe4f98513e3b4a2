"""SageMaker notebook instances and endpoints in one region: GPU machines that bill by the hour."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

SERVICE = "sagemaker"
_CONSOLE = "https://{r}.console.aws.amazon.com/sagemaker/home?region={r}#/"


def _notebooks(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for n in page.get("NotebookInstances", []):
        yield Resource(
            scope.region, SERVICE, "sagemaker-notebook", n["NotebookInstanceName"],
            state=n.get("NotebookInstanceStatus"),
            created=as_utc(n.get("CreationTime")),
            detail={"name": n["NotebookInstanceName"], "instance_type": n.get("InstanceType", "")},
        )


def _endpoints(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for e in page.get("Endpoints", []):
        yield Resource(
            scope.region, SERVICE, "sagemaker-endpoint", e["EndpointName"],
            state=e.get("EndpointStatus"),
            created=as_utc(e.get("CreationTime")),
            detail={"name": e["EndpointName"]},
        )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("sagemaker:ListNotebookInstances", "sagemaker:ListEndpoints"),
    kinds=(
        Kind("sagemaker-notebook", 40, _CONSOLE + "notebook-instances", bills_unpriced=True),
        Kind("sagemaker-endpoint", 50, _CONSOLE + "endpoints", bills_unpriced=True),
    ),
    listings=(
        Listing("sagemaker:ListNotebookInstances", _notebooks),
        Listing("sagemaker:ListEndpoints", _endpoints),
    ),
)
