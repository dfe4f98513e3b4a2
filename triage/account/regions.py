"""Which regions the account has, which the sweep covers, and what each is called in Japanese.

The account's own list comes from account:ListRegions (with each region's opt-in status); where that is
not allowed or not answered, ec2:DescribeRegions(AllRegions=True); where neither works, every region
botocore knows, with a gap saying so. A region that is not enabled cannot be read but can still hold
resources and bill: it is a gap, never silently left out. A region of another partition (China, GovCloud)
is not the account's: the credentials cannot reach it, and it is left out of the list. Japanese names are
data (rules/regions.toml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from triage.account.collecting import paginate
from triage.account.failures import gap_for
from triage.account.records import GLOBAL, Gap, RegionPlan, RegionStatus
from triage.account.sweep import Scope, Task, TaskResult

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

CALLS = ("account:ListRegions", "ec2:DescribeRegions")

# A region being disabled still holds (and bills for) its resources while AWS works: sweep it. One being
# enabled holds nothing yet and does not answer: say so.
SWEPT_STATUSES = frozenset({"ENABLED", "ENABLED_BY_DEFAULT", "DISABLING", "UNKNOWN"})
_ALL_STATUSES = ["ENABLED", "ENABLED_BY_DEFAULT", "ENABLING", "DISABLING", "DISABLED"]
_EC2_STATUS = {"opt-in-not-required": "ENABLED_BY_DEFAULT", "opted-in": "ENABLED", "not-opted-in": "DISABLED"}


# --- discovery --------------------------------------------------------------------------------

# Builds the regional tasks of one region that will be swept.
RegionalTasks = Callable[[str], Sequence[Task]]


def discovery_task(wanted: Sequence[str] | None, regional: RegionalTasks) -> Task:
    """The task that lists the regions and hands back the regional tasks of those to sweep."""

    def run(scope: Scope) -> TaskResult:
        statuses, source, gaps = _list_regions(scope)
        # An answer may list regions of other partitions (moto's does: China, GovCloud); the credentials
        # cannot reach them and the account has nothing there. The configured regions are still tried.
        statuses = [s for s in statuses if scope.clients.in_partition(s.code)]
        plan = plan_regions(statuses, wanted, source)
        more = tuple(t for region in plan.swept for t in regional(region))
        return TaskResult(gaps=tuple(gaps), facts=(plan,), more=more)

    return Task(GLOBAL, "account", "account:ListRegions", run)


def _list_regions(scope: Scope) -> tuple[list[RegionStatus], str, list[Gap]]:
    gaps: list[Gap] = []
    try:
        statuses: list[RegionStatus] = []
        for page in paginate(scope, "account", "ListRegions", RegionOptStatusContains=_ALL_STATUSES):
            statuses.extend(RegionStatus(r["RegionName"], r.get("RegionOptStatus", "UNKNOWN"))
                            for r in page.get("Regions", []))
        if statuses:
            return statuses, "account:ListRegions", gaps
    except (ClientError, BotoCoreError):
        pass  # the fallback below answers; DescribeRegions shows the same opt-in states
    try:
        ec2: EC2Client = scope.clients.client("ec2", GLOBAL)
        answer = ec2.describe_regions(AllRegions=True)
        statuses = [RegionStatus(r["RegionName"], _EC2_STATUS.get(r.get("OptInStatus", ""), "UNKNOWN"))
                    for r in answer.get("Regions", [])]
        if statuses:
            return statuses, "ec2:DescribeRegions", gaps
    except (ClientError, BotoCoreError) as exc:
        gap = gap_for(exc, GLOBAL, "ec2", "account:ListRegions and ec2:DescribeRegions")
        gaps.append(Gap(GLOBAL, "account", gap.kind,
                        f"{gap.reason}; swept every region botocore knows, without their opt-in status",
                        "account:ListRegions"))
    known = scope.clients.available_regions("ec2")
    return [RegionStatus(code, "UNKNOWN") for code in known], "botocore", gaps


def plan_regions(statuses: Iterable[RegionStatus], wanted: Sequence[str] | None, source: str) -> RegionPlan:
    """Sweep every region that can hold resources, or only `wanted`; every other region is a gap."""
    regions = sorted(statuses, key=lambda s: s.code)
    known = {s.code for s in regions}
    swept: list[str] = []
    skipped: dict[str, Gap] = {}
    for s in regions:
        if wanted is not None and s.code not in wanted:
            skipped[s.code] = Gap(s.code, "all", "excluded",
                                  "not in the configured regions ([aws] regions or --regions)")
        elif s.status == "ENABLING":
            skipped[s.code] = Gap(s.code, "all", "region-changing",
                                  "the region is still being enabled for this account; it cannot be listed yet")
        elif s.status not in SWEPT_STATUSES:
            skipped[s.code] = Gap(s.code, "all", "region-disabled",
                                  f"the region is not enabled for this account ({s.status}); "
                                  f"resources left there cannot be listed")
        else:
            swept.append(s.code)
    for code in wanted or ():
        if code not in known:
            swept.append(code)  # a region the list did not show: try it; errors become gaps
    return RegionPlan(regions=tuple(regions), swept=tuple(swept), skipped=skipped, source=source)
