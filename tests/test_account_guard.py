"""Read-only, proved: the guard refuses writes before they leave the process, every call triage can make
is a read and is in contrib/iam-policy.json, and a refused call fails the run (exit 1)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.model import OperationNotFoundError

from tests.aws_server import AwsProxy, aws_environment, json_reply
from triage.account import check_account
from triage.account.collectors import COLLECTORS
from triage.account.guard import install_guard, is_read
from triage.account.plan import all_calls, allowed_operations, policy_json
from triage.account.session import Clients, open_session
from triage.config import AwsSettings, BillingSettings
from triage.errors import RefusedAwsCall

POLICY = Path(__file__).resolve().parent.parent / "contrib" / "iam-policy.json"


@pytest.mark.parametrize("action", [
    "ec2:DescribeInstances", "iam:ListAccessKeys", "iam:GetAccountSummary", "cloudtrail:LookupEvents",
    "iam:GenerateCredentialReport",
])
def test_reads_pass(action: str) -> None:
    assert is_read(action)


@pytest.mark.parametrize("action", [
    "ec2:RunInstances", "ec2:TerminateInstances", "ec2:StopInstances", "iam:CreateUser", "iam:DeleteAccessKey",
    "iam:AttachUserPolicy", "ec2:RequestSpotInstances", "ec2:CancelSpotInstanceRequests", "iam:UpdateAccessKey",
    "ec2:GetPasswordData", "sts:GetSessionToken", "lambda:GetFunction", "ec2:ModifyInstanceAttribute",
])
def test_writes_and_secret_reads_are_refused(action: str) -> None:
    assert not is_read(action)


def _one_instance(moto_server: Any) -> str:
    with aws_environment(moto_server.url):
        return str(boto3.client("ec2", region_name="eu-west-1").run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"])


def _still_running(moto_server: Any, instance: str) -> bool:
    with aws_environment(moto_server.url):
        state = boto3.client("ec2", region_name="eu-west-1").describe_instances(InstanceIds=[instance])
    return bool(state["Reservations"][0]["Instances"][0]["State"]["Name"] == "running")


def test_the_guard_stops_a_write_before_it_reaches_aws(moto_server: Any) -> None:
    instance = _one_instance(moto_server)
    proxy = AwsProxy(moto_server.url)
    try:
        with aws_environment(proxy.url), moto_server.recording() as recorded:
            session = boto3.Session()  # full service models: only the guard stands in the way
            install_guard(session.events)
            ec2 = session.client("ec2", region_name="eu-west-1")
            with pytest.raises(RefusedAwsCall, match="ec2:TerminateInstances"):
                ec2.terminate_instances(InstanceIds=[instance])
            with pytest.raises(RefusedAwsCall, match="iam:CreateUser"):
                session.client("iam").create_user(UserName="intruder")
            ec2.describe_instances()  # reads still go through
    finally:
        proxy.stop()
    assert [c.action for c in proxy.calls] == ["ec2:DescribeInstances"]
    assert len(recorded) == 1
    assert _still_running(moto_server, instance)


def test_the_checks_clients_have_no_write_methods_and_carry_the_guard(moto_server: Any) -> None:
    instance = _one_instance(moto_server)
    proxy = AwsProxy(moto_server.url)
    try:
        with aws_environment(proxy.url), moto_server.recording() as recorded:
            session = open_session(None, allowed_operations())
            ec2 = Clients(session).client("ec2", "eu-west-1")
            assert not hasattr(ec2, "terminate_instances") and not hasattr(ec2, "run_instances")
            with pytest.raises(OperationNotFoundError):
                ec2._make_api_call("TerminateInstances", {"InstanceIds": [instance]})
            terminate = botocore.session.get_session().get_service_model("ec2").operation_model("TerminateInstances")
            with pytest.raises(RefusedAwsCall):  # the guard is on the session too, for any client made from it
                session.events.emit("before-call.ec2.TerminateInstances", model=terminate, params={})
            ec2.describe_instances()
    finally:
        proxy.stop()
    assert [c.action for c in proxy.calls] == ["ec2:DescribeInstances"] and len(recorded) == 1
    assert _still_running(moto_server, instance)


def test_the_iam_policy_allows_exactly_the_calls_triage_can_make() -> None:
    """contrib/iam-policy.json is generated from the collectors' declarations; regenerate it with
    TRIAGE_UPDATE_POLICY=1 pytest tests/test_account_guard.py after adding a collector."""
    generated = policy_json()
    if os.environ.get("TRIAGE_UPDATE_POLICY"):
        POLICY.write_text(generated, encoding="utf-8")
    policy = json.loads(POLICY.read_text())
    allowed = {a for s in policy["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    assert allowed == all_calls(), "regenerate contrib/iam-policy.json: TRIAGE_UPDATE_POLICY=1 pytest " + __file__
    assert POLICY.read_text(encoding="utf-8") == generated
    assert all(is_read(a) for a in allowed), "the policy must stay read-only"
    assert not any("*" in a for a in allowed)


def test_every_declared_call_is_a_real_aws_operation_of_its_service() -> None:
    session = botocore.session.get_session()
    for collector in COLLECTORS:
        model = session.get_service_model(collector.service)
        for action in collector.calls:
            prefix, operation = action.split(":")
            assert prefix == model.signing_name, action  # IAM's prefix is the service's signing name
            assert operation in model.operation_names, action
    for action in all_calls():
        prefix, operation = action.split(":")
        assert operation in session.get_service_model(prefix).operation_names, action


def test_every_collectors_client_carries_the_guard_and_has_only_its_declared_calls(moto_server: Any) -> None:
    with aws_environment(moto_server.url):
        session = open_session(None, allowed_operations())
        clients = Clients(session)
        full = botocore.session.get_session()
        for collector in COLLECTORS:
            region = "global" if not collector.regional else "eu-west-1"
            client = clients.client(collector.service, region)
            kept = set(client.meta.service_model.operation_names)
            assert kept == {call.split(":")[1] for call in all_calls() if call.startswith(f"{collector.service}:")}
            model = full.get_service_model(collector.service)
            write = next(name for name in model.operation_names if not is_read(f"{model.signing_name}:{name}"))
            with pytest.raises(RefusedAwsCall):
                client.meta.events.emit(f"before-call.{model.service_name}.{write}",
                                        model=model.operation_model(write), params={})


def test_a_sweep_calls_only_what_is_declared(moto_server: Any) -> None:
    """The declared list (and so the policy) cannot fall behind the code: a sweep calls nothing else."""
    with aws_environment(moto_server.url):
        boto3.client("ec2", region_name="us-east-1").run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
        iam = boto3.client("iam")
        iam.create_user(UserName="someone")
        iam.create_access_key(UserName="someone")
    proxy = AwsProxy(moto_server.url, canned={
        "lightsail:GetInstances": lambda c: json_reply({"instances": []}),
        "cloudtrail:LookupEvents": lambda c: json_reply({"Events": []}),
        "ce:GetCostForecast": lambda c: json_reply({"Total": {"Amount": "1", "Unit": "USD"}}),
        "account:GetContactInformation": lambda c: json_reply({"ContactInformation": {}}, rest=True),
    })
    try:
        with aws_environment(proxy.url):
            check_account(AwsSettings(regions=("us-east-1",)), BillingSettings())
    finally:
        proxy.stop()
    called = proxy.actions()
    assert called <= all_calls(), called - all_calls()
    assert {"ec2:DescribeInstances", "iam:ListAccessKeys", "cloudtrail:LookupEvents", "ce:GetCostAndUsage",
            "account:ListRegions", "ec2:DescribeRegions", "lightsail:GetInstances"} <= called
