"""Lambda functions in one region. The API gives no creation date; `last_modified` stands in for it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

SERVICE = "lambda"


def _functions(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for f in page.get("Functions", []):
        modified = as_utc(f.get("LastModified"))
        yield Resource(
            scope.region, SERVICE, "lambda-function", f["FunctionName"],
            state=f.get("State") or None,
            detail={
                "name": f["FunctionName"],
                "runtime": f.get("Runtime", ""),
                "last_modified": modified.isoformat() if modified else "",
            },
        )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("lambda:ListFunctions",),
    kinds=(Kind("lambda-function", 80, "https://{r}.console.aws.amazon.com/lambda/home?region={r}#/functions"),),
    listings=(Listing("lambda:ListFunctions", _functions),),
)
