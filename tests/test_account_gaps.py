"""What the check could not see is said, and the rest is still reported: AccessDenied and throttling
injected by the proxy in front of moto, a region list nobody may read, and checks that cannot start."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.aws_server import AwsProxy, Fault, aws_environment, json_reply
from tests.test_account_summary import render_case_summary
from triage.account import AccountReport, check_account, json_records
from triage.cli import Environment, main
from triage.config import AwsSettings, BillingSettings
from triage.errors import AwsCheckError

# Regions the attacked-account module leaves empty: this module adds to moto's account without a reset
# (a reset makes moto rebuild every region's backends, which is slow).
REGIONS = ("us-west-1", "eu-west-2", "ap-northeast-3")
CANNED = {
    "lightsail:GetInstances": lambda c: json_reply({"instances": []}),
    "ce:GetCostForecast": lambda c: json_reply({"Total": {"Amount": "10", "Unit": "USD"}}),
    "account:GetContactInformation": lambda c: json_reply({"ContactInformation": {}}, rest=True),
}


@pytest.fixture(scope="module")
def small_account(moto_server: Any) -> Iterator[Any]:
    with aws_environment(moto_server.url):
        boto3.client("ec2", region_name="eu-west-2").run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3)
        boto3.client("ec2", region_name="us-west-1").run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2)
        iam = boto3.client("iam")
        iam.create_user(UserName="alice")
        iam.create_access_key(UserName="alice")
    yield moto_server


@pytest.fixture(scope="module")
def denied_and_throttled(small_account: Any) -> Iterator[tuple[AccountReport, AwsProxy]]:
    proxy = AwsProxy(small_account.url, canned=dict(CANNED), faults={
        "ec2:DescribeVolumes": Fault("denied"),
        "lambda:ListFunctions": Fault("throttled", regions=frozenset({"eu-west-2"})),
        "ec2:DescribeInstances": Fault("throttled", times=1, regions=frozenset({"us-west-1"})),
        "iam:GetCredentialReport": Fault("denied"),
        "cloudtrail:LookupEvents": Fault("denied"),
        "ce:GetCostAndUsage": Fault("denied"),
        "organizations:ListAccounts": Fault("denied"),
    })
    try:
        with aws_environment(proxy.url):
            report = check_account(AwsSettings(regions=REGIONS, home_regions=("ap-northeast-3",)), BillingSettings())
        yield report, proxy
    finally:
        proxy.stop()


def test_denied_and_throttled_parts_are_gaps(denied_and_throttled: tuple[AccountReport, AwsProxy]) -> None:
    report, _ = denied_and_throttled
    gaps = {(g.region, g.what, g.kind) for g in report.gaps if g.kind not in ("excluded", "region-disabled")}
    assert gaps == {
        *((r, "ec2:DescribeVolumes", "access-denied") for r in REGIONS),
        ("eu-west-2", "lambda:ListFunctions", "throttled"),
        ("global", "iam:GetCredentialReport", "access-denied"),
        ("global", "ce:GetCostAndUsage", "access-denied"),
        ("global", "organizations:ListAccounts", "access-denied"),
        ("eu-west-2", "cloudtrail:LookupEvents", "access-denied"),
        ("us-west-1", "cloudtrail:LookupEvents", "access-denied"),
        ("us-east-1", "cloudtrail:LookupEvents", "access-denied"),  # where IAM's events are
    }


def test_the_rest_is_still_reported(denied_and_throttled: tuple[AccountReport, AwsProxy]) -> None:
    report, proxy = denied_and_throttled
    instances = [r for r in report.resources if r.resource_type == "instance"]
    assert sorted(r.region for r in instances) == ["eu-west-2"] * 3 + ["us-west-1"] * 2  # one throttle, retried
    assert sum(c.action == "ec2:DescribeInstances" and c.region == "us-west-1" for c in proxy.calls) == 2
    assert sum(c.action == "lambda:ListFunctions" and c.region == "eu-west-2" for c in proxy.calls) == 3
    user = next(r for r in report.resources if r.resource_type == "iam-user" and r.id == "alice")
    assert user.detail["console_password"] is None  # not known, not "no"
    assert any(r.resource_type == "access-key" for r in report.resources)
    assert report.root is not None and report.root.mfa is False
    assert not any(r.resource_type == "volume" for r in report.resources)


def test_unknown_is_never_reported_as_nothing(denied_and_throttled: tuple[AccountReport, AwsProxy]) -> None:
    report, _ = denied_and_throttled
    line = json_records(report)[-1]
    assert line["month_to_date_usd"] is None and line["forecast_usd"] is None
    assert not report.every_region_checked
    assert report.empty_regions == ()  # ap-northeast-1 holds nothing, but its volumes were not seen
    text = render_case_summary(report)
    assert "今月これまでの料金は、確認できませんでした。" in text
    assert "EBS ボリューム: 確認に使った権限では見られませんでした" in text
    assert "Lambda 関数: AWS の呼び出し回数の制限にかかり、見られませんでした" in text
    assert "誰が作ったか（CloudTrail イベント履歴）: 確認に使った権限では見られませんでした" in text
    assert "見られなかった部分はありません" not in text


def test_gap_lines_in_json(denied_and_throttled: tuple[AccountReport, AwsProxy]) -> None:
    records = json_records(denied_and_throttled[0])
    gaps = [r for r in records if r["type"] == "gap"]
    reason = "lambda:ListFunctions was throttled by AWS and retries ran out (TooManyRequestsException)"
    assert {"type": "gap", "region": "eu-west-2", "service": "lambda", "reason": reason} in gaps
    excluded = [g for g in gaps if g["service"] == "all"]
    assert excluded and all("not in the configured regions" in g["reason"] or "not enabled" in g["reason"]
                            for g in excluded)


def test_a_region_list_nobody_may_read_falls_back_to_botocore(small_account: Any) -> None:
    proxy = AwsProxy(small_account.url, canned=dict(CANNED), faults={
        "account:ListRegions": Fault("denied"), "ec2:DescribeRegions": Fault("denied")})
    try:
        with aws_environment(proxy.url):
            report = check_account(AwsSettings(regions=("eu-west-2",)), BillingSettings())
    finally:
        proxy.stop()
    assert report.plan is not None and report.plan.source == "botocore"
    assert report.regions_swept == ("eu-west-2",)
    assert [g.what for g in report.global_gaps if g.service == "account"] == ["account:ListRegions"]
    assert len([r for r in report.resources if r.resource_type == "instance"]) == 3


def test_a_complete_check_says_so(small_account: Any) -> None:
    listed = [{"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"} for r in REGIONS]
    proxy = AwsProxy(small_account.url, canned={
        **CANNED,
        "account:ListRegions": lambda c: json_reply({"Regions": listed}, rest=True),
        "cloudtrail:LookupEvents": lambda c: json_reply({"Events": []}),
        # moto keeps earlier answers per request; this account has spent nothing this month
        "ce:GetCostAndUsage": lambda c: json_reply({"ResultsByTime": [{"Groups": [], "Estimated": True}]}),
    })
    out = io.StringIO()
    try:
        with aws_environment(proxy.url):
            report = check_account(AwsSettings(), BillingSettings())
            status = main(["check-account"], Environment(stdout=out, stderr=io.StringIO(), environ={}))
    finally:
        proxy.stop()
    assert status == 0  # only a check that saw everything exits 0
    assert report.plan is not None and report.plan.source == "account:ListRegions"
    assert report.gaps == () and report.every_region_checked
    assert sorted(report.regions_swept) == sorted(REGIONS)
    assert [n.code for n in report.empty_regions] == ["ap-northeast-3"]
    text = render_case_summary(report)
    assert "すべてのリージョン（3 か所）と IAM を、最後まで確認できました。見られなかった部分はありません。" in text
    assert "アジアパシフィック (大阪)" in text  # named among the regions checked and found empty
    assert out.getvalue().rstrip().splitlines()[-1] == (
        "Every region was checked (3 regions), and IAM and cost too: nothing was left out.")


# --- a check that must not start ----------------------------------------------------------------


def test_the_key_the_mail_names_as_exposed_is_not_used(small_account: Any) -> None:
    with aws_environment(small_account.url), pytest.raises(AwsCheckError, match="names it as exposed"):
        check_account(AwsSettings(regions=("eu-west-2",)), BillingSettings(),
                      named_ids={os.environ["AWS_ACCESS_KEY_ID"]})


def test_gap_kinds_are_ones_the_summary_can_say(denied_and_throttled: tuple[AccountReport, AwsProxy]) -> None:
    from triage.account.records import GAP_KINDS

    report, _ = denied_and_throttled
    assert {"access-denied", "throttled"} <= {g.kind for g in report.gaps} <= set(GAP_KINDS)
