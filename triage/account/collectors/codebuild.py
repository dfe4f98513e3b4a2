"""CodeBuild projects in one region: a build runs whatever its project says, on machines up to GPU size,
and AWS's quarantine policy for leaked keys stops new ones (codebuild:CreateProject).

ListProjects gives names only; BatchGetProjects (a read, on the guard's allow-list) gives each project's
creation date and build environment, 100 names at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from triage.account.collecting import Collector, Kind, Listing, batches
from triage.account.records import Resource
from triage.account.sweep import Scope
from triage.account.tags_and_times import as_utc

if TYPE_CHECKING:
    from mypy_boto3_codebuild import CodeBuildClient

SERVICE = "codebuild"


def _projects(page: Mapping[str, Any], scope: Scope) -> Iterator[Resource]:
    client: CodeBuildClient = scope.client(SERVICE)
    for names in batches(page.get("projects", [])):
        for p in client.batch_get_projects(names=names).get("projects", []):
            environment: Mapping[str, Any] = p.get("environment", {})
            kind = str(environment.get("type", ""))
            yield Resource(
                scope.region, SERVICE, "codebuild-project", p.get("name", ""),
                created=as_utc(p.get("created")),
                detail={
                    "name": p.get("name", ""),
                    "environment_type": kind,  # LINUX_GPU_CONTAINER runs builds on a GPU
                    "compute_type": environment.get("computeType", ""),
                    "image": environment.get("image", ""),
                    "gpu": "GPU" in kind,
                },
            )


COLLECTOR = Collector(
    service=SERVICE,
    calls=("codebuild:ListProjects", "codebuild:BatchGetProjects"),
    kinds=(Kind("codebuild-project", 82, "https://{r}.console.aws.amazon.com/codesuite/codebuild/projects?region={r}"),),
    listings=(Listing("codebuild:ListProjects", _projects),),
)
