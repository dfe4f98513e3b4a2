"""The sweep's clients on moto's real server: one botocore session and one client per service and region
for all the accounts reached from the same credentials, each call signed as the account that makes it
(observed through botocore's own event hooks and the keys the server saw), clients that copy
their session's handlers cheaply yet keep what they register to themselves, and no call to a region of
another partition (moto's DescribeRegions lists China and GovCloud as if the account had them)."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore
import botocore.session
import pytest
from botocore.exceptions import NoCredentialsError

from tests.aws_server import FAKE_ENV, AwsProxy, aws_environment, quiet_account_replies
from triage.account import AccountReport, AccountsReport, check_accounts
from triage.account.plan import allowed_operations, session_policy
from triage.account.session import Clients, open_session
from triage.config import AwsSettings, BillingSettings

ROLE = "OrganizationAccountAccessRole"
OTHER_PARTITIONS = ("cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1")


@dataclass(frozen=True)
class Swept:
    many: AccountsReport
    proxy: AwsProxy
    signers: dict[int, dict[tuple[str, str], set[int]]]  # session -> (service, region) -> request signers
    made: dict[int, int]  # session -> clients made from it


@pytest.fixture(scope="module")
def swept(moto_server: Any) -> Iterator[Swept]:
    """--all-accounts of an Organization with one member, every session and client watched."""
    moto_server.reset()
    with aws_environment(moto_server.url):
        org = boto3.client("organizations")
        org.create_organization(FeatureSet="ALL")
        org.create_account(AccountName="member", Email="member@example.jp")
    signers: dict[int, dict[tuple[str, str], set[int]]] = defaultdict(lambda: defaultdict(set))
    made: dict[int, int] = defaultdict(int)
    watching = [True]

    def watch(session: botocore.session.Session) -> None:
        if not watching[0]:
            return

        def called(model: Any, request_signer: Any, **_: Any) -> None:
            signers[id(session)][(model.service_model.service_name, request_signer.region_name)].add(
                id(request_signer))

        def creating(**_: Any) -> None:
            made[id(session)] += 1

        session.register("before-call", called)
        session.register("creating-client-class", creating)

    proxy = AwsProxy(moto_server.url, canned=quiet_account_replies())
    botocore.register_initializer(watch)
    try:
        with aws_environment(proxy.url):
            many = check_accounts(AwsSettings(organization_role=ROLE), BillingSettings(), all_accounts=True)
    finally:
        watching[0] = False
        botocore.unregister_initializer(watch)
        proxy.stop()
    yield Swept(many, proxy, signers, made)


def test_the_accounts_share_one_client_per_service_and_region(swept: Swept) -> None:
    reports = [r for r in swept.many.reports if isinstance(r, AccountReport)]
    assert len(reports) == 2 and all(len(r.regions_swept) > 10 for r in reports)
    calling = {s: pairs for s, pairs in swept.signers.items() if pairs}
    assert len(calling) == 1  # the management account's credentials, and the member reached with them
    (session, pairs), = calling.items()
    assert all(len(clients) == 1 for clients in pairs.values()), "a service and region had two clients"
    assert swept.made[session] == len(pairs)  # no client made that was not needed
    assert ("ec2", "eu-west-1") in pairs and ("sts", "us-east-1") in pairs


def test_each_call_is_signed_as_the_account_that_makes_it(swept: Swept) -> None:
    listing = [c for c in swept.proxy.calls if c.action == "ec2:DescribeInstances" and c.region == "eu-west-1"]
    keys = {c.key for c in listing}
    assert len(listing) == 2 and len(keys) == 2  # one listing per account, each with its own key
    assert FAKE_ENV["AWS_ACCESS_KEY_ID"] in keys  # the management account's
    member = next(r for r in swept.many.reports if isinstance(r, AccountReport) and r.account_id != "123456789012")
    assume = [c for c in swept.proxy.calls if c.action == "sts:AssumeRole"]
    assert assume and all(c.key == FAKE_ENV["AWS_ACCESS_KEY_ID"] for c in assume)
    who = [c for c in swept.proxy.calls if c.action == "sts:GetCallerIdentity"]
    assert {c.key for c in who} == keys  # STS said whose each key is, and the member's is the member's
    assert member.caller_arn.startswith(f"arn:aws:sts::{member.account_id}:assumed-role/{ROLE}/")


def test_a_shared_client_with_no_account_bound_has_no_credentials(moto_server: Any) -> None:
    with aws_environment(moto_server.url):
        shared = open_session(None, allowed_operations(), session_policy=session_policy(), shared=True)
        clients = Clients(shared)
        with pytest.raises(NoCredentialsError):
            clients.client("ec2", "eu-west-1").describe_key_pairs()  # it never falls back on other keys


def test_no_call_goes_to_a_region_of_another_partition(swept: Swept) -> None:
    called = {c.region for c in swept.proxy.calls}
    assert "af-south-1" in called and not called & set(OTHER_PARTITIONS)
    for report in swept.many.reports:
        assert isinstance(report, AccountReport) and report.plan is not None
        listed = {s.code for s in report.plan.regions}
        assert "eu-west-1" in listed and not listed & set(OTHER_PARTITIONS)
        assert not set(report.plan.skipped) & set(OTHER_PARTITIONS)  # not a gap either: not the account's


def test_a_configured_region_of_another_partition_is_still_tried(moto_server: Any) -> None:
    proxy = AwsProxy(moto_server.url, canned=quiet_account_replies())
    try:
        with aws_environment(proxy.url):
            many = check_accounts(AwsSettings(regions=("cn-north-1",)), BillingSettings())
    finally:
        proxy.stop()
    report = many.reports[0]
    assert isinstance(report, AccountReport) and report.plan is not None
    assert report.plan.swept == ("cn-north-1",)
    assert any(c.region == "cn-north-1" and c.action == "ec2:DescribeInstances" for c in proxy.calls)


def test_clients_keep_their_own_handlers_and_share_the_sessions(moto_server: Any) -> None:
    seen: dict[str, list[str]] = defaultdict(list)

    def heard(name: str) -> Any:
        return lambda model, request_signer, **_: seen[name].append(request_signer.region_name)

    with aws_environment(moto_server.url):
        session = open_session(None, allowed_operations(), session_policy=session_policy())
        before = heard("before")
        session.events.register("before-call.ec2", before)
        clients = Clients(session)
        west, east, south = (clients.client("ec2", r) for r in ("eu-west-1", "us-east-2", "ap-south-1"))
        west.meta.events.register("before-call.ec2", heard("west"))
        east.meta.events.unregister("before-call.ec2", before)
        session.events.register("before-call.ec2", heard("after"))
        later = clients.client("ec2", "ca-central-1")
        for client in (west, east, south, later):
            client.describe_key_pairs()
    assert seen["before"] == ["eu-west-1", "ap-south-1", "ca-central-1"]  # the session's, but where removed
    assert seen["west"] == ["eu-west-1"]  # a client's own stays its own
    assert seen["after"] == ["ca-central-1"]  # a client is a copy of its session as it was when made


def test_a_clients_copy_of_the_handlers_is_shared_until_written() -> None:
    session = open_session(None, allowed_operations(), session_policy=session_policy())
    tree = session._session.get_component("event_emitter")._emitter._handlers
    twin = copy.copy(tree)
    assert twin._root is tree._root  # not copied node by node
    twin.append_item("before-call.ec2.DescribeKeyPairs", print)
    assert twin._root is not tree._root
    assert list(tree.prefix_search("before-call.ec2.DescribeKeyPairs")).count(print) == 0
    assert list(twin.prefix_search("before-call.ec2.DescribeKeyPairs")).count(print) == 1
    twin.remove_item("before-call.ec2.DescribeKeyPairs", print)
    assert list(twin.prefix_search("before-call.ec2.DescribeKeyPairs")) == list(
        tree.prefix_search("before-call.ec2.DescribeKeyPairs"))
