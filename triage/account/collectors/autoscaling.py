"""Auto Scaling groups in one region: an attacker's group starts new instances as fast as they are ended."""

from __future__ import annotations

from triage.account.collectors._util import as_utc
from triage.account.records import Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "autoscaling"
CALLS = ("autoscaling:DescribeAutoScalingGroups",)


def tasks(region: str, available: frozenset[str]) -> list[Task]:
    if SERVICE not in available:
        return []
    return [Task(region, SERVICE, "autoscaling:DescribeAutoScalingGroups", _groups)]


def _groups(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.autoscaling(scope.region).get_paginator("describe_auto_scaling_groups").paginate():
        for g in page.get("AutoScalingGroups", []):
            template = g.get("LaunchTemplate", {}).get("LaunchTemplateName") or g.get("LaunchConfigurationName", "")
            out.append(Resource(
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
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))
