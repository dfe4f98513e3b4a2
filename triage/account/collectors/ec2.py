"""EC2 in one region: instances in every state, spot requests and fleets, launch templates, EBS volumes,
snapshots and AMIs the account owns, Elastic IPs, key pairs, and the VPCs and security groups that are not
the defaults.

Each listing is its own task, so one refused call (say, snapshots) leaves a gap for that listing only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc, name_tag, tag_value

SERVICE = "ec2"
_EC2 = "https://{r}.console.aws.amazon.com/ec2/home?region={r}#"

Page = Mapping[str, Any]


def _instances(page: Page, scope: Scope) -> Iterator[Resource]:
    for reservation in page.get("Reservations", []):
        for i in reservation.get("Instances", []):
            tags = i.get("Tags")
            yield Resource(
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
            )


def _spot_requests(page: Page, scope: Scope) -> Iterator[Resource]:
    for r in page.get("SpotInstanceRequests", []):
        spec: Mapping[str, Any] = r.get("LaunchSpecification", {})
        yield Resource(
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
        )


def _spot_fleets(page: Page, scope: Scope) -> Iterator[Resource]:
    for r in page.get("SpotFleetRequestConfigs", []):
        config: Mapping[str, Any] = r.get("SpotFleetRequestConfig", {})
        types = sorted({s.get("InstanceType", "") for s in config.get("LaunchSpecifications", [])} - {""})
        yield Resource(
            scope.region, SERVICE, "spot-request", r["SpotFleetRequestId"],
            state=r.get("SpotFleetRequestState"),
            created=as_utc(r.get("CreateTime")),
            detail={
                "name": name_tag(r.get("Tags")),
                "request_type": "fleet",
                "instance_type": ",".join(types),
                "target_capacity": config.get("TargetCapacity", 0),
            },
        )


def _launch_templates(page: Page, scope: Scope) -> Iterator[Resource]:
    """A launch template starts nothing by itself, but an intruder's Auto Scaling group or fleet starts its
    instances again from it: the plan removes it before the instances."""
    for t in page.get("LaunchTemplates", []):
        yield Resource(
            scope.region, SERVICE, "launch-template", t["LaunchTemplateId"],
            state="available",
            created=as_utc(t.get("CreateTime")),
            detail={"name": t.get("LaunchTemplateName", "")},
        )


def _volumes(page: Page, scope: Scope) -> Iterator[Resource]:
    for v in page.get("Volumes", []):
        yield Resource(
            scope.region, SERVICE, "volume", v["VolumeId"],
            state=v.get("State"),
            created=as_utc(v.get("CreateTime")),
            detail={
                "name": name_tag(v.get("Tags")),
                "size_gb": v.get("Size", 0),
                "volume_type": v.get("VolumeType", ""),
                "attached_to": [a.get("InstanceId", "") for a in v.get("Attachments", [])],
            },
        )


def _snapshots(page: Page, scope: Scope) -> Iterator[Resource]:
    for s in page.get("Snapshots", []):
        if s.get("OwnerId") not in (None, scope.account_id):
            continue  # some endpoints answer "self" with public snapshots too
        yield Resource(
            scope.region, SERVICE, "snapshot", s["SnapshotId"],
            state=s.get("State"),
            created=as_utc(s.get("StartTime")),
            detail={
                "name": name_tag(s.get("Tags")),
                "size_gb": s.get("VolumeSize", 0),
                "volume_id": s.get("VolumeId", ""),
            },
        )


def _images(page: Page, scope: Scope) -> Iterator[Resource]:
    for i in page.get("Images", []):
        if i.get("OwnerId") not in (None, scope.account_id):
            continue
        yield Resource(
            scope.region, SERVICE, "image", i["ImageId"],
            state=i.get("State"),
            created=as_utc(i.get("CreationDate")),
            detail={"name": i.get("Name", "") or name_tag(i.get("Tags"))},
        )


def _addresses(page: Page, scope: Scope) -> Iterator[Resource]:
    for a in page.get("Addresses", []):
        yield Resource(
            scope.region, SERVICE, "elastic-ip", a.get("AllocationId") or a.get("PublicIp", ""),
            state="associated" if a.get("AssociationId") or a.get("InstanceId") else "unassociated",
            detail={
                "name": name_tag(a.get("Tags")),
                "public_ip": a.get("PublicIp", ""),
                "instance_id": a.get("InstanceId", ""),
            },
        )


def _key_pairs(page: Page, scope: Scope) -> Iterator[Resource]:
    for k in page.get("KeyPairs", []):
        yield Resource(
            scope.region, SERVICE, "key-pair", k.get("KeyPairId") or k.get("KeyName", ""),
            state="available",
            created=as_utc(k.get("CreateTime")),
            detail={"name": k.get("KeyName", ""), "fingerprint": k.get("KeyFingerprint", "")},
        )


def _vpcs(page: Page, scope: Scope) -> Iterator[Resource]:
    for v in page.get("Vpcs", []):
        if v.get("IsDefault"):
            continue
        yield Resource(
            scope.region, SERVICE, "vpc", v["VpcId"],
            state=v.get("State"),
            detail={"name": name_tag(v.get("Tags")), "cidr": v.get("CidrBlock", "")},
        )


def _security_groups(page: Page, scope: Scope) -> Iterator[Resource]:
    for g in page.get("SecurityGroups", []):
        if g.get("GroupName") == "default":
            continue
        open_ports = _open_to_internet(g.get("IpPermissions", []))
        yield Resource(
            scope.region, SERVICE, "security-group", g["GroupId"],
            detail={
                "name": g.get("GroupName", ""),
                "vpc_id": g.get("VpcId", ""),
                "open_to_internet": open_ports,
                "all_ports_open": "all" in open_ports,
            },
        )


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


LISTINGS = (
    Listing("ec2:DescribeInstances", _instances),
    Listing("ec2:DescribeSpotInstanceRequests", _spot_requests),
    Listing("ec2:DescribeSpotFleetRequests", _spot_fleets),
    Listing("ec2:DescribeLaunchTemplates", _launch_templates),
    Listing("ec2:DescribeVolumes", _volumes),
    Listing("ec2:DescribeSnapshots", _snapshots, {"OwnerIds": ["self"]}),
    Listing("ec2:DescribeImages", _images, {"Owners": ["self"]}),
    Listing("ec2:DescribeAddresses", _addresses),
    Listing("ec2:DescribeKeyPairs", _key_pairs),
    Listing("ec2:DescribeVpcs", _vpcs),
    Listing("ec2:DescribeSecurityGroups", _security_groups),
)

COLLECTOR = Collector(
    service=SERVICE,
    calls=tuple(listing.call for listing in LISTINGS),
    kinds=(
        Kind("instance", 10, _EC2 + "Instances:"),
        Kind("spot-request", 20, _EC2 + "SpotInstances:"),
        Kind("launch-template", 32, _EC2 + "LaunchTemplates:"),
        Kind("volume", 90, _EC2 + "Volumes:"),
        Kind("snapshot", 100, _EC2 + "Snapshots:"),
        Kind("image", 110, _EC2 + "Images:visibility=owned-by-me"),
        Kind("elastic-ip", 120, _EC2 + "Addresses:"),
        Kind("key-pair", 130, _EC2 + "KeyPairs:"),
        Kind("security-group", 140, _EC2 + "SecurityGroups:"),
        Kind("vpc", 150, "https://{r}.console.aws.amazon.com/vpcconsole/home?region={r}#vpcs:"),
    ),
    listings=LISTINGS,
    everywhere=True,  # EC2 is in every region; a region botocore does not list yet is still tried
)
