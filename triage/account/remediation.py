"""The clean-up plan: the numbered steps of "■ いますぐやること", chosen from what an account check found.

AWS's order (notes/aws.md): secure the root login, then IAM by name, then the resources region by region
(the costliest first; inside a region what would re-create resources goes first, as rules/remediation.toml
orders it), then what could not be seen, then the bill, the reply and the re-check; last, for a dormant account,
closing it once the case is settled. This module only
chooses the steps and their facts; the Japanese sentences are in templates/_plan.txt.j2. It is pure: an
AccountReport in, a Plan out.

Not to be confused with `triage.account.plan`, the check's own task plan (what to read from AWS).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from triage.account import console
from triage.account.records import GLOBAL, Gap, Resource
from triage.account.region_names import RegionName
from triage.errors import RulesError

if TYPE_CHECKING:
    from triage.account.report import AccountNotChecked, AccountReport, AccountsReport

RULES_FILE = "remediation.toml"
NAMED_AT_MOST = 3  # a step names resources one by one up to this many, and counts them beyond
VERBS = frozenset({"delete", "terminate", "cancel", "deregister", "release"})


@dataclass(frozen=True)
class Order:
    """One resource type's place in a region's clean-up, and what the console calls removing it."""

    resource_type: str
    verb: str
    names: bool


@dataclass(frozen=True)
class RemediationRules:
    order: tuple[Order, ...]
    recovery_rules: frozenset[str]  # rules whose mail says the root e-mail or password was changed
    gone_states: frozenset[str]  # states in which a resource no longer needs removing
    dormant_usd_per_month: float = 1.0  # at most this much a month before the incident: the account was idle

    def place(self, resource_type: str) -> tuple[int, Order]:
        for n, o in enumerate(self.order):
            if o.resource_type == resource_type:
                return n, o
        return len(self.order), Order(resource_type, "delete", names=True)


# Resources in these states are already on their way out (terminated instances stay listed for an hour).
GONE_STATES = frozenset({
    "shutting-down", "terminated", "deleting", "deleted", "cancelled", "closed", "cancelled_terminating",
    "cancelled_running", "deregistered", "failed", "Inactive", "INACTIVE",
})


def load_remediation_rules(rules_dir: Path) -> RemediationRules:
    path = rules_dir / RULES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        order = tuple(Order(str(o["type"]), str(o["verb"]), bool(o.get("names", False))) for o in data["order"])
        recovery = frozenset(str(r) for r in data.get("root", {}).get("recovery_rules", ()))
        dormant = float(data["dormant"]["usd_per_month"])
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"cannot read the clean-up order {path}: {exc}") from None
    for o in order:
        if o.verb not in VERBS:
            raise RulesError(f"{path}: type {o.resource_type}: verb {o.verb!r} is not one of {sorted(VERBS)}")
    return RemediationRules(order=order, recovery_rules=recovery, gone_states=GONE_STATES,
                            dormant_usd_per_month=dormant)


# --- the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """Some resources of one type in one step: counted, or named when there are few and the type is named."""

    resource_type: str
    count: int
    names: tuple[str, ...] = ()  # untrusted text (the intruder chose it): the template shows it inert


@dataclass(frozen=True)
class Clause:
    verb: str  # delete | terminate | cancel | deregister | release
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Step:
    """One numbered step. `kind` picks its sentence in templates/_plan.txt.j2; the rest are its facts."""

    kind: str
    link: str = ""  # the console screen for the step, built by triage; "" where the template knows it
    region: RegionName | None = None
    clauses: tuple[Clause, ...] = ()
    user: str = ""
    keys: int = 0
    admin: bool = False
    console_password: bool = False
    names: tuple[str, ...] = ()
    more: int = 0
    regions: tuple[RegionName, ...] = ()
    what: tuple[str, ...] = ()  # the calls that failed, for a step about a gap
    gap_kind: str = ""
    spend_usd: float = 0.0
    daily_usd: float = 0.0
    month_usd: float | None = None
    months: int = 0  # how many months before the incident `spend_usd` covers (close-account)
    account_id: str = ""  # the account the step is done in, when the plan covers several ("" : the one, or all)
    missing_credentials: bool = False  # account-unchecked: nothing in the config reaches the account
    via: str = ""  # account-unchecked: how triage tried to reach it (organization, role, profile)


@dataclass(frozen=True)
class AccountSteps:
    """The steps done in one account of several, under a heading that names it."""

    account_id: str
    steps: tuple[Step, ...]
    suspicious: int = 0  # what the check found there to remove (0: only what it could not see)
    checked: bool = True


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...] = field(default_factory=tuple)  # every step, in the order they are done
    # Several accounts: the steps by account (most suspicious first), the checked accounts with nothing to
    # do (one line), and the steps done once every account is done (the reply and the re-check).
    accounts: tuple[AccountSteps, ...] = ()
    clean: tuple[str, ...] = ()
    after: tuple[Step, ...] = ()

    def of_kind(self, kind: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind == kind)

    def of_account(self, account_id: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.account_id == account_id)


def build_plan(report: AccountReport, rules: RemediationRules, *, root_recovery: bool = False,
               case_id: str = "") -> Plan:
    """The steps for one completed check. `root_recovery`: a mail of the case says the root e-mail or
    password was changed. `case_id`: the case the re-check step names."""
    steps: list[Step] = []
    steps += _root_steps(report, root_recovery)
    steps += _iam_steps(report, rules)
    steps += _region_steps(report, rules)
    steps += _gap_steps(report)
    steps.append(Step("bill", daily_usd=report.burn.daily_usd, month_usd=report.month_to_date_usd))
    steps.append(Step("reply", names=(case_id,) if case_id else ()))
    idle = dormant_spend(report, rules)
    if idle is not None:
        steps.append(Step("close-account", spend_usd=idle[1], months=idle[0]))
    return Plan(tuple(steps))


def build_accounts_plan(many: AccountsReport, rules: RemediationRules, *, recovery_accounts: Iterable[str] = (),
                        case_id: str = "") -> Plan:
    """The steps for a check of several accounts, account by account: those with something suspicious
    first (the most suspicious first), then those that could not be checked, then those with nothing
    suspicious but with places the check could not see; the accounts with nothing to do share one line.
    Each step names its account. The reply and the re-check come once, after every account.
    `recovery_accounts`: the accounts whose root e-mail or password a mail of the case says was changed."""
    recovery = frozenset(recovery_accounts)
    found: list[AccountSteps] = []
    blind: list[AccountSteps] = []
    clean: list[str] = []
    for report in (*many.with_findings, *many.clean):
        steps = _account_steps(report, rules, root_recovery=report.account_id in recovery)
        todo = len(left(report, rules))
        if todo:
            found.append(AccountSteps(report.account_id, steps, todo))
            continue
        unseen = tuple(s for s in steps if s.kind in _BLIND_STEPS)
        if unseen:
            blind.append(AccountSteps(report.account_id, unseen))
        else:
            clean.append(report.account_id)
    unchecked = [AccountSteps(r.account_id, (_unchecked_step(r),), checked=False) for r in many.not_checked]
    accounts = (*found, *unchecked, *blind)
    after = (Step("reply", names=(case_id,) if case_id else ()),)
    return Plan(steps=(*(s for a in accounts for s in a.steps), *after), accounts=accounts, clean=tuple(clean),
                after=after)


# The steps that say what the check could not see and that could hide a resource: an account with nothing
# suspicious is still not done while it has one of these (quiet regions without spend are not).
_BLIND_STEPS = frozenset({"region-unseen", "region-partial", "global-unseen"})


def _account_steps(report: AccountReport, rules: RemediationRules, *, root_recovery: bool) -> tuple[Step, ...]:
    """One account's steps of several: its plan without the reply (said once for all), each naming it."""
    plan = build_plan(report, rules, root_recovery=root_recovery)
    return tuple(replace(s, account_id=report.account_id) for s in plan.steps if s.kind != "reply")


