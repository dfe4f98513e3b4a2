"""The account report: every record of one check, the figures the reader needs, and the JSON lines.

`AccountReport` is what `check-account` prints and what the summary template receives as `account`;
`AccountNotChecked` stands in when the check could not start, so the summary can say why. The views
(`by_region`, `global_resources`, ...) group the records the way a worried reader looks at them: region
by region, suspicious first. They hold no Japanese: the templates and rules/regions.toml do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from triage.account import console
from triage.account.collectors import RESOURCE_TYPES
from triage.account.cost import Burn
from triage.account.records import GLOBAL, Contact, Gap, MonthCost, RegionPlan, Resource, RootUser
from triage.account.region_names import RegionName, RegionNames
from triage.utc import utc_z

# The order types are shown in, most expensive and most telling first (declared by the collectors).
TYPE_ORDER = RESOURCE_TYPES
_SAMPLE = 5
_MINING_REASONS = frozenset({"mining-instance-type", "mining-name"})


@dataclass(frozen=True)
class AccountNotChecked:
    """The check could not run at all (no credentials, a bad profile, a refused key, a role not assumed)."""

    reason: str
    checked: bool = False
    account_id: str = ""  # the account that was not checked, when one was wanted ("" : whichever)
    missing_credentials: bool = False  # nothing in the config reaches this account
    reached: str = ""  # the account the default credentials reach instead ("" when unknown)
    via: str = ""  # how triage tried to reach it: profile | role | organization | default


@dataclass(frozen=True)
class TypeGroup:
    """The resources of one type in one region, counted for the summary."""

    resource_type: str
    count: int
    suspicious: int
    states: tuple[tuple[str, int], ...]
    instance_types: tuple[tuple[str, int], ...]
    sample: tuple[Resource, ...]  # suspicious first
    console_url: str
    reasons: tuple[str, ...]  # every reason any of them is suspicious for, most common first
    creators: tuple[tuple[str, str], ...]  # who created the suspicious ones, by CloudTrail: (principal, ip)

    @property
    def more(self) -> int:
        return self.count - len(self.sample)


@dataclass(frozen=True)
class RegionView:
    code: str
    name: RegionName
    groups: tuple[TypeGroup, ...]
    count: int
    suspicious: int
    hourly_usd: float
    month_usd: float | None  # Cost Explorer's month to date for the region; None when not known
    gaps: tuple[Gap, ...]
    console_url: str
    event_history_url: str


@dataclass(frozen=True)
class AccountReport:
    account_id: str
    caller_arn: str
    checked_at: datetime
    incident_start: datetime | None
    window_start: datetime
    home_regions: tuple[str, ...]
    plan: RegionPlan | None
    resources: tuple[Resource, ...]
    gaps: tuple[Gap, ...]  # every gap, the skipped regions' included
    root: RootUser | None
    contact: Contact | None
    cost: MonthCost | None
    forecast_usd: float | None  # the whole month: month to date plus AWS's forecast for the rest
    burn: Burn
    unswept_spend: Mapping[str, float]  # region -> USD this month in a region not swept
    prices_source: str
    jpy_per_usd: float
    region_names: RegionNames
    seconds: float
    checked: bool = True
    via: str = "default"  # how the account was reached: default | profile | role | organization

    @property
    def findings(self) -> tuple[int, int]:
        """How suspicious the account looks, for putting accounts in order: the suspicious resources that
        look like mining (what runs up the bill), then all suspicious resources."""
        mining = sum(1 for r in self.suspicious if _MINING_REASONS & set(r.reasons))
        return mining, len(self.suspicious)

    # --- the account line ---------------------------------------------------------------------

    @property
    def regions_swept(self) -> tuple[str, ...]:
        return self.plan.swept if self.plan else ()

    @property
    def regions_skipped(self) -> dict[str, str]:
        return {code: gap.reason for code, gap in sorted(self.plan.skipped.items())} if self.plan else {}

    @property
    def suspicious(self) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.suspicious)

    @property
    def month_to_date_usd(self) -> float | None:
        return self.cost.total_usd if self.cost else None

    @property
    def hourly_burn_usd(self) -> float:
        return self.burn.hourly_usd

    @property
    def every_region_checked(self) -> bool:
        """True only when every region was swept and no regional listing failed."""
        return bool(self.plan) and not self.regions_skipped and not self.regional_gaps

    # --- views for the reader -----------------------------------------------------------------

    @property
    def regional_gaps(self) -> tuple[Gap, ...]:
        skipped = set(self.regions_skipped)
        return tuple(g for g in self.gaps if g.region != GLOBAL and g.region not in skipped)

    @property
    def global_gaps(self) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if g.region == GLOBAL)

    @property
    def skipped_regions(self) -> tuple[tuple[RegionName, Gap, float | None], ...]:
        """Each region not swept, why, and what Cost Explorer shows spent there this month."""
        if not self.plan:
            return ()
        return tuple((self.region_names.get(code), gap, self.unswept_spend.get(code))
                     for code, gap in sorted(self.plan.skipped.items()))

    @property
    def skipped_by_kind(self) -> tuple[tuple[str, tuple[RegionName, ...]], ...]:
        """Regions not swept and without spend this month, grouped by why (region-disabled, excluded, ...)."""
        kinds: dict[str, list[RegionName]] = {}
        for name, gap, spend in self.skipped_regions:
            if not spend:  # those with spend are listed one by one (skipped_with_spend)
                kinds.setdefault(gap.kind, []).append(name)
        return tuple((kind, tuple(names)) for kind, names in kinds.items())

    @property
    def skipped_with_spend(self) -> tuple[tuple[RegionName, Gap, float], ...]:
        """Regions not swept where Cost Explorer shows money spent this month: the reader must look there."""
        return tuple((name, gap, spend) for name, gap, spend in self.skipped_regions if spend)

    @property
    def top_services(self) -> tuple[tuple[str, float], ...]:
        """This month's cost by service, largest first (those of a cent or more)."""
        if not self.cost:
            return ()
        ranked = sorted(self.cost.by_service.items(), key=lambda kv: -kv[1])
        return tuple((name, amount) for name, amount in ranked if amount >= 0.01)

    def region_name(self, code: str) -> RegionName:
        return self.region_names.get(code)

    @property
    def by_region(self) -> tuple[RegionView, ...]:
        """Regions holding something or missing something, the most suspicious first."""
        codes = {r.region for r in self.resources if r.region != GLOBAL} | {g.region for g in self.regional_gaps}
        views = [self._region_view(code) for code in codes]
        views.sort(key=lambda v: (-v.suspicious, -v.count, v.code))
        return tuple(views)

    @property
    def empty_regions(self) -> tuple[RegionName, ...]:
        """Regions swept completely in which nothing was found."""
        busy = {r.region for r in self.resources} | {g.region for g in self.gaps}
        return tuple(self.region_names.get(c) for c in sorted(self.regions_swept) if c not in busy)

    def _region_view(self, code: str) -> RegionView:
        mine = [r for r in self.resources if r.region == code]
        return RegionView(
            code=code,
            name=self.region_names.get(code),
            groups=group_by_type(mine, code),
            count=len(mine),
            suspicious=sum(r.suspicious for r in mine),
            hourly_usd=self.burn.by_region.get(code, 0.0),
            month_usd=self.cost.by_region.get(code, 0.0) if self.cost and self.cost.by_region is not None else None,
            gaps=tuple(g for g in self.regional_gaps if g.region == code),
            console_url=console.region_url(code),
            event_history_url=console.event_history_url(code),
        )

    @property
    def global_groups(self) -> tuple[TypeGroup, ...]:
        return group_by_type([r for r in self.resources if r.region == GLOBAL], GLOBAL)

    def in_region(self, code: str) -> tuple[Resource, ...]:
        """The resources of one region (or GLOBAL) in reading order: by type, suspicious first, then id."""
        mine = [r for r in self.resources if r.region == code]
        return tuple(sorted(mine, key=lambda r: (_type_rank(r.resource_type), not r.suspicious, r.id)))

    def of_type(self, resource_type: str) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.resource_type == resource_type)

    def keys_of(self, user: str) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources if r.resource_type == "access-key" and r.detail.get("user") == user)


