"""Many accounts on moto's real server: an Organization with a management account and three members.

The intruder mines in one member (instances started through the role assumed into it); the role of
another member cannot be assumed (the proxy refuses AssumeRole for it); the third is clean. The tests
check that a mail naming the member is checked in that member and says so, that a mail naming an account
triage has no credentials for shows nothing of another account, that --all-accounts sweeps the others
when one role fails, that recently created member accounts are findings, and that every AssumeRole
moto received carried the read-only session policy and nothing mutating reached the server.
"""

from __future__ import annotations

import base64
import io
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.aws_server import AwsProxy, Fault, aws_environment, json_reply, recorded_calls
from tests.mails import build, write_mbox
from tests.scanning import Collected
from triage import paths
from triage.account import AccountNotChecked, AccountReport, AccountsReport, check_accounts, json_records
from triage.account.guard import is_read
from triage.account.plan import session_policy
from triage.cli import Environment, main
from triage.config import AccountAccess, AwsSettings, BillingSettings, Config
from triage.pipeline import ScanOptions, load_context, scan
from triage.services import services_from_config
from triage.sources import open_source
from triage.state import open_state

MANAGEMENT = "123456789012"  # moto's default account: the default credentials' account
ROLE = "OrganizationAccountAccessRole"
REGION = "us-east-1"
UNKNOWN = "404917256318"  # named by a mail; not in the Organization, no credentials configured
AMI = "ami-12c6146b"
MAIL_DATE = datetime(2026, 11, 10, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Org:
    mining: str  # the member the intruder mines in
    clean: str
    locked: str  # its role cannot be assumed
    miners: frozenset[str]  # instance ids in the mining member
    owner_instance: str  # the management account's own instance
    proxy: AwsProxy
    many: AccountsReport  # --all-accounts' check, made once
    recorded: tuple[Any, ...]  # what moto received during it


def _canned() -> dict[str, Any]:
    return {"lightsail:GetInstances": lambda c: json_reply({"instances": []}),
            "cloudtrail:LookupEvents": lambda c: json_reply({"Events": []}),
            "ce:GetCostForecast": lambda c: json_reply({"Total": {"Amount": "10", "Unit": "USD"}}),
            "account:GetContactInformation": lambda c: json_reply({"ContactInformation": {}}, rest=True)}


def _plant() -> tuple[list[str], frozenset[str], str]:
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    members = []
    for name in ("web", "miner-target", "legacy"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.jp")["CreateAccountStatus"]
        members.append(status["AccountId"])
    owner = boto3.client("ec2", region_name=REGION).run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro")["Instances"][0]["InstanceId"]
    # The intruder, inside the member through the Organization's role, starts GPU machines.
    creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{members[1]}:role/{ROLE}",
                                            RoleSessionName="intruder")["Credentials"]
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    answer = ec2.run_instances(ImageId=AMI, MinCount=3, MaxCount=3, InstanceType="g4dn.xlarge",
                               TagSpecifications=[{"ResourceType": "instance",
                                                   "Tags": [{"Key": "Name", "Value": "xmrig"}]}])
    return members, frozenset(i["InstanceId"] for i in answer["Instances"]), owner


def _aws(**extra: Any) -> AwsSettings:
    return AwsSettings(regions=(REGION,), home_regions=("ap-northeast-1",), organization_role=ROLE, **extra)


@pytest.fixture(scope="module")
def org(moto_server: Any) -> Iterator[Org]:
    moto_server.reset()
    with aws_environment(moto_server.url):
        members, miners, owner = _plant()
    web, mining, locked = members
    proxy = AwsProxy(moto_server.url, canned=_canned(), faults={
        "sts:AssumeRole": Fault("denied", body_contains=urllib.parse.quote(f"::{locked}:role", safe="").encode())})
    try:
        with aws_environment(proxy.url), moto_server.recording() as recorded:
            many = check_accounts(_aws(), BillingSettings(), all_accounts=True, rules_dir=paths.rules_dir())
        yield Org(mining, web, locked, miners, owner, proxy, many, tuple(recorded))
    finally:
        proxy.stop()


def _summary(proxy: AwsProxy, config: Config, tmp_path: Path, account: str, date: datetime = MAIL_DATE) -> str:
    """The summary `scan` writes for an AWS mail saying `account` may be compromised."""
    mail = build('"Amazon Web Services" <no-reply-aws@amazon.com>',
                 f"[CASE 17100200301] [ACTION REQUIRED] Your AWS account {account} may be compromised",
                 f"We detected activity in your AWS account {account} that suggests a third party has access.\n"
                 "Please change the root password, delete unknown IAM users and enable MFA.\n",
                 message_id="<case-17100200301-1@support.amazon.com>", date=date)
    mbox = write_mbox(tmp_path / "in.mbox", [mail])
    options = ScanOptions(no_send=True, no_translate=True)
    with aws_environment(proxy.url), open_state(":memory:") as state:
        services = services_from_config(config, options, {}, state=state)
        ctx = load_context(config, paths.rules_dir(), paths.templates_dir(), options, services)
        source = open_source(str(mbox), None, max_bytes=config.mail.max_bytes, rules_dir=paths.rules_dir(), env={})
        outcomes = Collected()
        scan(ctx, source, state, outcomes)
    [case] = [o for o in outcomes.cases if o.summary is not None]
    assert case.summary is not None
    return case.summary.text


def test_a_mail_naming_the_member_is_checked_in_that_member(org: Org, tmp_path: Path) -> None:
    text = _summary(org.proxy, Config(aws=_aws()), tmp_path, org.mining)
    assert f"AWS アカウント {org.mining} の中を確認しました" in text
    assert "組織（AWS Organizations）のメンバーアカウントです。" in text
    assert "EC2 インスタンス 3台（実行中 3）: g4dn.xlarge × 3" in text, text
    assert "暗号資産のマイニングによく使われる種類" in text
    assert org.owner_instance not in text  # nothing of the management account
    assert "確認したのはアカウント" not in text  # no "this was another account" caveat: it was this one


def test_configured_credentials_reach_the_named_account(org: Org) -> None:
    arn = f"arn:aws:iam::{org.mining}:role/triage-readonly"
    aws = AwsSettings(regions=(REGION,), accounts=((org.mining, AccountAccess(role_arn=arn)),))
    with aws_environment(org.proxy.url):
        many = check_accounts(aws, BillingSettings(), named_accounts=(org.mining,), rules_dir=paths.rules_dir())
    [report] = many.reports
    assert isinstance(report, AccountReport) and report.via == "role"
    assert report.account_id == org.mining
    assert {r.id for r in report.of_type("instance")} == set(org.miners)


def test_a_mail_naming_an_account_without_credentials_shows_no_other_account(org: Org, tmp_path: Path) -> None:
    text = _summary(org.proxy, Config(aws=_aws()), tmp_path, UNKNOWN)
    assert f"メールに書かれた AWS アカウント {UNKNOWN} の中は、確認していません。" in text
    assert "[aws.accounts]" in text
    assert f"いまの設定で入れるのは、別のアカウント {MANAGEMENT} です。" in text
    assert f'"{UNKNOWN}" = {{ profile = "プロファイル名" }}' in text
    assert "の中を確認しました" not in text  # no account's findings are presented
    assert org.owner_instance not in text and not any(i in text for i in org.miners)
    assert "■ お金のこと" not in text


def test_all_accounts_sweeps_the_members_and_names_the_one_not_reached(org: Org) -> None:
    many = org.many
    assert many.management_account == MANAGEMENT
    assert sorted(many.account_ids) == sorted({MANAGEMENT, org.mining, org.clean, org.locked})  # each once
    [locked] = many.not_checked
    assert locked.account_id == org.locked and locked.via == "organization"
    assert "cannot assume the role" in locked.reason
    assert [r.account_id for r in many.with_findings][:2] == [org.mining, MANAGEMENT]  # the miners first
    mining = many.report_for(org.mining)
    assert isinstance(mining, AccountReport)
    assert {r.id for r in mining.suspicious if r.resource_type == "instance"} == set(org.miners)
    clean = many.report_for(org.clean)
    assert isinstance(clean, AccountReport) and not clean.of_type("instance")


def test_recently_created_member_accounts_are_findings_of_the_management_account(org: Org) -> None:
    management = org.many.report_for(MANAGEMENT)
    assert isinstance(management, AccountReport)
    members = {r.id: r for r in management.of_type("organization-account")}
    assert set(members) == {org.mining, org.clean, org.locked}
    assert all("created-in-incident-window" in r.reasons for r in members.values())


def test_every_assume_role_carried_the_session_policy_and_nothing_mutating_reached_moto(org: Org) -> None:
    calls = recorded_calls(list(org.recorded))
    assume = [entry for entry, call in zip(org.recorded, calls, strict=True) if call.action == "sts:AssumeRole"]
    assert len(assume) == 2  # the mining and the clean member; the locked one was refused by the proxy
    for entry in assume:
        body = base64.b64decode(entry["body"]).decode() if entry.get("body_encoded") else entry["body"]
        form = urllib.parse.parse_qs(body)
        assert form["Policy"] == [session_policy()]
    others = {c.action for c in calls if c.action != "sts:AssumeRole"}
    assert others and all(is_read(a) for a in others), sorted(a for a in others if not is_read(a))


def test_json_lines_carry_the_account_and_the_summary_has_a_section_per_account(org: Org) -> None:
    records = json_records(org.many)
    assert records and all(r.get("account_id") for r in records)
    assert {r["account_id"] for r in records if r["type"] == "account"} == {MANAGEMENT, org.mining, org.clean}
    assert [r["account_id"] for r in records if r["type"] == "account-not-checked"] == [org.locked]
    miners = {r["id"] for r in records if r["type"] == "resource" and r["resource_type"] == "instance"
              and r["account_id"] == org.mining}
    assert miners == set(org.miners)


def test_the_summary_of_an_organization_has_a_section_per_account(org: Org, tmp_path: Path) -> None:
    # Naming the management account; the mail is dated so that the accounts made today are not "recent"
    # (moto makes each member's role with the member), so the clean member has nothing suspicious.
    later = datetime.now(UTC) + timedelta(days=30)
    text = _summary(org.proxy, Config(aws=_aws()), tmp_path, MANAGEMENT, later)
    assert "■ AWS アカウントごとの確認結果" in text
    assert f"組織（AWS Organizations）の管理アカウント {MANAGEMENT} から" in text
    first, second = text.index(f"AWS アカウント {org.mining} の中を確認しました"), text.index(
        f"AWS アカウント {MANAGEMENT} の中を確認しました")
    assert first < second  # the miners' account before the management account (its new member accounts)
    assert f"怪しいものが見つからなかったアカウント（1 個）: {org.clean}" in text
    assert f"アカウント {org.locked} は、確認できませんでした。組織のロール" in text


def test_check_account_all_accounts_prints_every_account(org: Org, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[aws]\nregions = ["{REGION}"]\norganization_role = "{ROLE}"\n')
    config.chmod(0o600)
    out, err = io.StringIO(), io.StringIO()
    with aws_environment(org.proxy.url):
        status = main(["check-account", "--all-accounts", "--json", "--config", str(config)],
                      Environment(stdout=out, stderr=err))
    assert status == 3, err.getvalue()  # the locked member could not be checked: a partial check
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["account_id"] for line in lines} == {MANAGEMENT, org.mining, org.clean, org.locked}


def test_all_accounts_needs_the_organization_role(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    config = tmp_path / "config.toml"
    config.write_text("")
    config.chmod(0o600)
    with aws_environment("http://127.0.0.1:9"):
        status = main(["check-account", "--all-accounts", "--config", str(config)], Environment(stdout=out, stderr=err))
    assert status != 0 and "organization_role" in err.getvalue()


def test_every_report_is_typed_and_names_its_account(org: Org) -> None:
    assert all(isinstance(r, AccountReport | AccountNotChecked) and r.account_id for r in org.many.reports)


def test_the_exposed_key_is_not_used_even_to_assume_a_role(org: Org) -> None:
    before = sum(c.action == "sts:AssumeRole" for c in org.proxy.calls)
    with aws_environment(org.proxy.url):
        many = check_accounts(_aws(), BillingSettings(), named_accounts=(org.mining,),
                              named_ids={"AKIAIOSFODNN7EXAMPLE"}, rules_dir=paths.rules_dir())
    [report] = many.reports
    assert isinstance(report, AccountNotChecked) and report.account_id == org.mining
    assert "the AWS mail names it as exposed" in report.reason
    assert sum(c.action == "sts:AssumeRole" for c in org.proxy.calls) == before


def _steps_block(text: str) -> str:
    return text.split("\n■ いますぐやること\n", 1)[1].split("\n■ ", 1)[0]


def test_the_plan_has_the_steps_of_each_account_under_its_name(org: Org, tmp_path: Path) -> None:
    later = datetime.now(UTC) + timedelta(days=30)  # as above: the clean member has nothing suspicious
    block = _steps_block(_summary(org.proxy, Config(aws=_aws()), tmp_path, MANAGEMENT, later))
    mining = f"\nアカウント {org.mining} で（怪しいもの 6 件）:\n"  # the 3 miners and their 3 volumes
    locked = f"\nアカウント {org.locked} で（確認できなかったアカウント）:\n"
    assert mining in block and locked in block, block
    management = f"\nアカウント {MANAGEMENT} で（怪しいもの "
    # the most suspicious first, then what could not be checked
    assert block.index(mining) < block.index(management) < block.index(locked)
    steps = block.split(mining, 1)[1].split("\nアカウント ", 1)[0]
    assert "米国東部 (バージニア北部)（us-east-1）: EC2 インスタンス 3 台を終了し、EBS ボリューム 3 個を削除" in steps
    assert org.owner_instance not in steps and "miner-target" not in steps  # the management account's own
    assert "ルートユーザーのパスワードを変更してください" in steps
    assert f"アカウント {org.clean} で" not in block  # a clean account has no steps, only its line
    assert f"怪しいものが見つからなかったアカウント（1 個: {org.clean}）では、やることはありません。" in block
    assert "組織のロール（[aws] organization_role）を引き受けられませんでした" in block.split(locked, 1)[1]
    after = block.split("\nすべてのアカウントで終わったら:\n", 1)[1]
    assert after.lstrip().startswith("1. 片付けが終わったら、AWS のサポートケースに英語で返信してください")
    assert block.count("triage check-account --case") == 1  # the reply and the re-check come once


def test_the_plan_of_an_organization_names_the_account_of_every_step(org: Org) -> None:
    from triage.account.remediation import build_accounts_plan, load_remediation_rules

    plan = build_accounts_plan(org.many, load_remediation_rules(paths.rules_dir()), case_id="c1")
    assert plan.accounts[0].account_id == org.mining  # the most suspicious first
    assert {s.account_id for s in plan.steps} <= {MANAGEMENT, org.mining, org.clean, org.locked, ""}
    mining = plan.of_account(org.mining)
    [region] = [s for s in mining if s.kind == "region"]
    assert region.region is not None and region.region.code == REGION
    assert [i.count for c in region.clauses for i in c.items if i.resource_type == "instance"] == [3]
    assert [s.kind for s in plan.of_account(org.locked)] == ["account-unchecked"]
    assert [s.kind for s in plan.after] == ["reply"] and not plan.of_kind("reply")[0].account_id
