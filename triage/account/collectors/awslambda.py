"""Lambda functions in one region. The API gives no creation date; `last_modified` stands in for it."""

from __future__ import annotations

from triage.account.collectors._util import as_utc
from triage.account.records import Resource
from triage.account.sweep import Scope, Task, TaskResult

SERVICE = "lambda"
CALLS = ("lambda:ListFunctions",)


def tasks(region: str, available: frozenset[str]) -> list[Task]:
    if SERVICE not in available:
        return []
    return [Task(region, SERVICE, "lambda:ListFunctions", _functions)]


def _functions(scope: Scope) -> TaskResult:
    out = []
    for page in scope.clients.awslambda(scope.region).get_paginator("list_functions").paginate():
        for f in page.get("Functions", []):
            modified = as_utc(f.get("LastModified"))
            out.append(Resource(
                scope.region, SERVICE, "lambda-function", f["FunctionName"],
                state=f.get("State") or None,
                detail={
                    "name": f["FunctionName"],
                    "runtime": f.get("Runtime", ""),
                    "last_modified": modified.isoformat() if modified else "",
                },
            ))
        scope.check_time()
    return TaskResult(resources=tuple(out))
