"""The work of one check: the account-wide tasks, and the region list whose follow-ups are the regional
tasks of every region to sweep. Also the complete list of calls triage can make (for the IAM policy).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from triage.account import cloudtrail, regions
from triage.account.collectors import ACCOUNT_WIDE, REGIONAL, declared_calls
from triage.account.records import GLOBAL
from triage.account.session import Clients
from triage.account.sweep import Task

IDENTITY_CALLS = ("sts:GetCallerIdentity",)


def all_calls() -> frozenset[str]:
    """Every AWS operation triage can call, as IAM names it."""
    return frozenset({*IDENTITY_CALLS, *regions.CALLS, *cloudtrail.CALLS, *declared_calls()})


def allowed_operations() -> dict[str, frozenset[str]]:
    """The declared calls by botocore service name (for the services triage uses, IAM's prefix is it)."""
    by_service: dict[str, set[str]] = {}
    for call in all_calls():
        prefix, operation = call.split(":", 1)
        by_service.setdefault(prefix, set()).add(operation)
    return {service: frozenset(ops) for service, ops in by_service.items()}


def regional_tasks(clients: Clients, today: date) -> regions.RegionalTasks:
    """Builds one region's tasks, leaving out services botocore does not know in that region."""
    where = {c.service: frozenset(clients.available_regions(c.service)) for c in REGIONAL if not c.everywhere}

    def build(region: str) -> list[Task]:
        return [t for c in REGIONAL if c.everywhere or region in where[c.service] for t in c.tasks(region, today)]

    return build


def account_tasks(clients: Clients, wanted: Sequence[str] | None, today: date) -> list[Task]:
    return [
        regions.discovery_task(wanted, regional_tasks(clients, today)),
        *(t for c in ACCOUNT_WIDE for t in c.tasks(GLOBAL, today)),
    ]


def policy_json() -> str:
    """contrib/iam-policy.json: the least-privilege policy allowing exactly `all_calls()` (a test compares)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TriageReadOnlyAccountCheck",
            "Effect": "Allow",
            "Action": sorted(all_calls()),
            "Resource": "*",
        }],
    }
    return json.dumps(policy, indent=2) + "\n"
