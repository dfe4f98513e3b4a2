"""Why a resource may not be the owner's: each resource gets `suspicious` and the reasons, as codes.

The codes are what `--json` prints and what the templates turn into Japanese; this module knows no
Japanese. The incident window starts a week before the first alert (attackers often act days before
AWS writes), or a week before now when the check runs on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from triage.account.records import GLOBAL, Resource
from triage.account.tags_and_times import as_utc

WINDOW_BEFORE_ALERT = timedelta(days=7)

# GPU and accelerator families: what miners rent first, and what AWS's quarantine policy for leaked keys
# keeps them from starting. Any size counts, and a bare family too (Batch takes "g4dn"). A test checks
# this against every family EC2's instance-type data (moto's copy) gives a GPU, Neuron or FPGA.
GPU_FAMILIES = frozenset({
    "p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200",
    "g3", "g3s", "g4dn", "g4ad", "g5", "g5g", "g6", "g6e", "g6f", "gr6", "gr6f", "g7", "g7e",
    "dl1", "dl2q", "trn1", "trn1n", "trn2", "trn2u", "inf1", "inf2", "f1", "f2",
})
# CPU mining (Monero's RandomX) wants many cores: compute-optimized families from this size up.
_BIG_COMPUTE = re.compile(r"^c\d+[a-z]*\.(\d+)xlarge$")
_BIG_COMPUTE_MIN = 4
MINING_NAMES = re.compile(
    r"xmrig|xmr|monero|miner|mining|nicehash|ethminer|c3pool|nanopool|2miners|hashvault|minexmr|kinsing|"
    r"lolminer|phoenixminer|nbminer|gminer|t-rex",
    re.I,
)

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
    home_regions: frozenset[str] = frozenset()
    named_ids: frozenset[str] = frozenset()  # instance ids and access key ids the AWS mail names


def incident_window(incident_start: datetime | None, now: datetime) -> datetime:
    return (incident_start or now) - WINDOW_BEFORE_ALERT


def is_mining_type(instance_type: str) -> bool:
    for one in instance_type.split(","):
        one = one.strip().removeprefix("ml.")
        family = one.partition(".")[0]
        if family in GPU_FAMILIES:
            return True
        big = _BIG_COMPUTE.match(one)
        if big and int(big.group(1)) >= _BIG_COMPUTE_MIN:
            return True
    return False


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
    if r.detail.get("gpu") or is_mining_type(str(r.detail.get("instance_type", ""))):
        reasons.append("mining-instance-type")
    if any(MINING_NAMES.search(n) for n in names):
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
