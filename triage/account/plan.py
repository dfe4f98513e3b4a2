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
# Called with the default credentials only, to reach another account; never allowed inside an account
# (the session policy leaves it out), and the guard lets it through only with that session policy.
CREDENTIAL_CALLS = ("sts:AssumeRole",)
# AWS's limit for the plain text of a session policy; the packed (compressed) size AWS also checks is
# smaller than this for a policy of action names (PackedPolicySize in AssumeRole's answer says how much).
SESSION_POLICY_MAX_CHARS = 2048


def all_calls() -> frozenset[str]:
    """Every AWS operation triage can call, as IAM names it."""
    return frozenset({*IDENTITY_CALLS, *regions.CALLS, *cloudtrail.CALLS, *declared_calls()})


def allowed_operations() -> dict[str, frozenset[str]]:
    """The declared calls by botocore service name (for the services triage uses, IAM's prefix is it)."""
    by_service: dict[str, set[str]] = {}
    for call in (*all_calls(), *CREDENTIAL_CALLS):
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


def _policy() -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "TriageReadOnlyAccountCheck",
            "Effect": "Allow",
            "Action": sorted(all_calls()),
            "Resource": "*",
        }],
    }


def policy_json() -> str:
    """contrib/iam-policy.json: the least-privilege policy allowing exactly `all_calls()` (a test compares)."""
    return json.dumps(_policy(), indent=2) + "\n"


def session_policy() -> str:
    """The session policy passed on every AssumeRole: the same policy as contrib/iam-policy.json, compact.

    The role in a member account is often AdministratorAccess; with this policy the session can do only
    the intersection, so triage stays read-only there whatever the role allows.
    """
    text = json.dumps(_policy(), separators=(",", ":"))
    if len(text) > SESSION_POLICY_MAX_CHARS:  # a collector declared too many calls for AssumeRole to take
        raise ValueError(f"the session policy is {len(text)} characters; AWS takes at most {SESSION_POLICY_MAX_CHARS}")
    return text
