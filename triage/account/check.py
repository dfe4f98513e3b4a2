"""One read-only check of the AWS account: who we are, every region, IAM, cost, suspicion, creators.

Order: STS says whose credentials these are (no credentials → `AwsCheckError`, the check does not run);
the sweep reads everything in parallel; suspicion is judged; CloudTrail is asked who created the
suspicious resources; the report is put together. Nothing here writes to AWS: every client carries the
guard, and a refused call ends the run with `RefusedAwsCall`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from triage import paths
from triage.account import cloudtrail
from triage.account.collectors.iam import apply_credential_report
from triage.account.cost import hourly_burn, load_prices, unswept_spend
from triage.account.plan import account_tasks, allowed_operations
from triage.account.records import (
    Contact,
    Creators,
    CredentialReport,
    Fact,
    Forecast,
    Gap,
    MonthCost,
    RegionPlan,
    RootUser,
)
from triage.account.region_names import load_region_names
from triage.account.report import AccountReport
from triage.account.session import Clients, open_session, whoami
from triage.account.suspicion import Suspicion, incident_window, judge
from triage.account.sweep import MAX_IN_FLIGHT, PER_REGION, REGION_TIMEOUT, Observer, RegionProgress, sweep
from triage.config import AwsSettings, BillingSettings
from triage.errors import AwsCheckError

log = logging.getLogger(__name__)
_F = TypeVar("_F")


@dataclass(frozen=True)
class SweepLimits:
    max_in_flight: int = MAX_IN_FLIGHT
    per_region: int = PER_REGION
    region_timeout: float = REGION_TIMEOUT


def check_account(
    aws: AwsSettings,
    billing: BillingSettings,
    *,
    incident_start: datetime | None = None,
    named_ids: Iterable[str] = (),
    rules_dir: Path | None = None,
    now: datetime | None = None,
    limits: SweepLimits = SweepLimits(),  # a frozen record: safe as a default
    observer: Observer | None = None,
    progress: RegionProgress | None = None,
) -> AccountReport:
    """Check the account the credentials belong to. `named_ids`: instance and key ids the AWS mail names."""
    rules_dir = rules_dir or paths.rules_dir()
    names = load_region_names(rules_dir)
    prices = load_prices(rules_dir)
    now = now or datetime.now(UTC)
    named = frozenset(named_ids)

    clients = Clients(open_session(aws.profile, allowed_operations()), pool_size=limits.per_region + 4)
    identity = whoami(clients)
    if identity.access_key_id and identity.access_key_id in named:
        raise AwsCheckError(
            f"refusing to check the account with access key {identity.access_key_id}: the AWS mail names it as "
            f"exposed; use other credentials (a separate read-only user or role)"
        )
    log.info("checking AWS account %s as %s", identity.account_id, identity.arn)

    found = sweep(account_tasks(clients, aws.regions, now.date()), clients, identity.account_id,
                  max_in_flight=limits.max_in_flight, per_region=limits.per_region,
                  region_timeout=limits.region_timeout, observer=observer, progress=progress)
    facts = found.facts
    window = incident_window(incident_start, now)
    resources = apply_credential_report(found.resources, _one(facts, CredentialReport))
    resources = judge(resources, Suspicion(window, frozenset(aws.home_regions), named))

    attribution = sweep(cloudtrail.attribution_tasks(resources, window, now), clients, identity.account_id,
                        max_in_flight=limits.max_in_flight, per_region=limits.per_region,
                        region_timeout=limits.region_timeout, observer=observer)
    resources = cloudtrail.apply_creators(resources, [f for f in attribution.facts if isinstance(f, Creators)])

    plan = _one(facts, RegionPlan)
    cost = _one(facts, MonthCost)
    forecast = _one(facts, Forecast)
    gaps: list[Gap] = [*(plan.skipped.values() if plan else ()), *found.gaps, *attribution.gaps]
    spend = unswept_spend(cost, plan)
    gaps += [Gap(region, "ce", "unswept-spend",
                 f"Cost Explorer shows {usd:.2f} USD spent this month in this region, which was not swept",
                 "ce:GetCostAndUsage")
             for region, usd in spend.items()]
    return AccountReport(
        account_id=identity.account_id,
        caller_arn=identity.arn,
        checked_at=now,
        incident_start=incident_start,
        window_start=window,
        home_regions=aws.home_regions,
        plan=plan,
        resources=tuple(resources),
        gaps=tuple(dict.fromkeys(gaps)),
        root=_one(facts, RootUser),
        contact=_one(facts, Contact),
        cost=cost,
        forecast_usd=round(cost.total_usd + forecast.rest_of_month_usd, 2) if cost and forecast else None,
        burn=hourly_burn(resources, prices),
        unswept_spend=spend,
        prices_source=prices.source,
        jpy_per_usd=billing.jpy_per_usd,
        region_names=names,
        seconds=found.seconds + attribution.seconds,
    )


def _one(facts: Iterable[Fact], kind: type[_F]) -> _F | None:
    for fact in facts:
        if isinstance(fact, kind):
            return fact
    return None
