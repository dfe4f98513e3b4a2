"""EC2 in one region: instances in every state, spot requests and fleets, EBS volumes, snapshots and AMIs
the account owns, Elastic IPs, key pairs, and the VPCs and security groups that are not the defaults.

Each listing is its own task, so one refused call (say, snapshots) leaves a gap for that listing only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from triage.account.collectors._util import as_utc, name_tag, tag_value
from triage.account.records import Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "ec2"
CALLS = (
    "ec2:DescribeInstances",
    "ec2:DescribeSpotInstanceRequests",
    "ec2:DescribeSpotFleetRequests",
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "ec2:DescribeImages",
    "ec2:DescribeAddresses",
    "ec2:DescribeKeyPairs",
    "ec2:DescribeVpcs",
    "ec2:DescribeSecurityGroups",
)


def tasks(region: str, available: frozenset[str]) -> list[Task]:
    return [
        Task(region, SERVICE, "ec2:DescribeInstances", _instances),
        Task(region, SERVICE, "ec2:DescribeSpotInstanceRequests", _spot_requests),
        Task(region, SERVICE, "ec2:DescribeSpotFleetRequests", _spot_fleets),
        Task(region, SERVICE, "ec2:DescribeVolumes", _volumes),
        Task(region, SERVICE, "ec2:DescribeSnapshots", _snapshots),
        Task(region, SERVICE, "ec2:DescribeImages", _images),
        Task(region, SERVICE, "ec2:DescribeAddresses", _addresses),
        Task(region, SERVICE, "ec2:DescribeKeyPairs", _key_pairs),
        Task(region, SERVICE, "ec2:DescribeVpcs", _vpcs),
        Task(region, SERVICE, "ec2:DescribeSecurityGroups", _security_groups),
    ]


def _instances(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.ec2(scope.region).get_paginator("describe_instances").paginate():
        for reservation in page.get("Reservations", []):
            for i in reservation.get("Instances", []):
                tags = i.get("Tags")
                out.append(Resource(
                    scope.region, SERVICE, "instance", i["InstanceId"],
                    state=i.get("State", {}).get("Name"),
                    created=as_utc(i.get("LaunchTime")),
                    detail={
                        "name": name_tag(tags),
                        "instance_type": i.get("InstanceType", ""),
                        "lifecycle": i.get("InstanceLifecycle", "on-demand"),
                        "public_ip": i.get("PublicIpAddress", ""),
                        "key_name": i.get("KeyName", ""),
                        "image_id": i.get("ImageId", ""),
                        "autoscaling_group": tag_value(tags, "aws:autoscaling:groupName"),
                    },
                ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _spot_requests(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.ec2(scope.region).get_paginator("describe_spot_instance_requests").paginate():
        for r in page.get("SpotInstanceRequests", []):
            spec: Mapping[str, Any] = r.get("LaunchSpecification", {})
            out.append(Resource(
                scope.region, SERVICE, "spot-request", r["SpotInstanceRequestId"],
                state=r.get("State"),
                created=as_utc(r.get("CreateTime")),
                detail={
                    "name": name_tag(r.get("Tags")),
                    "request_type": "instance",
                    "instance_type": spec.get("InstanceType", ""),
                    "instance_id": r.get("InstanceId", ""),
                    "status": r.get("Status", {}).get("Code", ""),
                },
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _spot_fleets(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.ec2(scope.region).get_paginator("describe_spot_fleet_requests").paginate():
        for r in page.get("SpotFleetRequestConfigs", []):
            config: Mapping[str, Any] = r.get("SpotFleetRequestConfig", {})
            types = sorted({s.get("InstanceType", "") for s in config.get("LaunchSpecifications", [])} - {""})
            out.append(Resource(
                scope.region, SERVICE, "spot-request", r["SpotFleetRequestId"],
                state=r.get("SpotFleetRequestState"),
                created=as_utc(r.get("CreateTime")),
                detail={
                    "name": name_tag(r.get("Tags")),
                    "request_type": "fleet",
                    "instance_type": ",".join(types),
                    "target_capacity": config.get("TargetCapacity", 0),
                },
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _volumes(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.ec2(scope.region).get_paginator("describe_volumes").paginate():
        for v in page.get("Volumes", []):
            out.append(Resource(
                scope.region, SERVICE, "volume", v["VolumeId"],
                state=v.get("State"),
                created=as_utc(v.get("CreateTime")),
                detail={
                    "name": name_tag(v.get("Tags")),
                    "size_gb": v.get("Size", 0),
                    "volume_type": v.get("VolumeType", ""),
                    "attached_to": [a.get("InstanceId", "") for a in v.get("Attachments", [])],
                },
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _snapshots(scope: Scope) -> TaskResult:
    out = []
    pages = scope.clients.ec2(scope.region).get_paginator("describe_snapshots").paginate(OwnerIds=["self"])
    for page in pages:
        for s in page.get("Snapshots", []):
            if s.get("OwnerId") not in (None, scope.account_id):
                continue  # some endpoints answer "self" with public snapshots too
            out.append(Resource(
                scope.region, SERVICE, "snapshot", s["SnapshotId"],
                state=s.get("State"),
                created=as_utc(s.get("StartTime")),
                detail={
                    "name": name_tag(s.get("Tags")),
                    "size_gb": s.get("VolumeSize", 0),
                    "volume_id": s.get("VolumeId", ""),
                },
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _images(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.ec2(scope.region).get_paginator("describe_images").paginate(Owners=["self"]):
        for i in page.get("Images", []):
            if i.get("OwnerId") not in (None, scope.account_id):
                continue
            out.append(Resource(
                scope.region, SERVICE, "image", i["ImageId"],
                state=i.get("State"),
                created=as_utc(i.get("CreationDate")),
                detail={"name": i.get("Name", "") or name_tag(i.get("Tags"))},
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _addresses(scope: Scope) -> TaskResult:
    answer = scope.clients.ec2(scope.region).describe_addresses()
    out = []
    for a in answer.get("Addresses", []):
        out.append(Resource(
            scope.region, SERVICE, "elastic-ip", a.get("AllocationId") or a.get("PublicIp", ""),
            state="associated" if a.get("AssociationId") or a.get("InstanceId") else "unassociated",
            detail={
                "name": name_tag(a.get("Tags")),
                "public_ip": a.get("PublicIp", ""),
                "instance_id": a.get("InstanceId", ""),
            },
        ))
    return TaskResult(resources=tuple(out))


def _key_pairs(scope: Scope) -> TaskResult:
    answer = scope.clients.ec2(scope.region).describe_key_pairs()
    out = []
    for k in answer.get("KeyPairs", []):
        out.append(Resource(
            scope.region, SERVICE, "key-pair", k.get("KeyPairId") or k.get("KeyName", ""),
            state="available",
            created=as_utc(k.get("CreateTime")),
            detail={"name": k.get("KeyName", ""), "fingerprint": k.get("KeyFingerprint", "")},
        ))
    return TaskResult(resources=tuple(out))


def _vpcs(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.ec2(scope.region).get_paginator("describe_vpcs").paginate():
        for v in page.get("Vpcs", []):
            if v.get("IsDefault"):
                continue
            out.append(Resource(
                scope.region, SERVICE, "vpc", v["VpcId"],
                state=v.get("State"),
                detail={"name": name_tag(v.get("Tags")), "cidr": v.get("CidrBlock", "")},
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _security_groups(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.ec2(scope.region).get_paginator("describe_security_groups").paginate():
        for g in page.get("SecurityGroups", []):
            if g.get("GroupName") == "default":
                continue
            open_ports = _open_to_internet(g.get("IpPermissions", []))
            out.append(Resource(
                scope.region, SERVICE, "security-group", g["GroupId"],
                detail={
                    "name": g.get("GroupName", ""),
                    "vpc_id": g.get("VpcId", ""),
                    "open_to_internet": open_ports,
                    "all_ports_open": "all" in open_ports,
                },
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))


def _open_to_internet(permissions: list[Any]) -> list[str]:
    """Port ranges any address on the internet may reach: "all", "22", "8000-9000"."""
    ranges = []
    for p in permissions:
        world = any(r.get("CidrIp") == "0.0.0.0/0" for r in p.get("IpRanges", [])) or any(
            r.get("CidrIpv6") == "::/0" for r in p.get("Ipv6Ranges", []))
        if not world:
            continue
        low, high = p.get("FromPort"), p.get("ToPort")
        if p.get("IpProtocol") == "-1" or (low in (None, -1, 0) and high in (None, -1, 65535)):
            ranges.append("all")
        elif low == high:
            ranges.append(str(low))
        else:
            ranges.append(f"{low}-{high}")
    return sorted(set(ranges))
