"""Member accounts of the organization, when the account manages one: attackers open new accounts
inside a taken-over organization. An account outside any organization has nothing to list (not a gap).
"""

from __future__ import annotations

from datetime import date

from botocore.exceptions import ClientError

from triage.account.collecting import Collector, Kind, paginate
from triage.account.failures import error_code
from triage.account.records import GLOBAL, Resource
from triage.account.sweep import Scope, Task, TaskResult
from triage.account.tags_and_times import as_utc

SERVICE = "organizations"


def _tasks(region: str, today: date) -> list[Task]:
    return [Task(GLOBAL, SERVICE, "organizations:ListAccounts", _accounts)]


def _accounts(scope: Scope) -> TaskResult:
    out: list[Resource] = []
    try:
        for page in paginate(scope, SERVICE, "ListAccounts"):
            out.extend(Resource(
                GLOBAL, SERVICE, "organization-account", a.get("Id", ""),
                state=a.get("Status"),
                created=as_utc(a.get("JoinedTimestamp")),
                detail={"name": a.get("Name", ""), "email": a.get("Email", ""),
                        "joined_method": a.get("JoinedMethod", "")},
            ) for a in page.get("Accounts", []) if a.get("Id") != scope.account_id)
    except ClientError as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            return TaskResult()
        raise
    return TaskResult(resources=tuple(out))


COLLECTOR = Collector(
    service=SERVICE,
    calls=("organizations:ListAccounts",),
    kinds=(Kind("organization-account", 200, "https://console.aws.amazon.com/organizations/v2/home/accounts"),),
    custom_tasks=_tasks,
    regional=False,
)
