"""One collector per service. Each declares the calls it may make (CALLS, which contrib/iam-policy.json
must allow) and builds its tasks; none of them knows about threads, retries or gaps.
"""

from __future__ import annotations

from triage.account.collectors import (
    autoscaling,
    awslambda,
    contact,
    costexplorer,
    ec2,
    ecs,
    iam,
    lightsail,
    organizations,
    sagemaker,
)

# Per region; each module has `SERVICE`, `CALLS` and `tasks(region, available_services)`.
REGIONAL = (ec2, autoscaling, awslambda, ecs, sagemaker, lightsail)
# Account-wide; each module has `CALLS` and `tasks()` (Cost Explorer's takes the day).
ACCOUNT_WIDE = (iam, organizations, contact, costexplorer)

__all__ = ["ACCOUNT_WIDE", "REGIONAL"]
