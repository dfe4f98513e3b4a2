"""What the running resources cost per hour (an estimate from rules/prices.toml), and the month's spend
per region reconciled with the sweep: money spent in a region triage did not sweep is flagged.

The estimate is triage's own arithmetic on list prices (on-demand, Linux, us-east-1); the summary says so.
AWS's own figures (month to date, forecast) come from Cost Explorer and are reported as they are.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from triage.account.collectors import UNPRICED_TYPES
from triage.account.records import MonthCost, RegionPlan, Resource
from triage.errors import RulesError

_SIZE = re.compile(r"^(?:(\d+)x)?large$")
_SMALL_SIZES = {"nano": 0.25, "micro": 0.5, "small": 1.0, "medium": 2.0}
_BILLING_INSTANCE_STATES = frozenset({"pending", "running"})
_GONE_VOLUME_STATES = frozenset({"deleting", "deleted"})
_REGION_CODE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True)
class PriceTable:
    large: Mapping[str, float]  # family -> USD/hour of its .large size
    exact: Mapping[str, float]  # instance type -> USD/hour, where sizes do not scale evenly
    volume_gb_month: Mapping[str, float]
    elastic_ip_hour: float
    hours_per_month: float
    source: str

    def instance_hour(self, instance_type: str) -> float | None:
        if instance_type in self.exact:
            return self.exact[instance_type]
        family, _, size = instance_type.partition(".")
        base = self.large.get(family)
        factor = _size_factor(size)
        if base is None or factor is None:
            return None
        return base * factor / 4.0


def _size_factor(size: str) -> float | None:
    """AWS's normalization factor (large = 4, xlarge = 8, 2xlarge = 16, ...)."""
    if size in _SMALL_SIZES:
        return _SMALL_SIZES[size]
    match = _SIZE.match(size)
    if not match:
        return None
    if size == "large":
        return 4.0
    return 8.0 * int(match.group(1) or 1)


def load_prices(rules_dir: Path) -> PriceTable:
    path = rules_dir / "prices.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return PriceTable(
            large={str(k): float(v) for k, v in data["instance_large"].items()},
            exact={str(k): float(v) for k, v in data.get("instance_exact", {}).items()},
            volume_gb_month={str(k): float(v) for k, v in data["volume_gb_month"].items()},
            elastic_ip_hour=float(data["hourly"]["elastic_ip"]),
            hours_per_month=float(data["hourly"]["hours_per_month"]),
            source=str(data.get("meta", {}).get("source", "")),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"cannot read the price table {path}: {exc}") from None


@dataclass(frozen=True)
class Burn:
    """triage's estimate of what the resources found cost per hour, at list prices."""

    hourly_usd: float
    by_region: Mapping[str, float]
    running_instances: int
    unpriced_instance_types: Mapping[str, int]  # instance type -> running count without a price
    not_included: tuple[str, ...]  # resource types found that bill but are not in the estimate

    @property
    def daily_usd(self) -> float:
        return self.hourly_usd * 24


def hourly_burn(resources: Iterable[Resource], prices: PriceTable) -> Burn:
    by_region: dict[str, float] = {}
    unpriced: Counter[str] = Counter()
    running = 0
    not_included: set[str] = set()
    for r in resources:
        cost: float = 0.0
        if r.resource_type == "instance" and r.state in _BILLING_INSTANCE_STATES:
            running += 1
            itype = str(r.detail.get("instance_type", ""))
            price = prices.instance_hour(itype)
            if price is None:
                unpriced[itype or "?"] += 1
            else:
                cost = price
        elif r.resource_type == "volume" and r.state not in _GONE_VOLUME_STATES:
            per_gb = prices.volume_gb_month.get(str(r.detail.get("volume_type", "")), prices.volume_gb_month["gp2"])
            cost = float(r.detail.get("size_gb", 0) or 0) * per_gb / prices.hours_per_month
        elif r.resource_type == "elastic-ip":
            cost = prices.elastic_ip_hour
        elif r.resource_type in UNPRICED_TYPES:  # billing, not in the price table: the summary names them
            not_included.add(r.resource_type)
        if cost:
            by_region[r.region] = by_region.get(r.region, 0.0) + cost
    return Burn(
        hourly_usd=round(sum(by_region.values()), 4),
        by_region={k: round(v, 4) for k, v in sorted(by_region.items())},
        running_instances=running,
        unpriced_instance_types=dict(unpriced),
        not_included=tuple(sorted(not_included)),
    )


def unswept_spend(cost: MonthCost | None, plan: RegionPlan | None, threshold_usd: float = 0.01) -> dict[str, float]:
    """Regions where Cost Explorer shows spend this month but the sweep did not look."""
    if cost is None or cost.by_region is None:
        return {}
    swept = set(plan.swept) if plan else set()
    return {
        region: round(amount, 2)
        for region, amount in sorted(cost.by_region.items())
        if _REGION_CODE.match(region) and region not in swept and amount >= threshold_usd
    }
