"""Cost Explorer: this month's cost so far, by service and by region, the months before, and AWS's
forecast for the rest.

Each request costs the owner $0.01, so there are four: two grouped queries for this month (the total is
their sum), one for the earlier months' totals (is the account otherwise dormant?), and one forecast. The
three queries run one after the other in one task, in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from triage.account.collecting import Collector
from triage.account.failures import error_code, gap_for
from triage.account.records import GLOBAL, Forecast, Gap, MonthCost
from triage.account.sweep import Scope, Task, TaskResult

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient

SERVICE = "ce"
METRIC = "UnblendedCost"
EARLIER_MONTHS = 6  # the full months before this one whose totals are read
REGION = "us-east-1"  # Cost Explorer answers only in us-east-1 for the commercial partition


def _tasks(region: str, day: date) -> list[Task]:
    return [
        Task(GLOBAL, SERVICE, "ce:GetCostAndUsage", lambda scope: _month_to_date(scope, day)),
        Task(GLOBAL, SERVICE, "ce:GetCostForecast", lambda scope: _forecast(scope, day)),
    ]


def month_bounds(day: date) -> tuple[date, date]:
    """The first day of `day`'s month and the first of the next."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def _month_to_date(scope: Scope, day: date) -> TaskResult:
    first, _ = month_bounds(day)
    end = day + timedelta(days=1)  # End is exclusive: include today so far
    by_service, estimated = _grouped(scope, first, end, "SERVICE")
    try:
        by_region: dict[str, float] | None
        by_region, _ = _grouped(scope, first, end, "REGION")
        gaps: tuple[Gap, ...] = ()
    except (ClientError, BotoCoreError) as exc:
        by_region = None
        failed = gap_for(exc, GLOBAL, SERVICE, "ce:GetCostAndUsage")
        gaps = (replace(failed, reason=f"{failed.reason}; the spend per region is not known"),)
    try:
        earlier = _earlier_months(scope, first)
    except (ClientError, BotoCoreError) as exc:
        earlier = None
        failed = gap_for(exc, GLOBAL, SERVICE, "ce:GetCostAndUsage")
        gaps += (replace(failed, reason=f"{failed.reason}; the spend of the months before is not known"),)
    return TaskResult(gaps=gaps, facts=(MonthCost(
        start=first.isoformat(),
        end=end.isoformat(),
        total_usd=round(sum(by_service.values()), 2),
        by_service=by_service,
        by_region=by_region,
        estimated=estimated,
        earlier=earlier,
    ),))


def months_before(first: date, count: int = EARLIER_MONTHS) -> date:
    """The first day of the month `count` months before the month starting on `first`."""
    year, month = divmod(first.year * 12 + first.month - 1 - count, 12)
    return date(year, month + 1, 1)


def _earlier_months(scope: Scope, first: date) -> tuple[tuple[str, float], ...] | None:
    """Each full month before this one (its first day, USD), oldest first; None when AWS returns no periods."""
    ce: CostExplorerClient = scope.clients.client(SERVICE, REGION)
    totals: dict[str, float] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "TimePeriod": {"Start": months_before(first).isoformat(), "End": first.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": [METRIC],
        }
        if token:
            kwargs["NextPageToken"] = token
        answer = ce.get_cost_and_usage(**kwargs)
        for period in answer.get("ResultsByTime", []):
            start = str(period.get("TimePeriod", {}).get("Start", ""))
            amount = _amount(period.get("Total", {})) + sum(_amount(g.get("Metrics", {}))
                                                           for g in period.get("Groups", []))
            if start:
                totals[start] = totals.get(start, 0.0) + amount
        token = answer.get("NextPageToken")
        if not token:
            return tuple(sorted((k, round(v, 2)) for k, v in totals.items())) or None
        scope.check_time()


def _grouped(scope: Scope, start: date, end: date, dimension: str) -> tuple[dict[str, float], bool]:
    ce: CostExplorerClient = scope.clients.client(SERVICE, REGION)
    amounts: dict[str, float] = {}
    estimated = False
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "MONTHLY",
            "Metrics": [METRIC],
            "GroupBy": [{"Type": "DIMENSION", "Key": dimension}],
        }
        if token:
            kwargs["NextPageToken"] = token
        answer = ce.get_cost_and_usage(**kwargs)
        for period in answer.get("ResultsByTime", []):
            estimated = estimated or bool(period.get("Estimated"))
            for group in period.get("Groups", []):
                key = (group.get("Keys") or [""])[0] or "NoRegion"
                amounts[key] = amounts.get(key, 0.0) + _amount(group.get("Metrics", {}))
            if not period.get("Groups") and period.get("Total"):
                amounts["Total"] = amounts.get("Total", 0.0) + _amount(period.get("Total", {}))
        token = answer.get("NextPageToken")
        if not token:
            return amounts, estimated
        scope.check_time()


def _amount(metrics: Mapping[str, Any]) -> float:
    try:
        return float(metrics.get(METRIC, {}).get("Amount", 0.0))
    except (TypeError, ValueError):
        return 0.0


def _forecast(scope: Scope, day: date) -> TaskResult:
    _, following = month_bounds(day)
    ce: CostExplorerClient = scope.clients.client(SERVICE, REGION)
    try:
        answer = ce.get_cost_forecast(
            TimePeriod={"Start": day.isoformat(), "End": following.isoformat()},
            Metric="UNBLENDED_COST",
            Granularity="MONTHLY",
        )
    except ClientError as exc:
        if error_code(exc) == "DataUnavailableException":
            return TaskResult(gaps=(Gap(GLOBAL, SERVICE, "not-enough-data",
                                        "ce:GetCostForecast: AWS has too little cost history to forecast",
                                        "ce:GetCostForecast"),))
        raise
    try:
        rest = float(answer.get("Total", {}).get("Amount", 0.0))
    except (TypeError, ValueError):
        rest = 0.0
    return TaskResult(facts=(Forecast(rest_of_month_usd=rest),))


COLLECTOR = Collector(
    service=SERVICE,
    calls=("ce:GetCostAndUsage", "ce:GetCostForecast"),
    custom_tasks=_tasks,
    regional=False,
)
