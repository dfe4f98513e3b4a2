"""Re-check: what a check left to remove, stored per case, and the comparison of a new check with the last.

`snapshot` turns a report into the plain record the state keeps (what was suspicious and not yet gone,
by region and type, and what could not be seen); `compare` sets a new report beside the last record:
removed (gone since), left (still there), new (appeared since), and the gaps of the new check. `done`
only when nothing suspicious is left AND nothing was left unchecked. The root user's access keys count as
something left (ROOT_KEYS): the plan says to delete them, and a leaked one works wherever the rest is gone.
Pure: the state I/O is the caller's.

A check of several accounts is kept as one record with an entry per account, and compared account by
account (`compare_accounts`): what was left in one account is never counted as removed because another
account was checked. An account the new check could not reach is not done, whatever was left there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from triage.account.records import GLOBAL
from triage.account.region_names import RegionName, RegionNames
from triage.account.remediation import Clause, RemediationRules, clauses_of, costliest_first, left, resource_gaps
from triage.utc import utc_z

if TYPE_CHECKING:
    from triage.account.report import AccountNotChecked, AccountReport, AccountsReport

SNAPSHOT_VERSION = 1
ROOT_KEYS = "root-access-key"  # the type of the one entry that stands for the root user's access keys
ACCOUNTS_SNAPSHOT_VERSION = 2  # several accounts in one record: {"accounts": {id: the one-account entry}}


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
    account_id: str = ""
    order: tuple[str, ...] = ()  # region codes as the plan orders them (the costliest first)

    @property
    def done(self) -> bool:
        return not self.left and not self.new and not self.gaps

    def by_region(self, which: str) -> tuple[RegionFound, ...]:
        """`which`: removed | left | new; regions in the plan's order (the costliest first; a region the
        new check no longer lists, in code order after them), IAM and the account last."""
        found: tuple[Found, ...] = getattr(self, which)
        rank = {code: n for n, code in enumerate(self.order)}
        codes = sorted({f.region for f in found}, key=lambda c: (c == GLOBAL, rank.get(c, len(rank)), c))
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

    def found_of(self, region: RegionFound, resource_type: str) -> tuple[Found, ...]:
        """What of `resource_type` was found in `region` (the template names each by id and name)."""
        return tuple(f for f in region.found if f.resource_type == resource_type)

    def record(self) -> dict[str, Any]:
        """The `--json` line."""
        return {"type": "progress", "account_id": self.account_id, "case_id": self.case_id, "first": self.first,
                "removed": len(self.removed), "left": len(self.left), "new": len(self.new), "gaps": len(self.gaps),
                "done": self.done}


@dataclass(frozen=True)
class Unreached:
    """An account of the case the new check could not reach: what was left there is not known."""

    account_id: str
    reason: str
    left_before: int  # what the last check had left to remove there (0 when it was not checked before)
    checked_before: bool = False

    def record(self, case_id: str) -> dict[str, Any]:
        return {"type": "progress", "account_id": self.account_id, "case_id": case_id, "checked": False,
                "left_before": self.left_before, "done": False, "reason": self.reason}


@dataclass(frozen=True)
class AccountsProgress:
    """The comparison of a check of several accounts with the case's last one, account by account: the
    accounts with something left first, then those not reached, then those done."""

    case_id: str
    accounts: tuple[Progress, ...]
    unreached: tuple[Unreached, ...] = ()

    @property
    def first(self) -> bool:
        """No account of the check was checked before: nothing to compare with."""
        return all(p.first for p in self.accounts) and not any(u.checked_before for u in self.unreached)

    @property
    def done(self) -> bool:
        return all(p.done for p in self.accounts) and not self.unreached

    @property
    def open_accounts(self) -> tuple[Progress, ...]:
        """The accounts not done, the most left first."""
        return tuple(sorted((p for p in self.accounts if not p.done),
                            key=lambda p: (-len(p.left) - len(p.new), -len(p.gaps), p.account_id)))

    @property
    def done_accounts(self) -> tuple[Progress, ...]:
        return tuple(p for p in self.accounts if p.done)

    # All accounts together, for the headline and the reply to AWS (which speak of the case as a whole).
    @property
    def removed(self) -> tuple[Found, ...]:
        return tuple(f for p in self.accounts for f in p.removed)

    @property
    def left(self) -> tuple[Found, ...]:
        return tuple(f for p in self.accounts for f in p.left)

    @property
    def new(self) -> tuple[Found, ...]:
        return tuple(f for p in self.accounts for f in p.new)

    def by_region(self, which: str) -> tuple[RegionFound, ...]:
        return self._together.by_region(which) if self.accounts else ()

    def of_type(self, which: str, resource_type: str) -> tuple[Found, ...]:
        return tuple(f for p in self.accounts for f in p.of_type(which, resource_type))

    @property
    def _together(self) -> Progress:
        one = self.accounts[0]
        return Progress(self.case_id, self.first, one.before_at, self.removed, self.left, self.new,
                        tuple(g for p in self.accounts for g in p.gaps), one.region_names, one.rules,
                        order=tuple(dict.fromkeys(c for p in self.accounts for c in p.order)))

    def records(self) -> list[dict[str, Any]]:
        """The `--json` lines, one per account."""
        return [*(p.record() for p in (*self.open_accounts, *self.done_accounts)),
                *(u.record(self.case_id) for u in self.unreached)]


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
        "suspicious": [[f.region, f.resource_type, f.id, f.name] for f in sorted(to_remove(report, rules))],
        "gaps": list(unchecked(report)),
    }


def snapshot_accounts(many: AccountsReport, rules: RemediationRules,
                      before: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The record the state keeps for one check of several accounts: an entry per account checked. An
    account not reached this time keeps its entry of the last record: what was left there is still the
    last thing known, and the next re-check compares with it."""
    from triage.account.report import AccountReport

    checked = [r for r in many.reports if isinstance(r, AccountReport)]
    earlier = accounts_of(before)
    entries: dict[str, Any] = {r.account_id: snapshot(r, rules) for r in checked}
    entries.update({r.account_id: earlier[r.account_id] for r in many.not_checked if r.account_id in earlier})
    return {
        "version": ACCOUNTS_SNAPSHOT_VERSION,
        "checked_at": utc_z(checked[0].checked_at) if checked else None,
        "management_account": many.management_account,
        "accounts": entries,
        "not_checked": [r.account_id for r in many.not_checked if r.account_id],
    }


