"""The work of one check: the account-wide tasks, and the region list whose follow-ups are the regional
tasks of every region to sweep. Also the complete list of calls triage can make (for the IAM policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from triage.account import cloudtrail, regions
from triage.account.collectors import ACCOUNT_WIDE, REGIONAL, contact, costexplorer, iam, organizations
from triage.account.session import Clients
from triage.account.sweep import Task

IDENTITY_CALLS = ("sts:GetCallerIdentity",)


def all_calls() -> frozenset[str]:
    """Every AWS operation triage can call, as IAM names it."""
    calls = set(IDENTITY_CALLS) | set(regions.CALLS) | set(cloudtrail.CALLS)
    for module in (*REGIONAL, *ACCOUNT_WIDE):
        calls.update(module.CALLS)
    return frozenset(calls)


def allowed_operations() -> dict[str, frozenset[str]]:
    """The declared calls by botocore service name (for the services triage uses, IAM's prefix is it)."""
    by_service: dict[str, set[str]] = {}
    for call in all_calls():
        prefix, operation = call.split(":", 1)
        by_service.setdefault(prefix, set()).add(operation)
    return {service: frozenset(ops) for service, ops in by_service.items()}


def regional_tasks(clients: Clients) -> regions.RegionalTasks:
    """Builds one region's tasks, leaving out services botocore does not know in that region."""
    where = {m.SERVICE: frozenset(clients.available_regions(m.SERVICE)) for m in REGIONAL}

    def build(region: str) -> list[Task]:
        available = frozenset(service for service, known in where.items() if region in known)
        return [t for m in REGIONAL for t in m.tasks(region, available)]

    return build


def account_tasks(clients: Clients, wanted: Sequence[str] | None, today: date) -> list[Task]:
    return [
        regions.discovery_task(wanted, regional_tasks(clients)),
        *iam.tasks(),
        *organizations.tasks(),
        *contact.tasks(),
        *costexplorer.tasks(today),
    ]
