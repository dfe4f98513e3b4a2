"""Re-check: what a check left to remove, stored per case, and the comparison of a new check with the last.

`snapshot` turns a report into the plain record the state keeps (what was suspicious and not yet gone,
by region and type, and what could not be seen); `compare` sets a new report beside the last record:
removed (gone since), left (still there), new (appeared since), and the gaps of the new check. `done`
only when nothing suspicious is left AND nothing was left unchecked. Pure: the state I/O is the caller's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from triage.account.records import GLOBAL
from triage.account.region_names import RegionName, RegionNames
from triage.account.remediation import Clause, RemediationRules, clauses_of, left, resource_gaps
from triage.utc import utc_z

if TYPE_CHECKING:
    from triage.account.report import AccountReport

SNAPSHOT_VERSION = 1


@dataclass(frozen=True, order=True)
class Found:
    region: str
    resource_type: str
    id: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class RegionFound:
    """Some of the comparison's resources in one region (or GLOBAL), for the reader."""

    region: RegionName
    found: tuple[Found, ...]
    clauses: tuple[Clause, ...]

    @property
    def is_global(self) -> bool:
        return self.region.code == GLOBAL


@dataclass(frozen=True)
class Progress:
    case_id: str
    first: bool  # there was no earlier check for the case: nothing to compare with
    before_at: datetime | None  # when the earlier check ran (None when first)
    removed: tuple[Found, ...]
    left: tuple[Found, ...]
    new: tuple[Found, ...]
    gaps: tuple[str, ...]  # what the new check could not see, one short English line each
    region_names: RegionNames
    rules: RemediationRules

    @property
    def done(self) -> bool:
        return not self.left and not self.new and not self.gaps

    def by_region(self, which: str) -> tuple[RegionFound, ...]:
        """`which`: removed | left | new; regions in code order, IAM and the account last."""
        found: tuple[Found, ...] = getattr(self, which)
        codes = sorted({f.region for f in found}, key=lambda c: (c == GLOBAL, c))
        out = []
        for code in codes:
            mine = tuple(sorted(f for f in found if f.region == code))
            # IAM and the account as a whole: the template names it
            name = RegionName(GLOBAL, GLOBAL) if code == GLOBAL else self.region_names.get(code)
            out.append(RegionFound(name, mine, clauses_of(((f.resource_type, f.label) for f in mine), self.rules)))
        return tuple(out)

    def of_type(self, which: str, resource_type: str) -> tuple[Found, ...]:
        found: tuple[Found, ...] = getattr(self, which)
        return tuple(f for f in found if f.resource_type == resource_type)

    def ids(self, region: RegionFound, resource_type: str) -> tuple[str, ...]:
        return tuple(f.id if f.name in ("", f.id) else f"{f.id}「{f.name}」" for f in region.found
                     if f.resource_type == resource_type)

    def record(self) -> dict[str, Any]:
        """The `--json` line."""
        return {"type": "progress", "case_id": self.case_id, "first": self.first, "removed": len(self.removed),
                "left": len(self.left), "new": len(self.new), "gaps": len(self.gaps), "done": self.done}


def unchecked(report: AccountReport) -> tuple[str, ...]:
    """What the check could not see that may hide a resource. A region that was not swept counts, unless
    Cost Explorer (read by region) shows no spend there this month: a region without spend holds nothing
    that bills."""
    out = [f"{g.region} {g.what or g.service}: {g.reason}" for g in resource_gaps(report)]
    month = report.cost.by_region if report.cost else None
    for name, gap, spend in report.skipped_regions:
        if month is None or spend:
            out.append(f"{name.code}: {gap.reason}")
    return tuple(dict.fromkeys(out))


def snapshot(report: AccountReport, rules: RemediationRules) -> dict[str, Any]:
    """The record the state keeps for one check of a case."""
    return {
        "version": SNAPSHOT_VERSION,
        "account_id": report.account_id,
        "checked_at": utc_z(report.checked_at),
        "suspicious": [[r.region, r.resource_type, r.id, r.name] for r in left(report, rules)],
        "gaps": list(unchecked(report)),
    }


def compare(case_id: str, before: Mapping[str, Any] | None, report: AccountReport,
            rules: RemediationRules) -> Progress:
    now = {_found(r.region, r.resource_type, r.id, r.name) for r in left(report, rules)}
    if before is None:
        return Progress(case_id, True, None, (), tuple(sorted(now)), (), unchecked(report), report.region_names, rules)
    earlier = {_found(*entry) for entry in _entries(before.get("suspicious", ()))}
    earlier_keys = set(map(_key, earlier))
    now_keys = set(map(_key, now))
    return Progress(
        case_id=case_id,
        first=False,
        before_at=_when(before.get("checked_at")),
        removed=tuple(sorted(f for f in earlier if _key(f) not in now_keys)),
        left=tuple(sorted(f for f in now if _key(f) in earlier_keys)),
        new=tuple(sorted(f for f in now if _key(f) not in earlier_keys)),
        gaps=unchecked(report),
        region_names=report.region_names,
        rules=rules,
    )


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _found(region: str, resource_type: str, id: str, name: str = "") -> Found:
    return Found(str(region), str(resource_type), str(id), str(name or ""))


def _key(f: Found) -> tuple[str, str, str]:
    return (f.region, f.resource_type, f.id)


def _entries(raw: Iterable[Any]) -> Iterable[tuple[str, str, str, str]]:
    for entry in raw:
        if isinstance(entry, list | tuple) and len(entry) >= 3:
            yield (str(entry[0]), str(entry[1]), str(entry[2]), str(entry[3]) if len(entry) > 3 else "")
