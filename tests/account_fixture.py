"""A fixed account report, read from a JSON file into the typed records the check itself builds.

The golden summaries of a case with a completed check (tests/golden/NAME+WHAT.txt) are rendered with the
report in tests/golden/NAME+WHAT.account.json, so the plan's wording is reviewed as a readable diff without
a moto server. What the check computes (the hourly burn, the spend in regions not swept, the region names)
is computed here the same way, from rules/.

The file holds the records as `check-account --json` names their fields. A resource may carry `"count": n`
to stand for n resources alike, its `id` then holding `{n}` (1..n), so forty instances are one entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from triage import paths
from triage.account import AccountReport
from triage.account.cost import hourly_burn, load_prices, unswept_spend
from triage.account.records import Gap, MonthCost, RegionPlan, RegionStatus, Resource, RootUser
from triage.account.region_names import load_region_names


def load_report(path: Path) -> AccountReport:
    data = json.loads(path.read_text(encoding="utf-8"))
    rules = paths.rules_dir()
    prices = load_prices(rules)
    resources = tuple(r for entry in data["resources"] for r in _resources(entry))
    swept = tuple(data["regions_swept"])
    skipped = {code: _gap({"region": code, "service": "ec2", **gap})
               for code, gap in data.get("regions_skipped", {}).items()}
    plan = RegionPlan(regions=tuple(RegionStatus(c, "ENABLED") for c in (*swept, *skipped)), swept=swept,
                      skipped=skipped, source="ec2:DescribeRegions")
    cost = _cost(data["cost"]) if data.get("cost") else None
    spend = unswept_spend(cost, plan)
    gaps = [*skipped.values(), *map(_gap, data.get("gaps", ())),
            *(Gap(code, "ce", "unswept-spend", f"Cost Explorer shows {usd:.2f} USD spent this month in this "
                  "region, which was not swept", "ce:GetCostAndUsage") for code, usd in spend.items())]
    root = data.get("root")
    return AccountReport(
        account_id=data["account_id"],
        caller_arn=data["caller_arn"],
        checked_at=datetime.fromisoformat(data["checked_at"]),
        incident_start=datetime.fromisoformat(data["incident_start"]) if data.get("incident_start") else None,
        window_start=datetime.fromisoformat(data["window_start"]),
        home_regions=tuple(data.get("home_regions", ())),
        plan=plan,
        resources=resources,
        gaps=tuple(gaps),
        root=RootUser(mfa=root["mfa"], access_keys=root["access_keys"]) if root else None,
        contact=None,
        cost=cost,
        forecast_usd=data.get("forecast_usd"),
        burn=hourly_burn(resources, prices),
        unswept_spend=spend,
        prices_source=prices.source,
        jpy_per_usd=float(data.get("jpy_per_usd", 150.0)),
        region_names=load_region_names(rules),
        seconds=float(data.get("seconds", 0.0)),
    )


def _resources(entry: Mapping[str, Any]) -> list[Resource]:
    count = int(entry.get("count", 1))
    made = []
    for n in range(1, count + 1):
        created = entry.get("created")
        made.append(Resource(
            region=entry["region"],
            service=entry["service"],
            resource_type=entry["resource_type"],
            id=str(entry["id"]).format(n=n) if "count" in entry else str(entry["id"]),
            state=entry.get("state"),
            created=datetime.fromisoformat(created) if created else None,
            detail=dict(entry.get("detail", {})),
            suspicious=bool(entry.get("suspicious", False)),
            reasons=tuple(entry.get("reasons", ())),
        ))
    return made


def _gap(entry: Mapping[str, Any]) -> Gap:
    return Gap(entry["region"], entry["service"], entry["kind"], entry["reason"], entry.get("what", ""))


def _cost(entry: Mapping[str, Any]) -> MonthCost:
    earlier = entry.get("earlier")
    return MonthCost(
        start=entry["start"],
        end=entry["end"],
        total_usd=float(entry["total_usd"]),
        by_service=dict(entry["by_service"]),
        by_region=dict(entry["by_region"]) if entry.get("by_region") is not None else None,
        estimated=bool(entry.get("estimated", False)),
        earlier=tuple((str(m), float(usd)) for m, usd in earlier) if earlier is not None else None,
    )
