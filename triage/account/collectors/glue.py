"""Glue jobs in one region: Spark jobs billed per worker-hour, up to hundreds of workers, and a service
AWS's quarantine policy for leaked keys closes (glue:CreateJob)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from triage.account.collecting import Collector, Kind, Listing
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

SERVICE = "glue"


def _jobs(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    for j in page.get("Jobs", []):
        yield Resource(
            scope.region, SERVICE, "glue-job", j.get("Name", ""),
            created=as_utc(j.get("CreatedOn")),
            detail={
                "name": j.get("Name", ""),
                "command": j.get("Command", {}).get("Name", ""),  # glueetl, gluestreaming, pythonshell, glueray
                "worker_type": j.get("WorkerType", ""),
                "workers": j.get("NumberOfWorkers", 0),
                "max_capacity": j.get("MaxCapacity", 0),
                "role": j.get("Role", ""),
            },
        )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("glue:GetJobs",),
    kinds=(Kind("glue-job", 84, "https://{r}.console.aws.amazon.com/gluestudio/home?region={r}#/jobs"),),
    listings=(Listing("glue:GetJobs", _jobs),),
)
