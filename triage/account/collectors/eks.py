"""EKS clusters in one region, and the node groups of each: a cluster bills by the hour for itself, and its
node groups start EC2 instances (GPU ones when they ask), which ec2.py lists and prices.

A node group's id is "cluster/node group", since node group names repeat across clusters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from triage.account.collecting import Collector, Kind, Listing, paginate
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

if TYPE_CHECKING:
    from mypy_boto3_eks import EKSClient

SERVICE = "eks"
_CONSOLE = "https://{r}.console.aws.amazon.com/eks/home?region={r}#/clusters"
_GPU_AMIS = ("GPU", "NVIDIA", "NEURON")  # AL2_x86_64_GPU, AL2023_x86_64_NVIDIA, BOTTLEROCKET_x86_64_NVIDIA, ...


def _clusters(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    client: EKSClient = scope.client(SERVICE)
    for name in page.get("clusters", []):
        c = client.describe_cluster(name=name)["cluster"]
        yield Resource(
            scope.region, SERVICE, "eks-cluster", name,
            state=c.get("status"),
            created=as_utc(c.get("createdAt")),
            detail={"name": name, "version": c.get("version", ""), "endpoint": c.get("endpoint", "")},
        )
        for listed in paginate(scope, SERVICE, "ListNodegroups", clusterName=name):
            for group in listed.get("nodegroups", []):
                yield _nodegroup(client.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"],
                                 name, scope)


def _nodegroup(g: Mapping[str, Any], cluster: str, scope: Scope) -> Resource:
    scaling: Mapping[str, Any] = g.get("scalingConfig", {})
    ami = str(g.get("amiType", ""))
    return Resource(
        scope.region, SERVICE, "eks-nodegroup", f"{cluster}/{g.get('nodegroupName', '')}",
        state=g.get("status"),
        created=as_utc(g.get("createdAt")),
        detail={
            "name": g.get("nodegroupName", ""),
            "cluster": cluster,
            "instance_type": ",".join(g.get("instanceTypes", [])),
            "capacity": g.get("capacityType", ""),  # ON_DEMAND or SPOT
            "ami_type": ami,
            "gpu": any(marker in ami for marker in _GPU_AMIS),
            "desired": scaling.get("desiredSize", 0),
            "max": scaling.get("maxSize", 0),
        },
    )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("eks:ListClusters", "eks:DescribeCluster", "eks:ListNodegroups", "eks:DescribeNodegroup"),
    kinds=(
        Kind("eks-nodegroup", 33, _CONSOLE),
        Kind("eks-cluster", 65, _CONSOLE, bills_unpriced=True),
    ),
    listings=(Listing("eks:ListClusters", _clusters),),
)
