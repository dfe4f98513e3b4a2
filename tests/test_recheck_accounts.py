"""Re-check of several accounts on moto's real server: `triage scan` checks an Organization (a mail names
its management account), the owner cleans one member and not the management account, and
`triage check-account --case` compares each account with its own last check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_server import AwsProxy, aws_environment, quiet_account_replies
from tests.mails import build, write_mbox
from tests.test_recheck import _triage  # the CLI run as a user would, with its exit code checked

CASE = "17100200377"
MANAGEMENT = "123456789012"  # moto's default account: the default credentials'
ROLE = "OrganizationAccountAccessRole"
REGION = "us-east-1"
AMI = "ami-12c6146b"


def _member_ec2(member: str) -> Any:
    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/{ROLE}",
                                            RoleSessionName="plant")["Credentials"]
    return boto3.client("ec2", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


@pytest.fixture()
def org(moto_server: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    moto_server.reset()
    with aws_environment(moto_server.url):
        boto3.client("organizations").create_organization(FeatureSet="ALL")
        member = boto3.client("organizations").create_account(
            AccountName="miner-target", Email="m@example.jp")["CreateAccountStatus"]["AccountId"]
        boto3.client("ec2", region_name=REGION).run_instances(ImageId=AMI, MinCount=2, MaxCount=2,
                                                            InstanceType="c5.4xlarge")
        miners = [i["InstanceId"] for i in _member_ec2(member).run_instances(
            ImageId=AMI, MinCount=3, MaxCount=3, InstanceType="g4dn.xlarge")["Instances"]]
    config = tmp_path / "config.toml"
    config.write_text(f'[aws]\nregions = ["{REGION}"]\nhome_regions = ["ap-northeast-1"]\n'
                      f'organization_role = "{ROLE}"\n', encoding="utf-8")
    config.chmod(0o600)
    mbox = write_mbox(tmp_path / "in.mbox", [_mail(1)])
    proxy = AwsProxy(moto_server.url, canned=quiet_account_replies())
    made = {"member": member, "miners": miners, "url": moto_server.url, "state": str(tmp_path / "state.db"),
            "config": str(config), "dir": tmp_path}
    try:
        with aws_environment(proxy.url):
            _triage(["scan", "--source", str(mbox), "--no-send", "--no-translate", "--json",
                     "--state", made["state"], "--config", made["config"]])
            yield made
    finally:
        proxy.stop()


def _mail(n: int) -> bytes:
    """The case's n-th mail from AWS, naming the management account. Dated a month ahead, so that the
    member account and its role, made today, are not "recent"."""
    later = datetime.now(UTC) + timedelta(days=30, hours=n)
    return build('"Amazon Web Services" <no-reply-aws@amazon.com>',
                 f"[CASE {CASE}] [ACTION REQUIRED] Your AWS account {MANAGEMENT} may be compromised",
                 f"We detected activity in your AWS account {MANAGEMENT} that suggests a third party has access.\n",
                 message_id=f"<case-{CASE}-{n}@support.amazon.com>", date=later)


def _recheck(made: dict[str, Any], *extra: str) -> str:
    return _triage(["check-account", "--case", CASE, "--state", made["state"], "--config", made["config"],
                    *extra])[1]


def test_the_recheck_compares_each_account_with_its_own_last_check(org: dict[str, Any]) -> None:
    with aws_environment(org["url"]):
        _member_ec2(org["member"]).terminate_instances(InstanceIds=org["miners"])  # the member is cleaned
    lines = [json.loads(line) for line in _recheck(org, "--json").splitlines()]
    assert lines and all(line.get("account_id") for line in lines), [ln for ln in lines if not ln.get("account_id")]
    progress = {line["account_id"]: line for line in lines if line["type"] == "progress"}
    assert set(progress) == {MANAGEMENT, org["member"]}
    member, management = progress[org["member"]], progress[MANAGEMENT]
    assert member["first"] is False and member["left"] == 0 and member["removed"] >= 3  # the miners are gone
    assert management["left"] >= 2 and management["removed"] == 0 and management["done"] is False

    text = _recheck(org)  # compared with the check just before: the member has nothing left, the other has
    compared = text.split("■ 前回の確認との比較\n", 1)[1]
    assert "アカウントごとに、前回の確認と比べました。" in compared
    own = compared.split(f"アカウント {MANAGEMENT}:\n", 1)[1]
    assert "まだ残っています" in own and "EC2 インスタンス 2 台: " in own
    assert f"片付いたアカウント（1 個）: {org['member']}。" in compared
    for miner in org["miners"]:
        assert miner not in compared


def test_a_new_mail_on_the_case_carries_the_comparison_of_each_account(org: dict[str, Any]) -> None:
    with aws_environment(org["url"]):
        _member_ec2(org["member"]).terminate_instances(InstanceIds=org["miners"])
    mbox = write_mbox(org["dir"] / "again.mbox", [_mail(1), _mail(2)])  # the first was seen: the second is new
    _, out = _triage(["scan", "--source", str(mbox), "--no-send", "--no-translate", "--state", org["state"],
                      "--config", org["config"]])
    assert "アカウントごとに、前回の確認と比べました。" in out, out
    assert f"アカウント {org['member']}:\n" not in out  # done: on the line of the done accounts only
    assert f"片付いたアカウント（1 個）: {org['member']}。" in out
    assert "まだ残っています" in out.split(f"アカウント {MANAGEMENT}:\n", 1)[1]