def accounts_of(before: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The one-account entries of a kept record (of one account or of several), by account id."""
    if not before:
        return {}
    if before.get("version") == ACCOUNTS_SNAPSHOT_VERSION:
        entries = before.get("accounts")
        return {str(k): v for k, v in entries.items() if isinstance(v, Mapping)} if isinstance(entries, Mapping) else {}
    return {str(before.get("account_id", "")): before}


def recheck_scope(before: Mapping[str, Any] | None) -> tuple[tuple[str, ...], bool]:
    """Which accounts a re-check reads: those the last check covered (and could not reach), and whether
    it swept a whole Organization. Nothing kept, or one account: ((), False), the usual check."""
    if not before or before.get("version") != ACCOUNTS_SNAPSHOT_VERSION:
        return (), False
    wanted = [*accounts_of(before), *(str(a) for a in before.get("not_checked", ()) if a)]
    return tuple(dict.fromkeys(wanted)), bool(before.get("management_account"))


def compare_accounts(case_id: str, before: Mapping[str, Any] | None, many: AccountsReport,
                     rules: RemediationRules) -> AccountsProgress:
    """Each account of the new check against its own entry in the last record."""
    from triage.account.report import AccountReport

    earlier = accounts_of(before)
    progress = tuple(compare(case_id, earlier.get(r.account_id), r, rules) for r in many.reports
                     if isinstance(r, AccountReport))
    unreached = tuple(_unreached(r, earlier.get(r.account_id)) for r in many.not_checked)
    return AccountsProgress(case_id, progress, unreached)


def _unreached(report: AccountNotChecked, before: Mapping[str, Any] | None) -> Unreached:
    left_before = len(list(_entries(before.get("suspicious", ())))) if before else 0
    return Unreached(report.account_id, report.reason, left_before, checked_before=before is not None)


def compare(case_id: str, before: Mapping[str, Any] | None, report: AccountReport,
            rules: RemediationRules) -> Progress:
    if before is not None and before.get("version") == ACCOUNTS_SNAPSHOT_VERSION:
        before = accounts_of(before).get(report.account_id)  # the last check covered several accounts
    now = to_remove(report, rules)
    order = tuple(costliest_first(report, rules, (f.region for f in now if f.region != GLOBAL)))
    if before is None:
        return Progress(case_id, True, None, (), tuple(sorted(now)), (), unchecked(report), report.region_names, rules,
                        report.account_id, order)
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
        account_id=report.account_id,
        order=order,
    )


def to_remove(report: AccountReport, rules: RemediationRules) -> set[Found]:
    """What the owner still has to remove: the suspicious resources not gone yet, and the root user's
    access keys while there are any (AWS says only whether there are; they stand as one entry)."""
    found = {_found(r.region, r.resource_type, r.id, r.name) for r in left(report, rules)}
    if report.root is not None and report.root.access_keys:
        found.add(Found(GLOBAL, ROOT_KEYS, "root"))
    return found


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
