"""Console links, built by triage for a region and a resource type (never copied from a mail): `Trusted`,
so a summary shows them as links."""

from __future__ import annotations

from triage.account.records import GLOBAL
from triage.inert import Trusted

_EC2 = "https://{r}.console.aws.amazon.com/ec2/home?region={r}#"
_BY_TYPE = {
    "instance": _EC2 + "Instances:",
    "spot-request": _EC2 + "SpotInstances:",
    "volume": _EC2 + "Volumes:",
    "snapshot": _EC2 + "Snapshots:",
    "image": _EC2 + "Images:visibility=owned-by-me",
    "elastic-ip": _EC2 + "Addresses:",
    "key-pair": _EC2 + "KeyPairs:",
    "security-group": _EC2 + "SecurityGroups:",
    "autoscaling-group": _EC2 + "AutoScalingGroups:",
    "vpc": "https://{r}.console.aws.amazon.com/vpcconsole/home?region={r}#vpcs:",
    "lambda-function": "https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions",
    "ecs-cluster": "https://{r}.console.aws.amazon.com/ecs/v2/clusters?region={r}",
    "sagemaker-notebook": "https://{r}.console.aws.amazon.com/sagemaker/home?region={r}#/notebook-instances",
    "sagemaker-endpoint": "https://{r}.console.aws.amazon.com/sagemaker/home?region={r}#/endpoints",
    "lightsail-instance": "https://lightsail.aws.amazon.com/ls/webapp/home/instances",
    "iam-user": "https://console.aws.amazon.com/iam/home#/users",
    "access-key": "https://console.aws.amazon.com/iam/home#/users",
    "iam-role": "https://console.aws.amazon.com/iam/home#/roles",
    "identity-provider": "https://console.aws.amazon.com/iam/home#/identity_providers",
    "organization-account": "https://console.aws.amazon.com/organizations/v2/home/accounts",
}
_REGION_HOME = _EC2 + "Home:"
_EVENT_HISTORY = "https://{r}.console.aws.amazon.com/cloudtrail/home?region={r}#/events"


def resource_url(region: str, resource_type: str) -> str:
    template = _BY_TYPE.get(resource_type, _REGION_HOME)
    return Trusted(template.format(r="us-east-1" if region == GLOBAL else region))


def region_url(region: str) -> str:
    return Trusted(_REGION_HOME.format(r=region))


def event_history_url(region: str) -> str:
    return Trusted(_EVENT_HISTORY.format(r="us-east-1" if region == GLOBAL else region))
