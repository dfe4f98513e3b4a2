"""One read-only check of AWS accounts: who we are, every region, IAM, cost, suspicion, creators.

Order: the accounts are chosen and reached (`accounts`), STS saying whose credentials each are (an account
not reached is an `AccountNotChecked`; for the single default account, `AwsCheckError`);
one sweep reads every account and region in one pool; suspicion is judged; CloudTrail is asked who created the
suspicious resources; the report is put together. Nothing here writes to AWS: every client carries the
guard, and a refused call ends the run with `RefusedAwsCall`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from triage import paths
from triage.account import cloudtrail
from triage.account.accounts import Opened, select_accounts
from triage.account.collectors.iam import apply_credential_report
from triage.account.cost import PriceTable, hourly_burn, load_prices, unswept_spend
from triage.account.plan import account_tasks
from triage.account.records import (
    Contact,
    Creators,
    CredentialReport,
    Fact,
    Forecast,
    Gap,
    MonthCost,
    RegionPlan,
    Resource,
    RootUser,
)
from triage.account.region_names import RegionNames, load_region_names
from triage.account.report import AccountNotChecked, AccountReport, AccountsReport, AnyReport
from triage.account.suspicion import Suspicion, incident_window, judge, load_mining_signs
from triage.account.sweep import (
    MAX_IN_FLIGHT,
    MAX_IN_FLIGHT_TOTAL,
    PER_REGION,
    REGION_TIMEOUT,
    AccountWork,
    Observer,
    RegionProgress,
    SweepResult,
    Task,
    sweep_accounts,
)
from triage.config import AwsSettings, BillingSettings
from triage.errors import AwsCheckError

log = logging.getLogger(__name__)
_F = TypeVar("_F")


@dataclass(frozen=True)
class SweepLimits:
    max_in_flight: int = MAX_IN_FLIGHT  # in one account
    per_region: int = PER_REGION  # in one region of one account
    region_timeout: float = REGION_TIMEOUT
    total_in_flight: int = MAX_IN_FLIGHT_TOTAL  # in all accounts together, when several are checked


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
    """Check the account the default credentials belong to. `named_ids`: instance and key ids the AWS mail
    names. No credentials, or the exposed key: `AwsCheckError`."""
    report = check_accounts(aws, billing, incident_start=incident_start, named_ids=named_ids, rules_dir=rules_dir,
                            now=now, limits=limits, observer=observer, progress=progress).reports[0]
    if isinstance(report, AccountNotChecked):
        raise AwsCheckError(report.reason)
    return report


def check_accounts(
    aws: AwsSettings,
    billing: BillingSettings,
    *,
    named_accounts: Sequence[str] = (),
    all_accounts: bool = False,
    organization_notice: bool = False,
    incident_start: datetime | None = None,
    named_ids: Iterable[str] = (),
    rules_dir: Path | None = None,
    now: datetime | None = None,
    limits: SweepLimits = SweepLimits(),
    observer: Observer | None = None,
    progress: RegionProgress | None = None,
) -> AccountsReport:
    """Check the accounts the mail names (`named_accounts`), every account of the Organization
    (`all_accounts`, or a notice about it / a mail naming its management account, with [aws]
    organization_role), or else the default credentials' account; all of them in one bounded pool."""
    rules_dir = rules_dir or paths.rules_dir()
    names = load_region_names(rules_dir)
    prices = load_prices(rules_dir)
    now = now or datetime.now(UTC)
    named = frozenset(named_ids)
    selection = select_accounts(aws, named_accounts=named_accounts, all_accounts=all_accounts,
                                organization_notice=organization_notice, exposed_keys=named,
                                # a client carries the calls of every account reached from its credentials
                                pool_size=max(limits.per_region, limits.total_in_flight) + 4)
    opened = selection.opened
    for one in opened:
        log.info("checking AWS account %s as %s", one.identity.account_id, one.identity.arn)

    def run(tasks_of: Callable[[Opened], list[Task]]) -> dict[str, SweepResult]:
        work = [AccountWork(o.identity.account_id, o.clients, tuple(tasks_of(o))) for o in opened]
        return sweep_accounts(work, max_in_flight=min(limits.total_in_flight, limits.max_in_flight * len(work)),
                              per_account=limits.max_in_flight, per_region=limits.per_region,
                              region_timeout=limits.region_timeout, observer=observer, progress=progress)

    found = run(lambda o: account_tasks(o.clients, aws.regions, now.date()))
    window = incident_window(incident_start, now)
    suspicion = Suspicion(window, load_mining_signs(rules_dir), frozenset(aws.home_regions), named)
    judged = {account: judge(apply_credential_report(f.resources, _one(f.facts, CredentialReport)), suspicion)
              for account, f in found.items()}
    attribution = run(lambda o: cloudtrail.attribution_tasks(judged[o.identity.account_id], window, now))
    reports: list[AnyReport] = []  # in the order the accounts were chosen: the management account first
    for one in opened:
        account = one.identity.account_id
        resources = cloudtrail.apply_creators(
            judged[account], [f for f in attribution[account].facts if isinstance(f, Creators)])
        reports.append(_report(one, found[account], attribution[account], resources, aws, billing, names, prices,
                               incident_start, window, now))
    return AccountsReport(reports=(*reports, *selection.not_checked),
                          management_account=selection.management_account,
                          organization_gap=selection.organization_gap)


def _report(one: Opened, found: SweepResult, attribution: SweepResult, resources: list[Resource], aws: AwsSettings,
            billing: BillingSettings, names: RegionNames, prices: PriceTable, incident_start: datetime | None,
            window: datetime, now: datetime) -> AccountReport:
    facts = found.facts
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
        account_id=one.identity.account_id,
        caller_arn=one.identity.arn,
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
        via=one.target.via,
    )


def _one(facts: Iterable[Fact], kind: type[_F]) -> _F | None:
    for fact in facts:
        if isinstance(fact, kind):
            return fact
    return None
