"""The records a sweep produces: what was found, what could not be seen, and the facts about the account.

Plain frozen dataclasses, built by the collectors and never changed afterwards (the suspicion and
CloudTrail stages make new records with `dataclasses.replace`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GLOBAL = "global"  # the `region` of IAM, Organizations and other account-wide things


@dataclass(frozen=True)
class Resource:
    region: str  # a region code, or GLOBAL
    service: str  # ec2, iam, lambda, ...
    resource_type: str  # instance, volume, iam-user, ... (DESIGN's vocabulary)
    id: str
    state: str | None = None
    created: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    suspicious: bool = False
    reasons: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The Name tag or the resource's own name, when it has one besides its id."""
        return str(self.detail.get("name") or "")


GAP_KINDS = (
    "access-denied", "throttled", "timed-out", "region-disabled", "region-changing", "excluded", "unavailable",
    "unreachable", "not-enough-data", "truncated", "unswept-spend", "error",
)


@dataclass(frozen=True)
class Gap:
    """A part of the account triage did not see, and why. Never reported as "nothing found"."""

    region: str  # a region code, or GLOBAL
    service: str
    kind: str  # one of GAP_KINDS
    reason: str  # one English line, with the operation when there is one
    what: str = ""  # the call or listing that failed ("ec2:DescribeSnapshots"); "" for a whole region


@dataclass(frozen=True)
class RegionStatus:
    code: str
    status: str  # ENABLED | ENABLED_BY_DEFAULT | ENABLING | DISABLING | DISABLED | UNKNOWN


@dataclass(frozen=True)
class RegionPlan:
    """Which regions the account has, and which of them the sweep covers."""

    regions: tuple[RegionStatus, ...]
    swept: tuple[str, ...]
    skipped: Mapping[str, Gap]  # region -> why it is not swept
    source: str  # account:ListRegions | ec2:DescribeRegions | botocore


@dataclass(frozen=True)
class RootUser:
    mfa: bool
    access_keys: bool


@dataclass(frozen=True)
class CredentialRow:
    """One user's line of the IAM credential report (the parts triage uses)."""

    user: str
    password_enabled: bool
    password_last_used: datetime | None
    mfa_active: bool


@dataclass(frozen=True)
class CredentialReport:
    rows: Mapping[str, CredentialRow]  # by user name; "<root_account>" is the root user


@dataclass(frozen=True)
class MonthCost:
    """Cost Explorer's month-to-date figures (unblended cost, USD)."""

    start: str  # YYYY-MM-DD
    end: str  # exclusive
    total_usd: float
    by_service: Mapping[str, float]
    by_region: Mapping[str, float] | None  # None when the by-region query failed
    estimated: bool  # AWS marks the figures as not final yet
    # The full months before this one: (first day YYYY-MM-DD, USD), oldest first; None when not known
    earlier: tuple[tuple[str, float], ...] | None = None


@dataclass(frozen=True)
class Forecast:
    rest_of_month_usd: float


@dataclass(frozen=True)
class Contact:
    full_name: str
    company: str
    phone: str
    country: str


@dataclass(frozen=True)
class Creator:
    principal: str  # the user name or ARN that made the call
    access_key_id: str
    source_ip: str
    event: str
    time: datetime | None

    def as_dict(self) -> dict[str, str]:
        return {
            "principal": self.principal,
            "access_key_id": self.access_key_id,
            "source_ip": self.source_ip,
            "event": self.event,
            "time": self.time.isoformat() if self.time else "",
        }


@dataclass(frozen=True)
class Creators:
    region: str
    by_resource: Mapping[str, Creator]  # resource id or name -> who created it


Fact = RegionPlan | RootUser | CredentialReport | MonthCost | Forecast | Contact | Creators
