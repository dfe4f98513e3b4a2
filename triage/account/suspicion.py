"""Why a resource may not be the owner's: each resource gets `suspicious` and the reasons, as codes.

The codes are what `--json` prints and what the templates turn into Japanese; this module knows no
Japanese. The incident window starts a week before the first alert (attackers often act days before
AWS writes), or a week before now when the check runs on its own.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from triage.account.records import GLOBAL, Resource
from triage.account.tags_and_times import as_utc
from triage.errors import RulesError

WINDOW_BEFORE_ALERT = timedelta(days=7)

_BIG_COMPUTE = re.compile(r"^c\d+[a-z]*\.(\d+)xlarge$")  # a compute-optimized size: c5.18xlarge


@dataclass(frozen=True)
class MiningSigns:
    """rules/mining.toml: the instance families and names that point to a crypto-miner."""

    gpu_families: frozenset[str]
    big_compute_min_xlarge: int
    names: re.Pattern[str]

    def is_mining_type(self, instance_type: str) -> bool:
        """True for a GPU or accelerator family, or a big compute-optimized size; `instance_type` may list
        several, comma-separated, and may carry SageMaker's `ml.` prefix."""
        for one in instance_type.split(","):
            one = one.strip().removeprefix("ml.")
            if one.partition(".")[0] in self.gpu_families:
                return True
            big = _BIG_COMPUTE.match(one)
            if big and int(big.group(1)) >= self.big_compute_min_xlarge:
                return True
        return False


def load_mining_signs(rules_dir: Path) -> MiningSigns:
    path = rules_dir / "mining.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        words = [str(w) for w in data["names"]]
        return MiningSigns(gpu_families=frozenset(str(f) for f in data["gpu_families"]),
                           big_compute_min_xlarge=int(data["big_compute_min_xlarge"]),
                           names=re.compile("|".join(f"(?:{w})" for w in words) or r"(?!)", re.I))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, re.error) as exc:
        raise RulesError(f"cannot read the mining signs {path}: {exc}") from None


REASONS = (
    "named-in-aws-mail",
    "created-in-incident-window",
    "region-not-used-by-owner",
    "mining-instance-type",
    "mining-name",
    "new-admin",
    "recent-access-key",
    "aws-quarantine-policy",
    "open-to-internet",
)


@dataclass(frozen=True)
class Suspicion:
    window_start: datetime
    mining: MiningSigns  # rules/mining.toml
    home_regions: frozenset[str] = frozenset()
    named_ids: frozenset[str] = frozenset()  # instance ids and access key ids the AWS mail names


def incident_window(incident_start: datetime | None, now: datetime) -> datetime:
    return (incident_start or now) - WINDOW_BEFORE_ALERT


def reasons_for(r: Resource, s: Suspicion) -> tuple[str, ...]:
    reasons: list[str] = []
    names = {r.id, r.name, str(r.detail.get("key_name", ""))} - {""}
    if names & s.named_ids:
        reasons.append("named-in-aws-mail")
    when = r.created or as_utc(r.detail.get("last_modified"))
    recent = when is not None and when >= s.window_start
    if recent:
        reasons.append("recent-access-key" if r.resource_type == "access-key" else "created-in-incident-window")
    if r.region != GLOBAL and s.home_regions and r.region not in s.home_regions:
        reasons.append("region-not-used-by-owner")
    # Any collector may say what a resource runs on (instance types, comma-separated) or that it has a GPU.
    if r.detail.get("gpu") or s.mining.is_mining_type(str(r.detail.get("instance_type", ""))):
        reasons.append("mining-instance-type")
    if any(s.mining.names.search(n) for n in names):
        reasons.append("mining-name")
    if recent and r.resource_type in ("iam-user", "iam-role") and r.detail.get("admin"):
        reasons.append("new-admin")
    if r.detail.get("quarantine_policies"):
        reasons.append("aws-quarantine-policy")
    if r.resource_type == "security-group" and r.detail.get("all_ports_open"):
        reasons.append("open-to-internet")
    return tuple(reasons)


def judge(resources: Iterable[Resource], s: Suspicion) -> list[Resource]:
    out = []
    for r in resources:
        reasons = reasons_for(r, s)
        out.append(replace(r, suspicious=bool(reasons), reasons=reasons))
    return out
