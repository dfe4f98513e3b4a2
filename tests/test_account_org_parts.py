"""The parts of the many-accounts check on their own: [aws.accounts] and organization_role in the config,
the session policy AssumeRole carries (derived from the same declarations as contrib/iam-policy.json, and
within AWS's size limit), the guard refusing AssumeRole without it, and one pool shared by accounts with a
limit per account and per region of each account."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.aws_server import aws_environment
from triage.account.plan import SESSION_POLICY_MAX_CHARS, all_calls, allowed_operations, session_policy
from triage.account.records import Resource
from triage.account.session import open_session
from triage.account.sweep import AccountWork, Scope, Task, TaskResult, sweep_accounts
from triage.config import AccountAccess, parse_config
from triage.errors import ConfigError, RefusedAwsCall

ROOT = Path(__file__).resolve().parent.parent


def test_accounts_and_organization_role_are_read_from_the_config() -> None:
    config = parse_config({"aws": {
        "organization_role": "OrganizationAccountAccessRole",
        "accounts": {"404917256318": {"profile": "old-personal"},
                     "555566667777": {"role_arn": "arn:aws:iam::555566667777:role/triage-readonly"}},
    }})
    assert config.aws.organization_role == "OrganizationAccountAccessRole"
    assert config.aws.access_for("404917256318") == AccountAccess(profile="old-personal")
    arn = "arn:aws:iam::555566667777:role/triage-readonly"
    assert config.aws.access_for("555566667777") == AccountAccess(role_arn=arn)
    assert config.aws.access_for("111122223333") is None


@pytest.mark.parametrize(("aws", "message"), [
    ({"accounts": {"1234": {"profile": "x"}}}, "must be 12 digits"),
    ({"accounts": {"404917256318": {"profile": "x", "role_arn": "arn:aws:iam::404917256318:role/r"}}}, "either"),
    ({"accounts": {"404917256318": {"role": "x"}}}, "either"),
    ({"accounts": {"404917256318": {"role_arn": "triage-readonly"}}}, "is not an IAM role ARN"),
    ({"accounts": {"404917256318": {"role_arn": "arn:aws:iam::555566667777:role/r"}}}, "not of 404917256318"),
    ({"organization_role": "arn:aws:iam::555566667777:role/r"}, "must be a role name"),
])
def test_bad_account_settings_are_refused_with_the_key_named(aws: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"aws": aws})


def test_the_session_policy_allows_exactly_the_declared_reads_and_fits_assume_role() -> None:
    text = session_policy()
    assert len(text) <= SESSION_POLICY_MAX_CHARS
    policy = json.loads(text)
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow" and set(statement["Action"]) == all_calls()
    assert "sts:AssumeRole" not in statement["Action"]  # no role chaining from inside a member account
    shipped = json.loads((ROOT / "contrib" / "iam-policy.json").read_text())
    assert policy == shipped  # the same policy, compact


def test_the_member_trust_policy_example_trusts_the_management_account_only() -> None:
    trust = json.loads((ROOT / "contrib" / "member-trust-policy.json").read_text())
    [statement] = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRole" and statement["Effect"] == "Allow"
    assert statement["Principal"]["AWS"].startswith("arn:aws:iam::")


def test_assume_role_without_the_session_policy_is_refused_before_it_is_sent() -> None:
    with aws_environment("http://127.0.0.1:9"):  # nothing listens: a request sent would fail differently
        session = open_session(None, allowed_operations(), session_policy=session_policy())
        sts = session.client("sts", region_name="us-east-1")
        with pytest.raises(RefusedAwsCall, match="session policy"):
            sts.assume_role(RoleArn="arn:aws:iam::555566667777:role/admin", RoleSessionName="x")
        with pytest.raises(RefusedAwsCall, match="session policy"):
            sts.assume_role(RoleArn="arn:aws:iam::555566667777:role/admin", RoleSessionName="x",
                            Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')


class Meter:
    """Counts tasks running at once: in all, per account, and per region of an account."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[object] = Counter()
        self.high: Counter[object] = Counter()

    def _enter(self, *keys: object) -> None:
        with self.lock:
            for key in keys:
                self.now[key] += 1
                self.high[key] = max(self.high[key], self.now[key])

    def _leave(self, *keys: object) -> None:
        with self.lock:
            for key in keys:
                self.now[key] -= 1

    def task(self, region: str, n: int) -> Task:
        def run(scope: Scope) -> TaskResult:
            keys = ("all", scope.account_id, (scope.account_id, region))
            self._enter(*keys)
            time.sleep(0.02)
            self._leave(*keys)
            return TaskResult(resources=(Resource(region, "test", "instance", f"{scope.account_id}-{region}-{n}"),))

        return Task(region, "test", f"test:List{n}", run)


def test_accounts_share_one_pool_with_a_limit_per_account_and_per_region() -> None:
    meter = Meter()
    work = [AccountWork(account, None, tuple(meter.task(r, n) for r in ("r1", "r2", "r3") for n in range(8)))  # type: ignore[arg-type]
            for account in ("111111111111", "222222222222", "333333333333")]
    found = sweep_accounts(work, max_in_flight=12, per_account=5, per_region=2, seed=3)
    assert {a: len(r.resources) for a, r in found.items()} == {w.account_id: 24 for w in work}
    assert all(r.id.startswith(a) for a, result in found.items() for r in result.resources)  # each its own
    assert 5 < meter.high["all"] <= 12  # more than one account's worth at once, within the pool
    assert max(meter.high[w.account_id] for w in work) <= 5
    assert max(v for k, v in meter.high.items() if isinstance(k, tuple)) <= 2


def test_follow_up_tasks_stay_in_their_account() -> None:
    meter = Meter()

    def discover(scope: Scope) -> TaskResult:
        return TaskResult(more=(meter.task("r9", 0),))

    work = [AccountWork(a, None, (Task("global", "test", "test:Discover", discover),))  # type: ignore[arg-type]
            for a in ("111111111111", "222222222222")]
    found = sweep_accounts(work)
    assert {a: [r.id for r in f.resources] for a, f in found.items()} == {
        "111111111111": ["111111111111-r9-0"], "222222222222": ["222222222222-r9-0"]}
