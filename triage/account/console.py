"""Console links, built by triage for a region and a resource type (never copied from a mail).

Each type's page is declared by its collector (`Kind.console`); a type without one links the region's EC2 home.
"""

from __future__ import annotations

from triage.account.records import GLOBAL

_EC2 = "https://{r}.console.aws.amazon.com/ec2/home?region={r}#"
_REGION_HOME = _EC2 + "Home:"
_EVENT_HISTORY = "https://{r}.console.aws.amazon.com/cloudtrail/home?region={r}#/events"


def resource_url(region: str, resource_type: str) -> str:
    # Imported here: the declarations come with botocore, which a scan that checks no account never loads.
    from triage.account.collectors import CONSOLE_PAGES

    template = CONSOLE_PAGES.get(resource_type, _REGION_HOME)
    return template.format(r="us-east-1" if region == GLOBAL else region)


def region_url(region: str) -> str:
    return _REGION_HOME.format(r=region)


def event_history_url(region: str) -> str:
    return _EVENT_HISTORY.format(r="us-east-1" if region == GLOBAL else region)