AnyReport = AccountReport | AccountNotChecked


@dataclass(frozen=True)
class AccountsReport:
    """The check of several accounts (those the mails name, or every account of an Organization): a report
    per account, the most suspicious first, then the clean ones, then the ones that could not be checked."""

    reports: tuple[AnyReport, ...]
    management_account: str = ""  # the Organization's management account, when its accounts were swept
    organization_gap: str = ""  # why the Organization's accounts could not be listed
    checked: bool = False  # not one account's report: the one-account template parts leave it alone

    @property
    def with_findings(self) -> tuple[AccountReport, ...]:
        found = [r for r in self.reports if isinstance(r, AccountReport) and r.suspicious]
        return tuple(sorted(found, key=lambda r: (-r.findings[0], -r.findings[1], -len(r.resources), r.account_id)))

    @property
    def clean(self) -> tuple[AccountReport, ...]:
        return tuple(r for r in self.reports if isinstance(r, AccountReport) and not r.suspicious)

    @property
    def not_checked(self) -> tuple[AccountNotChecked, ...]:
        return tuple(r for r in self.reports if isinstance(r, AccountNotChecked))

    @property
    def account_ids(self) -> tuple[str, ...]:
        return tuple(r.account_id for r in self.reports)

    def report_for(self, account_id: str) -> AnyReport | None:
        return next((r for r in self.reports if r.account_id == account_id), None)


