"""A dormant account gets the advice to close it (issue 11, section 4), on moto's real server: Cost
Explorer's earlier months show no spend of the owner's own and everything found is the intruder's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from tests.aws_server import AwsProxy, aws_environment, quiet_account_replies
from tests.test_account_summary import render_case_summary
from triage.account import AccountReport, check_account
from triage.account.collectors.costexplorer import months_before
from triage.account.records import Resource
from triage.config import AwsSettings, BillingSettings

HOME = "ap-northeast-1"
REGIONS = (HOME, "us-east-1")


def _month_results(amounts: list[float]) -> dict[str, Any]:
    """Cost Explorer's answer for the earlier months' totals (no grouping), oldest month first."""
    first = date.today().replace(day=1)
    start = months_before(first, len(amounts))
    periods = []
    for amount in amounts:
        end = months_before(start, -1)
        periods.append({"TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                        "Total": {"UnblendedCost": {"Amount": str(amount), "Unit": "USD"}},
                        "Groups": [], "Estimated": False})
        start = end
    return {"ResultsByTime": periods, "DimensionValueAttributes": []}


def _grouped(amounts: dict[str, float]) -> dict[str, Any]:
    first = date.today().replace(day=1)
    return {"ResultsByTime": [{
        "TimePeriod": {"Start": first.isoformat(), "End": date.today().isoformat()}, "Total": {},
        "Groups": [{"Keys": [k], "Metrics": {"UnblendedCost": {"Amount": str(v), "Unit": "USD"}}}
                   for k, v in amounts.items()],
        "Estimated": True}], "DimensionValueAttributes": []}


def _check(moto_server: Any, earlier: list[float]) -> AccountReport:
    moto_server.reset()
    with aws_environment(moto_server.url):
        boto3.client("ec2", region_name="us-east-1").run_instances(
            ImageId="ami-12c6146b", MinCount=6, MaxCount=6, InstanceType="c5.4xlarge")
        iam = boto3.client("iam")
        iam.create_user(UserName="backup-admin")
        iam.attach_user_policy(UserName="backup-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        iam.create_access_key(UserName="backup-admin")
    # The check asks by service, then by region, then the earlier months; moto answers from the queue in order.
    moto_server.set_cost_results([_grouped({"Amazon Elastic Compute Cloud - Compute": 2400.0}),
                                  _grouped({"us-east-1": 2400.0}), _month_results(earlier)])
    proxy = AwsProxy(moto_server.url, canned=quiet_account_replies())
    try:
        with aws_environment(proxy.url):
            return check_account(AwsSettings(regions=REGIONS, home_regions=(HOME,)),
                                 BillingSettings(jpy_per_usd=150.0),
                                 incident_start=datetime.now(UTC) - timedelta(hours=2))
    finally:
        proxy.stop()


def _steps(report: object) -> list[str]:
    text = render_case_summary(report)
    block = text.split("\n■ いますぐやること\n", 1)[1].split("\n■ ", 1)[0]
    return [line for line in block.splitlines() if re.match(r"\d+\. ", line)]


@pytest.fixture(scope="module")
def dormant(moto_server: Any) -> Iterator[AccountReport]:
    yield _check(moto_server, [0.0, 0.0, 0.0, 0.12, 0.0, 0.0])


def test_the_earlier_months_are_read_from_cost_explorer(dormant: AccountReport) -> None:
    assert dormant.cost is not None and dormant.cost.earlier is not None
    assert [usd for _, usd in dormant.cost.earlier] == [0.0, 0.0, 0.0, 0.12, 0.0, 0.0]
    assert dormant.cost.earlier[-1][0] == months_before(date.today().replace(day=1), 1).isoformat()


def test_a_dormant_account_is_advised_to_close_once_the_case_is_settled(dormant: AccountReport) -> None:
    lines = _steps(dormant)
    last = lines[-1]
    assert "AWS とのケースが解決したあとで、アカウントを閉じてください" in last
    # Only the months that ended before the incident window count (the window may begin last month).
    assert dormant.cost is not None and dormant.cost.earlier is not None
    window = dormant.window_start.date()
    counted = [usd for start, usd in dormant.cost.earlier
               if months_before(date.fromisoformat(start), -1) <= window]
    assert len(counted) in (5, 6)
    assert f"今回の件より前の {len(counted)} か月間の料金が合わせて 0.12ドル" in last
    assert "Billing and Cost Management の [アカウント] で [アカウントを閉じる] を選びます" in last
    assert "90 日間" in last and "請求は届きます" in last
    assert "https://console.aws.amazon.com/billing/home#/account" in last
    assert "triage check-account --case" in lines[-2]  # after the reply and the re-check


def test_an_account_with_its_own_resource_is_not_advised_to_close(dormant: AccountReport) -> None:
    own = Resource(region=HOME, service="ec2", resource_type="instance", id="i-0owner", state="running")
    lines = _steps(replace(dormant, resources=(*dormant.resources, own)))
    assert not any("アカウントを閉じる" in line for line in lines)


def test_an_account_with_its_own_earlier_spend_is_not_advised_to_close(moto_server: Any) -> None:
    used = _check(moto_server, [38.5, 41.0, 40.2, 39.9, 42.7, 40.0])
    assert used.suspicious  # the same intruder's resources
    lines = _steps(used)
    assert "triage check-account --case" in lines[-1]
    assert not any("アカウントを閉じる" in line for line in lines)


def test_without_the_earlier_months_no_advice_is_guessed(dormant: AccountReport) -> None:
    assert dormant.cost is not None
    lines = _steps(replace(dormant, cost=replace(dormant.cost, earlier=None)))
    assert not any("アカウントを閉じる" in line for line in lines)
