"""Auto Scaling groups in one region: an attacker's group starts new instances as fast as they are ended."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

SERVICE = "autoscaling"


def _groups(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for g in page.get("AutoScalingGroups", []):
        template = g.get("LaunchTemplate", {}).get("LaunchTemplateName") or g.get("LaunchConfigurationName", "")
        yield Resource(
            scope.region, SERVICE, "autoscaling-group", g["AutoScalingGroupName"],
            state=g.get("Status") or "active",
            created=as_utc(g.get("CreatedTime")),
            detail={
                "name": g["AutoScalingGroupName"],
                "desired": g.get("DesiredCapacity", 0),
                "max": g.get("MaxSize", 0),
                "instances": len(g.get("Instances", [])),
                "launch_template": template,
            },
        )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("autoscaling:DescribeAutoScalingGroups",),
    kinds=(Kind("autoscaling-group", 30, "https://{r}.console.aws.amazon.com/ec2/home?region={r}#AutoScalingGroups:"),),
    listings=(Listing("autoscaling:DescribeAutoScalingGroups", _groups),),
)