# What the account check of a case gives the summary: one account's report (or why it was not checked), or
# the reports of several accounts.
CheckResult = AnyReport | AccountsReport


def group_by_type(resources: list[Resource], region: str) -> tuple[TypeGroup, ...]:
    groups = []
    for resource_type in sorted({r.resource_type for r in resources}, key=_type_rank):
        of_type = [r for r in resources if r.resource_type == resource_type]
        of_type.sort(key=lambda r: (not r.suspicious, r.created is None, r.created or 0, r.id))
        states = Counter(r.state or "-" for r in of_type)
        types = Counter(str(r.detail.get("instance_type")) for r in of_type if r.detail.get("instance_type"))
        reasons = Counter(reason for r in of_type for reason in r.reasons)
        creators = Counter(_creator(r) for r in of_type if r.suspicious and r.detail.get("created_by"))
        groups.append(TypeGroup(
            resource_type=resource_type,
            count=len(of_type),
            suspicious=sum(r.suspicious for r in of_type),
            states=tuple(states.most_common()),
            instance_types=tuple(types.most_common()),
            sample=tuple(of_type[:_SAMPLE]),
            console_url=console.resource_url(region, resource_type),
            reasons=tuple(reason for reason, _ in reasons.most_common()),
            creators=tuple(c for c, _ in creators.most_common()),
        ))
    return tuple(groups)


def _creator(r: Resource) -> tuple[str, str]:
    who = r.detail["created_by"]
    return str(who.get("principal") or who.get("access_key_id") or "?"), str(who.get("source_ip") or "")


def _type_rank(resource_type: str) -> int:
    return TYPE_ORDER.index(resource_type) if resource_type in TYPE_ORDER else len(TYPE_ORDER)


# --- JSON lines (DESIGN: check-account --json) ------------------------------------------------


def resource_record(r: Resource) -> dict[str, Any]:
    return {
        "type": "resource",
        "region": r.region,
        "service": r.service,
        "resource_type": r.resource_type,
        "id": r.id,
        "state": r.state,
        "created": utc_z(r.created),
        "detail": dict(r.detail),
        "suspicious": r.suspicious,
        "reasons": list(r.reasons),
    }


def gap_record(g: Gap) -> dict[str, Any]:
    return {"type": "gap", "region": g.region, "service": g.service, "reason": g.reason}


def account_record(report: AccountReport) -> dict[str, Any]:
    return {
        "type": "account",
        "account_id": report.account_id,
        "root_mfa": report.root.mfa if report.root else None,
        "root_access_keys": report.root.access_keys if report.root else None,
        "regions_swept": sorted(report.regions_swept),
        "regions_skipped": report.regions_skipped,
        "resources": len(report.resources),
        "suspicious": len(report.suspicious),
        "month_to_date_usd": report.month_to_date_usd,
        "forecast_usd": report.forecast_usd,
        "hourly_burn_usd": report.hourly_burn_usd,
    }


def not_checked_record(report: AccountNotChecked) -> dict[str, Any]:
    return {"type": "account-not-checked", "account_id": report.account_id, "reason": report.reason,
            "missing_credentials": report.missing_credentials}


def json_records(report: CheckResult) -> list[dict[str, Any]]:
    """Per account: resources (by region, then type), then gaps, then the account line last. Every line
    carries the account it is about."""
    if isinstance(report, AccountsReport):
        return [record for one in report.reports for record in json_records(one)]
    if isinstance(report, AccountNotChecked):
        return [not_checked_record(report)]
    ordered = sorted(report.resources, key=lambda r: (r.region == GLOBAL, r.region, _type_rank(r.resource_type), r.id))
    lines = [*map(resource_record, ordered), *map(gap_record, report.gaps)]
    return [*({"type": line["type"], "account_id": report.account_id, **line} for line in lines),
            account_record(report)]
