"""`triage check-account` exit statuses scripts can trust (0 only when everything was seen, 3 when any
part was not), and its progress on a terminal: regions read of the total."""

from __future__ import annotations

import io
from typing import Any

from tests.aws_server import AwsProxy, Fault, aws_environment, json_reply
from tests.test_cli_options import Terminal
from triage.cli import Environment, main
from triage.errors import ExitStatus

REGIONS = ("us-west-1", "eu-west-2", "ap-northeast-3")
CANNED = {
    "lightsail:GetInstances": lambda c: json_reply({"instances": []}),
    "ce:GetCostForecast": lambda c: json_reply({"Total": {"Amount": "10", "Unit": "USD"}}),
    "account:GetContactInformation": lambda c: json_reply({"ContactInformation": {}}, rest=True),
    "account:ListRegions": lambda c: json_reply(
        {"Regions": [{"RegionName": r, "RegionOptStatus": "ENABLED_BY_DEFAULT"} for r in REGIONS]}, rest=True),
    "cloudtrail:LookupEvents": lambda c: json_reply({"Events": []}),
    "ce:GetCostAndUsage": lambda c: json_reply({"ResultsByTime": [{"Groups": [], "Estimated": True}]}),
}


def _check_account(moto_server: Any, stderr: io.StringIO, **faults: Fault) -> tuple[int, str]:
    proxy = AwsProxy(moto_server.url, canned=dict(CANNED), faults=dict(faults))
    out = io.StringIO()
    try:
        with aws_environment(proxy.url):
            status = main(["check-account"], Environment(stdout=out, stderr=stderr, environ={}))
    finally:
        proxy.stop()
    return status, out.getvalue()


def test_a_complete_check_exits_0_and_shows_regions_read_on_a_terminal(moto_server: Any) -> None:
    err = Terminal()
    status, out = _check_account(moto_server, err)
    assert status == ExitStatus.OK, err.getvalue()
    assert out.rstrip().splitlines()[-1].startswith("Every region was checked (3 regions)")
    assert "3 of 3 regions read" in err.getvalue()
    assert err.getvalue().endswith("\r\x1b[K")


def test_one_account_wide_gap_is_exit_3(moto_server: Any) -> None:
    err = io.StringIO()
    status, out = _check_account(moto_server, err, **{"iam:GetCredentialReport": Fault("denied")})
    assert status == ExitStatus.PARTIAL_CHECK == 3
    assert "account-wide part(s) could not be checked" in out.rstrip().splitlines()[-1]
    assert "regions read" not in err.getvalue()  # not a terminal: no progress


def test_one_region_read_in_part_is_exit_3(moto_server: Any) -> None:
    status, out = _check_account(moto_server, io.StringIO(),
                                 **{"ec2:DescribeVolumes": Fault("denied", regions=frozenset({"eu-west-2"}))})
    assert status == 3
    assert "NOT everything was checked" in out.rstrip().splitlines()[-1]
