"""Member accounts of the organization, when the account manages one: attackers open new accounts
inside a taken-over organization. An account outside any organization has nothing to list (not a gap).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from triage.account.collectors._util import as_utc
from triage.account.failures import error_code
from triage.account.records import GLOBAL, Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "organizations"
CALLS = ("organizations:ListAccounts",)


def tasks() -> list[Task]:
    return [Task(GLOBAL, SERVICE, "organizations:ListAccounts", _accounts)]


def _accounts(scope: Scope) -> TaskResult:
    out = []
    try:
        for page in scope.clients.organizations().get_paginator("list_accounts").paginate():
            for a in page.get("Accounts", []):
                if a.get("Id") == scope.account_id:
                    continue
                out.append(Resource(
                    GLOBAL, SERVICE, "organization-account", a.get("Id", ""),
                    state=a.get("Status"),
                    created=as_utc(a.get("JoinedTimestamp")),
                    detail={"name": a.get("Name", ""), "email": a.get("Email", ""),
                            "joined_method": a.get("JoinedMethod", "")},
                ))
            scope.check_time()
    except ClientError as exc:
        if error_code(exc) == "AWSOrganizationsNotInUseException":
            return TaskResult()
        raise
    return TaskResult(resources=tuple(out))