def _unchecked_step(report: AccountNotChecked) -> Step:
    return Step("account-unchecked", account_id=report.account_id, missing_credentials=report.missing_credentials,
                via=report.via)


def dormant_spend(report: AccountReport, rules: RemediationRules) -> tuple[int, float] | None:
    """(months, USD) the account spent of its own before the incident window, when that was at or near
    zero every month and everything the check found is suspicious; None when the account is in use or
    Cost Explorer did not say.

    A month counts when it ended before the window began (a month the intruder already spent in does not
    show the owner's own use). The checking identity's own IAM user and keys are the owner's tool, not use.
    """
    earlier = report.cost.earlier if report.cost else None
    window = report.window_start.date().isoformat()
    before = [usd for start, usd in earlier or () if _month_end(start) <= window]
    if not before or max(before) > rules.dormant_usd_per_month:
        return None
    checker = report.caller_arn.rsplit(":user/", 1)[1].rsplit("/", 1)[-1] if ":user/" in report.caller_arn else ""
    own = [r for r in report.resources if not r.suspicious and r.state not in rules.gone_states
           and not (checker and (r.id == checker or r.detail.get("user") == checker))]
    if own or not report.suspicious:
        return None
    return len(before), round(sum(before), 2)


def _month_end(first: str) -> str:
    """The first day of the month after the month starting on `first` (YYYY-MM-DD)."""
    year, month = int(first[:4]), int(first[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}-01"


def left(report: AccountReport, rules: RemediationRules) -> tuple[Resource, ...]:
    """The suspicious resources that still need removing."""
    return tuple(r for r in report.resources if r.suspicious and r.state not in rules.gone_states)


def resource_gaps(report: AccountReport) -> tuple[Gap, ...]:
    """The gaps that may hide a resource: not who created what (CloudTrail), not the forecast, and not the
    skipped regions (those are in `report.skipped_regions`)."""
    return tuple(g for g in report.gaps
                 if g.service not in _NOT_RESOURCES and g.kind != "unswept-spend"
                 and g.region not in report.regions_skipped)


_NOT_RESOURCES = frozenset({"cloudtrail", "ce", "account"})


def _root_steps(report: AccountReport, recovery: bool) -> list[Step]:
    steps = [Step("root-recover")] if recovery else []
    steps.append(Step("root-password"))
    if report.root is None:
        steps.append(Step("root-unknown"))
        return steps
    if not report.root.mfa:
        steps.append(Step("root-mfa"))
    if report.root.access_keys:
        steps.append(Step("root-keys"))
    return steps


def _iam_steps(report: AccountReport, rules: RemediationRules) -> list[Step]:
    odd = {r.id: r for r in left(report, rules) if r.region == GLOBAL}
    steps = []
    deleted: set[str] = set()
    for user in (r for r in odd.values() if r.resource_type == "iam-user"):
        keys = report.keys_of(user.id)
        if "aws-quarantine-policy" in user.reasons and "new-admin" not in user.reasons:
            continue  # a quarantined user of the owner's: its keys go, the user may stay (below)
        deleted.add(user.id)
        steps.append(Step("iam-user", link=console.resource_url(GLOBAL, "iam-user"), user=user.id,
                          keys=len([k for k in keys if k.state not in rules.gone_states]),
                          admin=bool(user.detail.get("admin")),
                          console_password=bool(user.detail.get("console_password"))))
    by_user: dict[str, list[str]] = {}
    for key in (r for r in odd.values() if r.resource_type == "access-key"):
        owner = str(key.detail.get("user", ""))
        if owner not in deleted:
            by_user.setdefault(owner, []).append(key.id)
    for user in (r for r in odd.values() if r.resource_type == "iam-user" and r.id not in deleted):
        by_user.setdefault(user.id, [])
    for owner, key_ids in sorted(by_user.items()):
        user_record = odd.get(owner)
        quarantined = bool(user_record and "aws-quarantine-policy" in user_record.reasons)
        steps.append(Step("iam-keys-quarantined" if quarantined else "iam-keys",
                          link=console.resource_url(GLOBAL, "access-key"), user=owner, names=tuple(sorted(key_ids)),
                          keys=len(key_ids)))
    for resource_type, kind in (("iam-role", "iam-roles"), ("identity-provider", "identity-providers"),
                                ("organization-account", "organization-accounts")):
        found = [r for r in odd.values() if r.resource_type == resource_type]
        if found:
            named = sorted(r.name or r.id for r in found)
            steps.append(Step(kind, link=console.resource_url(GLOBAL, resource_type),
                              names=tuple(named[:5]), more=max(0, len(named) - 5)))
    return steps


def costliest_first(report: AccountReport, rules: RemediationRules, codes: Iterable[str]) -> list[str]:
    """Region codes in the plan's order: what runs there now, then this month's spend, then how much is
    left to remove there, the most first."""
    todo = [r for r in left(report, rules) if r.region != GLOBAL]
    month = report.cost.by_region if report.cost and report.cost.by_region is not None else {}

    def cost(code: str) -> tuple[float, float, int, str]:
        return (-report.burn.by_region.get(code, 0.0), -month.get(code, 0.0),
                -sum(r.region == code for r in todo), code)

    return sorted(set(codes), key=cost)


def _region_steps(report: AccountReport, rules: RemediationRules) -> list[Step]:
    todo = [r for r in left(report, rules) if r.region != GLOBAL]
    month = report.cost.by_region if report.cost and report.cost.by_region is not None else {}
    steps = []
    for code in costliest_first(report, rules, (r.region for r in todo)):
        clauses = _clauses([r for r in todo if r.region == code], rules)
        first = clauses[0].items[0].resource_type
        steps.append(Step("region", link=console.resource_url(code, first), region=report.region_name(code),
                          clauses=clauses, daily_usd=report.burn.by_region.get(code, 0.0) * 24,
                          month_usd=month.get(code)))
    return steps


def _clauses(resources: Iterable[Resource], rules: RemediationRules) -> tuple[Clause, ...]:
    return clauses_of(((r.resource_type, r.name or r.id) for r in resources), rules)


def clauses_of(found: Iterable[tuple[str, str]], rules: RemediationRules) -> tuple[Clause, ...]:
    """(type, name or id) pairs by type in clean-up order; neighbouring types with the same verb share a clause."""
    by_type: dict[str, list[str]] = {}
    for resource_type, label in found:
        by_type.setdefault(resource_type, []).append(label)
    clauses: list[Clause] = []
    for resource_type in sorted(by_type, key=lambda t: (rules.place(t)[0], t)):
        _, order = rules.place(resource_type)
        labels = by_type[resource_type]
        names = tuple(sorted(labels)) if order.names and len(labels) <= NAMED_AT_MOST else ()
        item = Item(resource_type, len(labels), names)
        if clauses and clauses[-1].verb == order.verb:
            clauses[-1] = Clause(order.verb, (*clauses[-1].items, item))
        else:
            clauses.append(Clause(order.verb, (item,)))
    return tuple(clauses)


def _gap_steps(report: AccountReport) -> list[Step]:
    """What the check could not see gets steps of its own: never silence."""
    steps = []
    for name, gap, spend in report.skipped_with_spend:
        steps.append(Step("region-unseen", link=console.region_url(name.code), region=name, gap_kind=gap.kind,
                          spend_usd=spend))
    partial: dict[str, list[str]] = {}
    for gap in resource_gaps(report):
        if gap.region != GLOBAL:
            partial.setdefault(gap.region, []).append(gap.what or gap.service)
    # Regions missing the same listings share a step (a service AWS does not offer there, say).
    by_what: dict[tuple[str, ...], list[str]] = {}
    for code, calls in sorted(partial.items()):
        by_what.setdefault(tuple(dict.fromkeys(calls)), []).append(code)
    for missing, codes in by_what.items():
        one = codes[0]
        steps.append(Step("region-partial", link=console.region_url(one) if len(codes) == 1 else "",
                          region=report.region_name(one), regions=tuple(map(report.region_name, codes)),
                          what=missing))
    quiet = [name for name, _, spend in report.skipped_regions if not spend]
    if quiet:
        steps.append(Step("regions-unseen", regions=tuple(quiet)))
    unseen = [g for g in resource_gaps(report) if g.region == GLOBAL]
    if unseen:
        steps.append(Step("global-unseen", what=tuple(dict.fromkeys(g.what or g.service for g in unseen))))
    return steps
